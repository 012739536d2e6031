"""SiteProfile: everything the fleet knows about a site, as data.

A profile for another site is a TOML file, not a code change. Every selector is a required key, so
a profile that forgets one fails at load time with the key's name rather than mid-run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personas.errors import HogfleetError
from personas.tomlfile import read_toml, validate

DEMO_PROFILE = Path(__file__).parent / "profiles" / "demo.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paths(_Strict):
    home: str
    search: str
    categories: str
    category: str  # with {genre}
    title: str  # with {id}
    watch: str  # with {id}
    watchlist: str
    flixbuddy: str
    signup: str
    login: str
    account: str
    support: str
    dead_link: str  # a path that does not exist, for the error path real users take


class Selectors(_Strict):
    """Playwright selector strings, one per element a bot touches."""

    logged_in_marker: str  # matches only when a user is logged in
    nav_home: str
    nav_search: str
    nav_watchlist: str
    nav_flixbuddy: str
    nav_account: str
    title_card: str
    title_card_id_attr: str
    row_popular: str
    search_input: str
    search_submit: str
    search_results: str
    search_empty: str
    category_name: str
    title_name: str
    play_button: str
    watchlist_add: str
    watchlist_remove: str
    rate: str  # with {stars}
    rating_value: str
    # How rating_value reads once a title is rated {stars}; tells a real new rating from the old one.
    rating_text: str = "{stars}/5"
    related: str
    player: str
    player_play: str
    player_pause: str
    player_seek: str
    watchlist_items: str
    watchlist_empty: str
    chat_input: str
    chat_send: str
    chat_message_assistant: str
    chat_recommendation: str
    signup_email: str
    signup_password: str
    signup_plan: str
    signup_submit: str
    login_email: str
    login_password: str
    login_submit: str
    form_error: str
    account_plan: str
    plan_select: str
    plan_submit: str
    delete_account: str
    delete_confirm: str
    ticket_subject: str
    ticket_body: str
    ticket_submit: str
    ticket_confirmation: str


# Every key of Selectors, so that page objects name a selector with a type checker watching
# (Site.sel): a typo is a mypy error, not a KeyError mid-run. tests/flows/test_profile.py keeps the
# two in step.
SelectorName = Literal[
    "logged_in_marker",
    "nav_home",
    "nav_search",
    "nav_watchlist",
    "nav_flixbuddy",
    "nav_account",
    "title_card",
    "title_card_id_attr",
    "row_popular",
    "search_input",
    "search_submit",
    "search_results",
    "search_empty",
    "category_name",
    "title_name",
    "play_button",
    "watchlist_add",
    "watchlist_remove",
    "rate",
    "rating_value",
    "rating_text",
    "related",
    "player",
    "player_play",
    "player_pause",
    "player_seek",
    "watchlist_items",
    "watchlist_empty",
    "chat_input",
    "chat_send",
    "chat_message_assistant",
    "chat_recommendation",
    "signup_email",
    "signup_password",
    "signup_plan",
    "signup_submit",
    "login_email",
    "login_password",
    "login_submit",
    "form_error",
    "account_plan",
    "plan_select",
    "plan_submit",
    "delete_account",
    "delete_confirm",
    "ticket_subject",
    "ticket_body",
    "ticket_submit",
    "ticket_confirmation",
]


class SyntheticMarking(_Strict):
    """How the site learns that traffic is synthetic (HogFlix's SyntheticMarker, docs/site-contract.md)."""

    enabled: bool = True
    local_storage_key: str | None = "hogflix_synthetic"
    cookie_name: str | None = None
    cookie_value: str = "1"


class PlayerTime(_Strict):
    """How watch time is compressed. ``clock``: the player runs on timers, so Playwright's clock
    fast-forwards it. ``seek``: drag the seek control to the target position. ``realtime``: wait."""

    mode: Literal["clock", "seek", "realtime"] = "clock"
    duration_attr: str = "data-duration"
    position_attr: str = "data-position"
    state_attr: str = "data-state"
    ended_value: str = "ended"


class SiteProfile(_Strict):
    name: str
    paths: Paths
    selectors: Selectors
    capture_url_pattern: str = r"^https?://[^/]+/(e|i/v0/e|batch|capture|track|engage)/?(\?|$)"
    synthetic: SyntheticMarking = SyntheticMarking()
    player: PlayerTime = PlayerTime()
    # Events every step may emit without being asked for (pageviews, clicks, identity plumbing).
    ambient_events: tuple[str, ...] = ("$pageview", "$pageleave", "$autocapture", "$identify", "$set")
    # Step name -> events the frontend must emit when the step succeeds.
    events: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    genres: tuple[str, ...] = ()

    @field_validator("capture_url_pattern")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    def capture_regex(self) -> re.Pattern[str]:
        return re.compile(self.capture_url_pattern)

    def expected(self, step: str) -> tuple[str, ...]:
        return self.events.get(step, ())


def load_profile(path: Path | None = None) -> SiteProfile:
    """Load a profile file (the demo's by default) or raise a one-line HogfleetError."""
    source = path or DEMO_PROFILE
    return validate(SiteProfile, read_toml(source, "site profile"), f"site profile {source}")


def validate_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HogfleetError(f"invalid target URL {url!r}: expected http(s)://host[:port]")
    return url.rstrip("/")
