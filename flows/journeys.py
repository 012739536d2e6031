"""The navigation paths of docs/behaviour.md, one journey per entry point, driven by the session script.

- homepage → popular → video → watch
- search → video → watch → related
- category → video → watch
- flixbuddy → video → watch
- watchlist → watch → watch (sequential)

Each journey only decides *where the next title comes from*; what happens to a title (watchlist,
play, watch, rate) is the shared :func:`watch_title`, driven by the plan's :class:`VideoStep`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from playwright.async_api import Locator

from flows.journey import Session
from flows.pages import (
    CategoryPage,
    CategoryRows,
    FlixBuddyPage,
    HomePage,
    InstantSearch,
    Screen,
    SearchPage,
    TitlePage,
    WatchlistPage,
)
from flows.registry import register
from personas.plans import VideoStep

NextTitle = Callable[[int], Awaitable[TitlePage | None]]


def pick(ids: list[str], opened: list[str], rng: random.Random) -> str | None:
    """A card a person would click: unseen ones first, weighted toward the top of the row."""
    fresh = [i for i in ids if i not in opened] or ids
    if not fresh:
        return None
    weights = [1.0 / (rank + 1) for rank in range(len(fresh))]
    return rng.choices(fresh, weights=weights, k=1)[0]


async def watch_title(session: Session, title: TitlePage, video: VideoStep) -> None:
    site, outcome = session.site, session.outcome
    title_id = title.title_id()
    session.opened.append(title_id)
    outcome.videos_opened += 1
    if video.add_to_watchlist and not await title.in_watchlist():
        async with site.hooks.step("watchlist_add"):
            await title.add_to_watchlist()
        outcome.watchlist_added += 1
    await site.pacing.think()
    if video.start:
        async with site.hooks.step("play"):
            player = await title.play()
        async with site.hooks.step("watch"):
            reached = await player.watch(video.completion)
            if reached >= 0.25:
                site.hooks.expect("progress")
            if await player.ended():
                site.hooks.expect("complete")
        outcome.videos_watched += 1
        outcome.completions.append(round(reached, 4))
    if video.rating is not None:
        if video.start and site.profile.supports("title_page"):
            title = await TitlePage(site).open(title_id)  # back from the player to the title's page
        # A persona that already gave this title the same stars has nothing to submit.
        if not await title.has_rating(video.rating):
            async with site.hooks.step("rate"):
                await title.rate(video.rating)
            outcome.ratings_given += 1
    await site.pacing.think()


async def watch_videos(session: Session, next_title: NextTitle) -> None:
    plan = session.plan
    for index, video in enumerate(plan.videos):
        if plan.abandon_after is not None and index >= plan.abandon_after:
            session.outcome.abandoned = True
            return
        async with session.site.hooks.step("open_title"):
            title = await next_title(index)
        if title is None:
            return  # nothing left to open on this path
        await watch_title(session, title, video)
    if plan.abandon_after is not None and plan.abandon_after < len(plan.videos):
        session.outcome.abandoned = True


async def _from_home(session: Session) -> TitlePage | None:
    home = await HomePage(session.site).open()
    # Click inside the row the card was picked from: the same title can also sit in "Continue
    # watching", whose cards lead to the player rather than the title page.
    site = session.site
    row = site.sel("row_popular").first if site.profile.supports("home_row") else None
    chosen = pick(await home.card_ids(row), session.opened, site.rng)
    return await home.open_card(chosen, row) if chosen else None


async def _positional(session: Session, screen: Screen, items: Locator) -> TitlePage | None:
    """Open one of ``items`` whose title ids show only once opened: a person scanning from the top."""
    count = await items.count()
    if count == 0:
        return None
    weights = [1.0 / (rank + 1) for rank in range(count)]
    index = session.site.rng.choices(range(count), weights=weights, k=1)[0]
    return await screen.open_nth(items, index)


async def ask_flixbuddy(session: Session, questions: tuple[str, ...]) -> tuple[FlixBuddyPage, list[str]]:
    """Ask each question in one conversation (throttled fleet-wide); returns the recommendations."""
    site = session.site
    chat = await FlixBuddyPage(site).open()
    recommended: list[str] = []
    for question in questions:
        if not await site.hooks.acquire("flixbuddy"):
            break  # the run's FlixBuddy budget is spent; a person would just browse instead
        async with site.hooks.step("flixbuddy"):
            recommended += await chat.ask(question)
        session.outcome.flixbuddy_questions += 1
        await site.pacing.think()
    return chat, recommended


@register("homepage")
async def homepage(session: Session) -> None:
    async def next_title(index: int) -> TitlePage | None:
        return await _from_home(session)

    await watch_videos(session, next_title)
    if session.plan.flixbuddy_questions:
        await ask_flixbuddy(session, session.plan.flixbuddy_questions)


async def _search_once(session: Session, query: str) -> TitlePage | None:
    site = session.site
    if site.profile.supports("search_page"):
        page = await SearchPage(site).open()
        async with site.hooks.step("search"):
            results = await page.search(query)
        chosen = pick(results, session.opened, site.rng)
        return await page.open_card(chosen, site.sel("search_results")) if chosen else None
    # The header's instant search; half the sessions open the full result list first.
    await HomePage(site).open()
    instant = InstantSearch(site)
    async with site.hooks.step("search"):
        found = await instant.search(query)
    # Half the people open the full list when the site offers one for their query.
    offered = site.profile.selectors.search_view_all is not None and await site.sel("search_view_all").count()
    if found is not None and offered and site.rng.random() < 0.5:
        async with site.hooks.step("search_view_all"):
            found = await instant.view_all() or found
    return await _positional(session, instant, found) if found is not None else None


async def _next_after(session: Session) -> TitlePage | None:
    """search → video → watch → related: the last title's related row, where the site has one."""
    site = session.site
    if not site.profile.supports("related"):
        session.substitute("related", "home")
        return await _from_home(session)
    last = await TitlePage(site).open(session.opened[-1])
    chosen = pick(await last.related_ids(), session.opened, site.rng)
    return await last.open_card(chosen, site.sel("related")) if chosen else await _from_home(session)


@register("search")
async def search(session: Session) -> None:
    site = session.site
    query = session.plan.search_query or (site.profile.genres[0] if site.profile.genres else "movie")

    async def next_title(index: int) -> TitlePage | None:
        if index == 0:
            return await _search_once(session, query) or await _from_home(session)
        return await _next_after(session)

    await watch_videos(session, next_title)


@register("category")
async def category(session: Session) -> None:
    site = session.site
    genre = session.plan.category or site.rng.choice(site.profile.genres or ("Drama",))

    async def next_title(index: int) -> TitlePage | None:
        if site.profile.supports("category_page"):
            page: Screen = await CategoryPage(site).open(genre)
            scope = None
        else:
            page = await HomePage(site).open()
            scope = await CategoryRows(site).cards(genre)
        chosen = pick(await page.card_ids(scope), session.opened, site.rng)
        return await page.open_card(chosen, scope) if chosen else None

    await watch_videos(session, next_title)


@register("flixbuddy")
async def flixbuddy(session: Session) -> None:
    site = session.site
    questions = session.plan.flixbuddy_questions or ("What should I watch tonight?",)
    recommended: list[str] = []
    chat: FlixBuddyPage | None = None

    async def next_title(index: int) -> TitlePage | None:
        nonlocal chat, recommended
        if index == 0:
            chat, recommended = await ask_flixbuddy(session, questions)
            chosen = pick(recommended, session.opened, site.rng)
            if chosen:
                return await chat.open_recommendation(chosen)
            recs = site.sel("chat_recommendation")
            if not recommended and await recs.count():
                return await _positional(session, chat, recs)  # recommendations without ids
            return await _from_home(session)
        # Back to the other recommendations, as a person pressing Back would.
        chosen = pick([r for r in recommended if r not in session.opened], session.opened, site.rng)
        return await TitlePage(site).open(chosen) if chosen else await _from_home(session)

    await watch_videos(session, next_title)


@register("watchlist")
async def watchlist(session: Session) -> None:
    site = session.site

    async def next_title(index: int) -> TitlePage | None:
        page = await WatchlistPage(site).open()
        ids = await page.ids()
        queue = [i for i in ids if i not in session.opened]
        if queue:
            return await page.open_card(queue[0], site.sel("watchlist_items"))  # sequential: next in the list
        items = await page.items()
        if not ids and await items.count() > index:
            return await page.open_nth(items, index)  # entries without ids: the next one down
        return await _from_home(session)

    await watch_videos(session, next_title)
