"""Page objects, one per screen. Locator-based intent methods; no randomness, no scheduling.

Each method waits for the UI evidence that its intent happened (a rating shown, a reply rendered),
so a broken feature fails at the step that uses it rather than somewhere later.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.driver import Site
from flows.profile import PathName, Selector, SelectorName
from flows.site_errors import UnexpectedPage

UI_TIMEOUT_MS = 20_000  # a loaded 2-core box renders a single-page app slowly
# How long a profile picker may take to pick a lone profile by itself before the persona clicks it.
AUTO_PICK_MS = 4_000


class Screen:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.page = site.page

    async def card_ids(self, scope: Locator | None = None) -> list[str]:
        """Title ids of the cards on screen (inside ``scope`` when given), in page order."""
        ids = await self._card_ids(self.site.sel("title_card", scope))
        return list(dict.fromkeys(i for i in ids if i))

    async def _card_ids(self, cards: Locator) -> list[str | None]:
        """Each card's title id (None where it has none), read from its attribute or its href."""
        selectors = self.site.profile.selectors
        if selectors.title_card_id_attr is not None:
            attr = selectors.title_card_id_attr
            return [
                str(v) if v else None
                for v in await cards.evaluate_all(f"els => els.map(e => e.getAttribute({attr!r}))")
            ]
        pattern = re.compile(selectors.title_card_href_pattern or "")
        hrefs = await cards.evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
        return [(m.group(1) if (m := pattern.search(str(h))) else None) for h in hrefs]

    async def open_card(self, title_id: str, scope: Locator | None = None) -> TitlePage:
        cards = self.site.sel("title_card", scope)
        ids = await self._card_ids(cards)
        if title_id not in ids:
            raise UnexpectedPage(f"no card for title {title_id!r} on {self.page.url}")
        await self.site.click_and_wait(cards.nth(ids.index(title_id)))
        return await TitlePage(self.site).ready()

    async def open_nth(self, items: Locator, index: int) -> TitlePage:
        """Open the ``index``-th of ``items`` (cards whose title id shows only once opened)."""
        await self.site.click_and_wait(items.nth(index))
        return await TitlePage(self.site).ready()

    async def is_logged_in(self) -> bool:
        return await self.site.sel("logged_in_marker").count() > 0


class HomePage(Screen):
    async def open(self) -> HomePage:
        await self.site.goto(self.site.path("home"))
        await self.ready()
        return self

    async def ready(self) -> None:
        """The home screen, or the login form when the persona is logged out."""
        # A card in the row, not the row: a row may render before its titles load.
        row = self.site.sel("row_popular").first if self.site.profile.supports("home_row") else None
        home = self.site.sel("title_card", row).first
        ready = home.or_(self.site.sel("login_email"))
        if self.site.profile.supports("profile_picker"):
            ready = ready.or_(self.site.sel("profile_add"))
        await ready.first.wait_for(timeout=UI_TIMEOUT_MS)


class SearchPage(Screen):
    async def open(self) -> SearchPage:
        await self.site.goto(self.site.path("search"))
        await self.site.sel("search_input").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def search(self, query: str) -> list[str]:
        """Type a query like a person and submit; returns the result ids (empty: no results)."""
        await self.site.sel("search_input").fill(query)
        await self.site.click_and_wait(self.site.sel("search_submit"))
        results = self.site.sel("search_results")
        empty = self.site.sel("search_empty")
        await results.or_(empty).first.wait_for(timeout=UI_TIMEOUT_MS)
        if await empty.count():
            return []
        return await self.card_ids(results)


class InstantSearch(Screen):
    """A search box in the header whose results drop down while the persona types (no search page)."""

    async def search(self, query: str) -> Locator | None:
        """Type ``query`` like a person; the results that drop down, or None when nothing matched."""
        box = self.site.sel("search_input").first
        # Focus rather than click: on a narrow screen the page's hero may overlap the header box.
        await box.focus()
        await box.fill("")
        await box.press_sequentially(query, delay=40)
        results = self.site.sel("search_results")
        try:
            await results.first.wait_for(timeout=UI_TIMEOUT_MS // 2)
        except PlaywrightTimeout:
            return None  # nothing matched: the dropdown stays closed
        return results

    async def view_all(self) -> Locator | None:
        """Open the full result list the site offers for this query; its results."""
        more = self.site.sel("search_view_all").first
        await more.click()
        results = self.site.sel("search_view_all_results")
        await results.first.wait_for(timeout=UI_TIMEOUT_MS)
        return results


class CategoryRows(Screen):
    """Category rows on the home screen, for sites without a page per category."""

    async def cards(self, genre: str) -> Locator:
        row = self.site.sel("category_row", genre=genre).first
        await row.wait_for(timeout=UI_TIMEOUT_MS)
        return row


class CategoryPage(Screen):
    async def open(self, genre: str) -> CategoryPage:
        await self.site.goto(self.site.path("category", genre=genre))
        await self.site.sel("category_name").wait_for(timeout=UI_TIMEOUT_MS)
        return self


class TitlePage(Screen):
    """A title's page, or the player itself where the site has no separate title page."""

    async def ready(self) -> TitlePage:
        key: SelectorName = "title_name" if self.site.profile.supports("title_page") else "player"
        await self.site.sel(key).first.wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def open(self, title_id: str) -> TitlePage:
        key: PathName = "title" if self.site.profile.supports("title_page") else "watch"
        await self.site.goto(self.site.path(key, id=title_id))
        return await self.ready()

    def title_id(self) -> str:
        match = re.search(self.site.profile.paths.title_id_pattern, self.page.url)
        if not match:
            raise UnexpectedPage(f"not on a title page: {self.page.url}")
        return match.group(1)

    async def play(self) -> PlayerPage:
        if self.site.profile.supports("title_page"):
            await self.site.click_and_wait(self.site.sel("play_button"))
        return await PlayerPage(self.site).ready()

    async def in_watchlist(self) -> bool:
        return await self.site.sel("watchlist_remove").count() > 0

    async def add_to_watchlist(self) -> None:
        await self.site.sel("watchlist_add").click()
        await self.site.sel("watchlist_remove").wait_for(timeout=UI_TIMEOUT_MS)

    async def remove_from_watchlist(self) -> None:
        await self.site.sel("watchlist_remove").click()
        await self.site.sel("watchlist_add").wait_for(timeout=UI_TIMEOUT_MS)

    def _rating_text(self, stars: int) -> str:
        return self.site.profile.selectors.rating_text.format(stars=stars)

    async def has_rating(self, stars: int) -> bool:
        """Whether the page already shows this rating (clicking it again would submit nothing), or,
        on a site that takes one rating per title, any rating of the persona's."""
        if self.site.profile.selectors.rating_prompt is not None:
            await self.site.sel("rate", stars=stars).first.wait_for(timeout=UI_TIMEOUT_MS)
            return await self.site.sel("rating_prompt").count() == 0
        value = self.site.sel("rating_value")
        if not await value.count():
            return False
        return self._rating_text(stars) in (await value.first.text_content() or "")

    async def rate(self, stars: int) -> None:
        await self.site.sel("rate", stars=stars).click()
        # Exact text, not a digit: "You rated 4/5" contains a 5 but is not a rating of 5.
        await (
            self.site.sel("rating_value")
            .filter(has_text=self._rating_text(stars))
            .first.wait_for(timeout=UI_TIMEOUT_MS)
        )

    async def related_ids(self) -> list[str]:
        return await self.card_ids(self.site.sel("related"))


class PlayerPage(Screen):
    async def ready(self) -> PlayerPage:
        await self.site.sel("player").first.wait_for(timeout=UI_TIMEOUT_MS)
        return self

    @property
    def _media(self) -> bool:
        return self.site.profile.player.mode == "media"

    async def _attr(self, name: str) -> str:
        return await self.site.sel("player").first.get_attribute(name) or ""

    async def _number(self, name: str) -> float:
        try:
            return float(await self._attr(name))
        except ValueError:
            return 0.0

    async def _media_value(self, script: str) -> float:
        value = await self.site.sel("player").first.evaluate(script)
        return float(value) if isinstance(value, int | float) and value == value else 0.0

    async def position(self) -> float:
        if self._media:
            return await self._media_value("v => v.currentTime")
        return await self._number(self.site.profile.player.position_attr)

    async def duration(self) -> float:
        if self._media:
            # A media element knows its duration once its metadata loaded.
            player = self.site.sel("player").first
            await player.evaluate(
                "v => v.readyState >= 1 || "
                "new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}))"
            )
            return await self._media_value("v => isFinite(v.duration) ? v.duration : 0")
        return await self._number(self.site.profile.player.duration_attr)

    async def ended(self) -> bool:
        if self._media:
            return bool(await self.site.sel("player").first.evaluate("v => v.ended"))
        player = self.site.profile.player
        return await self._attr(player.state_attr) == player.ended_value

    async def watch(self, completion: float) -> float:
        """Watch up to ``completion`` of the runtime; returns the share actually reached.

        With ``clock`` time the wall-clock part is ``watched × dwell_scale`` and Playwright's clock
        fast-forwards the rest, so the player's own timers emit the genuine progress events. With
        ``media`` the element plays (muted) and its ``currentTime`` moves through the runtime in
        steps, so the app's own listeners see every position a viewer would pass.
        """
        mode = self.site.profile.player.mode
        duration = await self.duration()
        if duration <= 0:
            raise UnexpectedPage("player reports no duration")
        target = duration * completion
        if completion >= 0.999:
            target = duration + 2  # run past the end so the player reaches its ended state
        real = max(0.0, target - await self.position()) * self.site.pacing.dwell_scale
        if mode == "media":
            await self._advance_media(duration, min(target, duration), real)
        elif mode == "seek":
            await self.site.sel("player_seek").fill(str(round(min(100.0, completion * 100))))
        elif mode == "clock":
            if real > 0:
                await asyncio.sleep(real)
            remaining = target - await self.position()
            if remaining > 0:
                await self.page.clock.run_for(int(remaining * 1000))
        else:
            await asyncio.sleep(target - await self.position())
        return min(1.0, await self.position() / duration)

    async def _advance_media(self, duration: float, target: float, real_s: float) -> None:
        player = self.site.sel("player").first
        await player.evaluate("v => { v.muted = true; const p = v.play(); if (p) p.catch(() => {}); }")
        step = duration * self.site.profile.player.media_step
        position = await self.position()
        jumps = max(1, int((target - position) / step + 0.999))
        for _ in range(jumps):
            position = min(target, position + step)
            # Seeking fires the element's own seeking/seeked/timeupdate events; a short pause lets
            # the app's listeners run before the next jump, as the seconds between them would.
            await player.evaluate("(v, t) => { v.currentTime = t; }", position)
            await asyncio.sleep(max(0.05, real_s / jumps))
        if target >= duration:
            await player.evaluate(
                "v => v.ended || new Promise(r => { v.addEventListener('ended', r, {once: true}); "
                "setTimeout(r, 3000); })"
            )

    async def pause(self) -> None:
        if self._media:
            await self.site.sel("player").first.evaluate("v => v.pause()")
        else:
            await self.site.sel("player_pause").click()


class WatchlistPage(Screen):
    async def open(self) -> WatchlistPage:
        await self.site.goto(self.site.path("watchlist"))
        items, empty = self.site.sel("watchlist_items"), self.site.sel("watchlist_empty")
        await items.or_(empty).first.wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def ids(self) -> list[str]:
        if await self.site.sel("watchlist_empty").count():
            return []
        return await self.card_ids(self.site.sel("watchlist_items"))

    async def items(self) -> Locator:
        """The list's entries, for a site whose entries do not show their title id."""
        return self.site.sel("watchlist_items")


class FlixBuddyPage(Screen):
    async def open(self) -> FlixBuddyPage:
        await self.site.goto(self.site.path("flixbuddy"))
        await self.site.sel("chat_input").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def ask(self, question: str) -> list[str]:
        """Send a question and wait for the assistant's reply; returns the recommended ids."""
        replies = self.site.sel("chat_message_assistant")
        before = await replies.count()
        box = self.site.sel("chat_input").first
        await box.fill(question)
        await self.site.sel("chat_send").first.click()
        await replies.nth(before).wait_for(timeout=UI_TIMEOUT_MS)
        # The reply shows before the app has finished with it (it records the LLM call after
        # looking up the titles it names): the input is usable again once it has.
        await self.page.wait_for_function(
            "el => !el.disabled", arg=await box.element_handle(), timeout=UI_TIMEOUT_MS
        )
        recs = self.site.sel("chat_recommendation", replies.nth(before))
        return [i for i in await self._card_ids(recs) if i]

    async def open_recommendation(self, title_id: str) -> TitlePage:
        links = self.site.sel("chat_recommendation")
        ids = await self._card_ids(links)
        if title_id not in ids:
            raise UnexpectedPage(f"FlixBuddy recommended no title {title_id!r}")
        index = len(ids) - 1 - ids[::-1].index(title_id)  # the latest reply's link
        await self.site.click_and_wait(links.nth(index))
        return await TitlePage(self.site).ready()


class SignupPage(Screen):
    async def signup(self, email: str, password: str, plan: str) -> None:
        signup = self.site.path("signup", plan=plan.lower())
        await self.site.goto(signup)
        await self.site.sel("signup_email").fill(email)
        await self.site.sel("signup_password").fill(password)
        for selector, value in self.site.profile.signup.fields.items():
            await self.site.locate(selector).fill(value)
        if "{plan}" not in (self.site.profile.paths.signup or ""):
            await self.site.sel("signup_plan").select_option(plan)
        await self.site.submit(self.site.sel("signup_submit"))
        pay = self.site.profile.signup.checkout_pay
        if not await self._logged_in_or_error(also=pay):
            text = (await self.site.sel("form_error").first.text_content() or "").strip()
            raise UnexpectedPage(f"signup rejected: {text[:120]}")
        if pay is not None and await self.site.locate(pay).count():
            # A paid plan goes through the site's checkout before the account is usable.
            await self.site.locate(pay).first.click()
            if not await self._logged_in_or_error():
                raise UnexpectedPage("the checkout after signup did not complete")

    async def _logged_in_or_error(self, also: Selector | None = None) -> bool:
        """Wait for the evidence of a login (the logged-in marker, or the profile picker that follows
        one, or ``also``) or of a form error; True unless it was the error."""
        marker = self.site.sel("logged_in_marker")
        ready = marker.or_(self.site.sel("form_error"))
        picker = self.site.profile.supports("profile_picker")
        if picker:
            ready = ready.or_(self.site.sel("profile_add"))
        if also is not None:
            ready = ready.or_(self.site.locate(also))
        await ready.first.wait_for(timeout=UI_TIMEOUT_MS)
        if also is not None and await self.site.locate(also).count():
            return True
        if await marker.count():
            return True
        return picker and await self.site.sel("profile_add").count() > 0


class LoginPage(SignupPage):
    async def login(self, email: str, password: str) -> bool:
        """Log in; False when the site shows a form error (wrong password, no such account)."""
        await self.site.goto(self.site.path("login"))
        await self.site.sel("login_email").fill(email)
        await self.site.sel("login_password").fill(password)
        await self.site.submit(self.site.sel("login_submit"))
        return await self._logged_in_or_error()

    async def logout(self) -> None:
        """Log out through the site's own control; the next page load is a full one, marked synthetic
        again (the logout's reset() cleared what the site registered)."""
        if self.site.profile.selectors.account_menu is not None:
            await self.site.sel("account_menu").first.click()
        await self.site.sel("logout").first.click()
        await self.site.sel("logged_in_marker").first.wait_for(state="detached", timeout=UI_TIMEOUT_MS)
        self.site.mark_next = True


class ProfilesPage(Screen):
    """A profile picker after login ("who's watching?"): choose the persona's, create it first."""

    async def here(self) -> bool:
        profiles = self.site.profile.paths.profiles
        return profiles is not None and urlsplit(self.page.url).path == profiles.split("?")[0]

    async def choose(self, name: str) -> bool:
        """Pick ``name`` when the picker is showing (creating it on first use); True when picked.

        An app may pick the only profile by itself and move on: that counts as picked."""
        if not self.site.profile.supports("profile_picker") or not await self.here():
            return False
        card = self.site.sel("profile_card", name=name).first
        add = self.site.sel("profile_add").first
        try:
            await card.or_(add).first.wait_for(timeout=UI_TIMEOUT_MS)
        except PlaywrightTimeout:
            if not await self.here():
                return True  # picked by the app while we looked
            raise
        if not await self.here():
            return True
        if not await card.count():
            await add.click()
            await self.site.sel("profile_name_input").fill(name)
            await self.site.sel("profile_create").first.click()
        if await self._left(AUTO_PICK_MS):
            return True  # the app picked the (only) profile itself
        await self.site.follow(card)
        return True

    async def _left(self, timeout_ms: int) -> bool:
        profiles = (self.site.profile.paths.profiles or "").split("?")[0]
        try:
            await self.page.wait_for_url(lambda url: urlsplit(url).path != profiles, timeout=timeout_ms)
        except PlaywrightTimeout:
            return False
        return True


class AccountPage(Screen):
    async def open(self) -> AccountPage:
        await self.site.goto(self.site.path("account"))
        await self.site.sel("account_plan").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def change_plan(self, plan: str) -> None:
        await self.site.sel("plan_select").select_option(plan)
        await self.site.click_and_wait(self.site.sel("plan_submit"))
        await self.site.sel("account_plan").filter(has_text=plan).wait_for(timeout=UI_TIMEOUT_MS)

    async def delete_account(self) -> None:
        await self.site.sel("delete_account").click()
        await self.site.click_and_wait(self.site.sel("delete_confirm"))
        await self.page.wait_for_load_state()
        if await self.is_logged_in():
            raise UnexpectedPage("account deletion did not log the user out")


class SupportPage(Screen):
    async def submit_ticket(self, subject: str, body: str) -> None:
        await self.site.goto(self.site.path("support"))
        if self.site.profile.selectors.ticket_category is not None:
            await self.site.sel("ticket_category").first.click()
            # Choose with the keyboard: a listbox drawn in a portal can sit where a narrow screen's
            # pointer cannot reach it, but its options take focus and Enter.
            option = self.site.sel("ticket_category_option").first
            await option.focus()
            await option.press("Enter")
        if self.site.profile.selectors.ticket_subject is not None:
            await self.site.sel("ticket_subject").fill(subject)
        else:
            body = f"{subject}. {body}"  # no subject field: the subject opens the message
        await self.site.sel("ticket_body").fill(body)
        await self.site.submit(self.site.sel("ticket_submit"))
        await self.site.sel("ticket_confirmation").first.wait_for(timeout=UI_TIMEOUT_MS)
