"""One persona's session: make sure the account is there and logged in, take the planned entry
point's journey, then the extras the plan asks for (plan change, support ticket)."""

from __future__ import annotations

from flows import registry
from flows.driver import Site
from flows.journey import Session
from flows.outcome import SessionOutcome
from flows.pages import (
    AccountPage,
    HomePage,
    LoginPage,
    ProfilesPage,
    SearchPage,
    SignupPage,
    SupportPage,
)
from flows.site_errors import UnexpectedPage
from personas.enums import ErrorPath
from personas.identity import password_for
from personas.plans import Identity

__all__ = ["Session", "ensure_account", "pick_profile", "run_deletion", "run_session", "take_error_path"]


def profile_name(identity: Identity) -> str:
    """The viewing profile a persona creates and picks on sites with a profile picker."""
    return (
        "Viewer " + identity.distinct_id.split("_")[1] if identity.distinct_id.count("_") >= 2 else "Viewer"
    )


async def pick_profile(site: Site, identity: Identity) -> None:
    """On a site with a profile picker, choose (or create) the persona's profile when it shows."""
    picker = ProfilesPage(site)
    if site.profile.supports("profile_picker") and await picker.here():
        async with site.hooks.step("profile"):
            await picker.choose(profile_name(identity))
        await HomePage(site).ready()


async def ensure_account(site: Site, identity: Identity, *, signup: bool, outcome: SessionOutcome) -> None:
    """Land on the home page logged in: reuse the stored session, else sign up or log in via the UI."""
    site.viewer = profile_name(identity)
    async with site.hooks.step("home"):
        home = await HomePage(site).open()
    await pick_profile(site, identity)
    if await home.is_logged_in():
        return
    password = password_for(identity.distinct_id)
    if not signup:
        async with site.hooks.step("login"):
            if await LoginPage(site).login(identity.email, password):
                outcome.logged_in = True
                await pick_profile(site, identity)
                return
        # The account is gone (e.g. the site's data was reset): a real user would sign up again.
    try:
        async with site.hooks.step("signup"):
            await SignupPage(site).signup(identity.email, password, identity.plan.value)
    except UnexpectedPage:
        # The account already exists (a run killed after signing up, before the state was folded):
        # log in instead of failing the persona forever.
        async with site.hooks.step("login"):
            if not await LoginPage(site).login(identity.email, password):
                raise
        outcome.logged_in = True
        await pick_profile(site, identity)
        return
    outcome.signed_up = True
    await pick_profile(site, identity)


async def take_error_path(session: Session) -> None:
    """Mistakes real users make (the plan's error path, docs/behaviour.md). None fails the session."""
    site, path = session.site, session.plan.error_path
    session.outcome.error_path_taken = path.value if path else None
    async with site.hooks.step(f"error_{path.value if path else 'none'}"):
        if path is ErrorPath.DEAD_LINK and site.profile.paths.dead_link is not None:
            await site.goto(site.path("dead_link"))
        elif path is ErrorPath.WRONG_PASSWORD and not await HomePage(site).is_logged_in():
            await LoginPage(site).login(session.identity.email, "wrong-" + session.identity.distinct_id)
        elif site.profile.supports("search_page"):
            page = await SearchPage(site).open()
            await page.search(_typo(session.plan.search_query or "documentary"))
        else:
            session.substitute(f"error_{path.value if path else 'none'}", "none")


def _typo(text: str) -> str:
    # A deterministic fat-finger: swap the middle letters and add a stray key.
    if len(text) < 3:
        return text + "qx"
    mid = len(text) // 2
    return text[: mid - 1] + text[mid] + text[mid - 1] + text[mid + 1 :] + "zq"


async def run_session(session: Session, flow: str | None = None) -> SessionOutcome:
    site, plan = session.site, session.plan
    await ensure_account(site, plan.identity, signup=plan.signup, outcome=session.outcome)
    if plan.error_path is not None:
        await take_error_path(session)
    journey = registry.get(flow or plan.entry_point.value)
    await journey(session)
    if session.outcome.abandoned:
        return session.outcome
    if plan.plan_change is not None:
        if site.profile.supports("plan_change"):
            async with site.hooks.step("plan_change"):
                await (await AccountPage(site).open()).change_plan(plan.plan_change.value)
            session.outcome.plan_changed_to = plan.plan_change.value
        else:
            session.substitute("plan_change", "none")
    if plan.support_ticket:
        if site.profile.supports("support"):
            async with site.hooks.step("support_ticket"):
                await SupportPage(site).submit_ticket(plan.support_ticket, _ticket_body(session))
            session.outcome.support_tickets += 1
        else:
            session.substitute("support_ticket", "none")
    return session.outcome


def _ticket_body(session: Session) -> str:
    return (
        f"Hi, {session.plan.support_ticket.lower() if session.plan.support_ticket else 'a question'}. "
        "This is an automated synthetic account; no reply needed."
    )


async def run_deletion(site: Site, identity: Identity, outcome: SessionOutcome) -> SessionOutcome:
    """Churn cleanup: a persona selected for deletion deletes its own account through the UI.

    A site without account deletion (``account_deletion`` unsupported) gets the nearest path: the
    persona logs out, its storage state is dropped by the runtime, and the account is left for the
    site's own cleanup of synthetic users (``outcome.left_for_site_cleanup``)."""
    site.viewer = profile_name(identity)
    async with site.hooks.step("home"):
        home = await HomePage(site).open()
    await pick_profile(site, identity)
    if not await home.is_logged_in():
        async with site.hooks.step("login"):
            if not await LoginPage(site).login(identity.email, password_for(identity.distinct_id)):
                # Nothing to delete: the site no longer knows this account.
                outcome.account_deleted = True
                return outcome
        await pick_profile(site, identity)
    if not site.profile.supports("account_deletion"):
        outcome.substitutions.append("delete_account->logout")
        if site.profile.supports("logout"):
            async with site.hooks.step("logout"):
                await LoginPage(site).logout()
        outcome.account_deleted = True
        outcome.left_for_site_cleanup = True
        return outcome
    async with site.hooks.step("delete_account"):
        account = await AccountPage(site).open()
        await account.delete_account()
    if await home.is_logged_in():
        raise UnexpectedPage("still logged in after deleting the account")
    outcome.account_deleted = True
    return outcome
