"""Page objects, one per screen. Locator-based intent methods; no randomness, no scheduling.

Each method waits for the UI evidence that its intent happened (a rating shown, a reply rendered),
so a broken feature fails at the step that uses it rather than somewhere later.
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Locator

from flows.driver import Site
from flows.site_errors import UnexpectedPage

UI_TIMEOUT_MS = 10_000


class Screen:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.page = site.page

    async def card_ids(self, scope: Locator | None = None) -> list[str]:
        """Title ids of the cards on screen (inside ``scope`` when given), in page order."""
        cards = (scope or self.page.locator("body")).locator(self.site.profile.selectors.title_card)
        attr = self.site.profile.selectors.title_card_id_attr
        ids = await cards.evaluate_all(f"els => els.map(e => e.getAttribute({attr!r}))")
        seen: dict[str, None] = {}
        for value in ids:
            if value:
                seen.setdefault(str(value), None)
        return list(seen)

    async def open_card(self, title_id: str, scope: Locator | None = None) -> TitlePage:
        selectors = self.site.profile.selectors
        card = (scope or self.page.locator("body")).locator(
            f"{selectors.title_card}[{selectors.title_card_id_attr}={title_id!r}]"
        )
        await self.site.click_and_wait(card.first)
        return await TitlePage(self.site).ready()

    async def is_logged_in(self) -> bool:
        return await self.page.locator(self.site.profile.selectors.logged_in_marker).count() > 0


class HomePage(Screen):
    async def open(self) -> HomePage:
        await self.site.goto(self.site.profile.paths.home)
        await self.site.sel("row_popular").wait_for(timeout=UI_TIMEOUT_MS)
        return self


class SearchPage(Screen):
    async def open(self) -> SearchPage:
        await self.site.goto(self.site.profile.paths.search)
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


class CategoryPage(Screen):
    async def open(self, genre: str) -> CategoryPage:
        await self.site.goto(self.site.profile.paths.category.format(genre=genre))
        await self.site.sel("category_name").wait_for(timeout=UI_TIMEOUT_MS)
        return self


class TitlePage(Screen):
    async def ready(self) -> TitlePage:
        await self.site.sel("title_name").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def open(self, title_id: str) -> TitlePage:
        await self.site.goto(self.site.profile.paths.title.format(id=title_id))
        return await self.ready()

    def title_id(self) -> str:
        match = re.search(r"/title/([^/?#]+)", self.page.url)
        if not match:
            raise UnexpectedPage(f"not on a title page: {self.page.url}")
        return match.group(1)

    async def play(self) -> PlayerPage:
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
        """Whether the page already shows this rating (clicking it again would submit nothing)."""
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
            .wait_for(timeout=UI_TIMEOUT_MS)
        )

    async def related_ids(self) -> list[str]:
        return await self.card_ids(self.site.sel("related"))


class PlayerPage(Screen):
    async def ready(self) -> PlayerPage:
        await self.site.sel("player").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def _attr(self, name: str) -> str:
        return await self.site.sel("player").get_attribute(name) or ""

    async def _number(self, name: str) -> float:
        try:
            return float(await self._attr(name))
        except ValueError:
            return 0.0

    async def position(self) -> float:
        return await self._number(self.site.profile.player.position_attr)

    async def duration(self) -> float:
        return await self._number(self.site.profile.player.duration_attr)

    async def ended(self) -> bool:
        player = self.site.profile.player
        return await self._attr(player.state_attr) == player.ended_value

    async def watch(self, completion: float) -> float:
        """Watch up to ``completion`` of the runtime; returns the share actually reached.

        With ``clock`` time the wall-clock part is ``watched × dwell_scale`` and Playwright's clock
        fast-forwards the rest, so the player's own timers emit the genuine progress events.
        """
        mode = self.site.profile.player.mode
        duration = await self.duration()
        if duration <= 0:
            raise UnexpectedPage("player reports no duration")
        target = duration * completion
        if completion >= 0.999:
            target = duration + 2  # run past the end so the player reaches its ended state
        real = max(0.0, target - await self.position()) * self.site.pacing.dwell_scale
        if mode == "seek":
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

    async def pause(self) -> None:
        await self.site.sel("player_pause").click()


class WatchlistPage(Screen):
    async def open(self) -> WatchlistPage:
        await self.site.goto(self.site.profile.paths.watchlist)
        items, empty = self.site.sel("watchlist_items"), self.site.sel("watchlist_empty")
        await items.or_(empty).first.wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def ids(self) -> list[str]:
        if await self.site.sel("watchlist_empty").count():
            return []
        return await self.card_ids(self.site.sel("watchlist_items"))


class FlixBuddyPage(Screen):
    async def open(self) -> FlixBuddyPage:
        await self.site.goto(self.site.profile.paths.flixbuddy)
        await self.site.sel("chat_input").wait_for(timeout=UI_TIMEOUT_MS)
        return self

    async def ask(self, question: str) -> list[str]:
        """Send a question and wait for the assistant's reply; returns the recommended ids."""
        replies = self.site.sel("chat_message_assistant")
        before = await replies.count()
        await self.site.sel("chat_input").fill(question)
        await self.site.sel("chat_send").click()
        await replies.nth(before).wait_for(timeout=UI_TIMEOUT_MS)
        recs = replies.nth(before).locator(self.site.profile.selectors.chat_recommendation)
        attr = self.site.profile.selectors.title_card_id_attr
        ids = await recs.evaluate_all(f"els => els.map(e => e.getAttribute({attr!r}))")
        return [str(i) for i in ids if i]

    async def open_recommendation(self, title_id: str) -> TitlePage:
        selectors = self.site.profile.selectors
        link = self.page.locator(
            f"{selectors.chat_recommendation}[{selectors.title_card_id_attr}={title_id!r}]"
        ).last
        await self.site.click_and_wait(link)
        return await TitlePage(self.site).ready()


class SignupPage(Screen):
    async def signup(self, email: str, password: str, plan: str) -> None:
        await self.site.goto(self.site.profile.paths.signup)
        await self.site.sel("signup_email").fill(email)
        await self.site.sel("signup_password").fill(password)
        await self.site.sel("signup_plan").select_option(plan)
        await self.site.click_and_wait(self.site.sel("signup_submit"))
        await self._expect_logged_in("signup")

    async def _expect_logged_in(self, what: str) -> None:
        marker = self.page.locator(self.site.profile.selectors.logged_in_marker)
        error = self.site.sel("form_error")
        await marker.or_(error).first.wait_for(timeout=UI_TIMEOUT_MS)
        if not await marker.count():
            text = (await error.first.text_content() or "").strip()
            raise UnexpectedPage(f"{what} rejected: {text[:120]}")


class LoginPage(SignupPage):
    async def login(self, email: str, password: str) -> bool:
        """Log in; False when the site shows a form error (wrong password, no such account)."""
        await self.site.goto(self.site.profile.paths.login)
        await self.site.sel("login_email").fill(email)
        await self.site.sel("login_password").fill(password)
        await self.site.click_and_wait(self.site.sel("login_submit"))
        marker = self.page.locator(self.site.profile.selectors.logged_in_marker)
        await marker.or_(self.site.sel("form_error")).first.wait_for(timeout=UI_TIMEOUT_MS)
        return await marker.count() > 0


class AccountPage(Screen):
    async def open(self) -> AccountPage:
        await self.site.goto(self.site.profile.paths.account)
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
        await self.site.goto(self.site.profile.paths.support)
        await self.site.sel("ticket_subject").fill(subject)
        await self.site.sel("ticket_body").fill(body)
        await self.site.click_and_wait(self.site.sel("ticket_submit"))
        await self.site.sel("ticket_confirmation").wait_for(timeout=UI_TIMEOUT_MS)
