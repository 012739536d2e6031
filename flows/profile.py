"""SiteProfile: everything the fleet knows about a site, as data.

A profile for another site is a TOML file, not a code change. A selector is any kind Playwright
offers: a selector string (CSS, ``id=``, ``text=``, ``data-testid=``, ...) or a table naming a role
and its accessible name, a label, a placeholder, a text, a title, an id or a test id. A site that
lacks a part of the app (a search page, account deletion) declares that *feature* ``unsupported``;
every selector and path of a supported feature is required, so a profile that forgets one fails at
load time with the key's name rather than mid-run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personas.errors import HogfleetError
from personas.tomlfile import read_toml, validate

PROFILES_DIR = Path(__file__).parent / "profiles"
DEMO_PROFILE = PROFILES_DIR / "demo.toml"
HOGFLIX_PROFILE = PROFILES_DIR / "hogflix.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paths(_Strict):
    home: str  # where a logged-in persona lands
    login: str
    signup: str  # may carry the plan: "/signup?plan={plan}"
    watch: str  # with {id}
    search: str | None = None
    categories: str | None = None
    category: str | None = None  # with {genre}
    title: str | None = None  # with {id}
    watchlist: str | None = None
    flixbuddy: str | None = None
    account: str | None = None
    support: str | None = None
    profiles: str | None = None  # the profile picker
    dead_link: str | None = None  # a path that does not exist, for the error path real users take
    # How a title's id is read from the URL of its page (the title page, or the player where the
    # title has no page of its own).
    title_id_pattern: str = r"/title/([^/?#]+)"


PathName = Literal[
    "home",
    "login",
    "signup",
    "watch",
    "search",
    "categories",
    "category",
    "title",
    "watchlist",
    "flixbuddy",
    "account",
    "support",
    "profiles",
    "dead_link",
]


class SelectorSpec(_Strict):
    """One of Playwright's locator kinds, as data: ``{ role = "button", name = "Sign in" }``,
    ``{ label = "Email" }``, ``{ placeholder = "Search..." }``, ``{ text = "View all" }``,
    ``{ title = "Rate 4 hedgehogs" }``, ``{ id = "email" }``, ``{ testid = "play" }`` or
    ``{ css = "a[href^='/watch/']" }``. String fields may hold ``{placeholders}``."""

    role: str | None = None
    name: str | None = None  # the accessible name, with role
    exact: bool = False
    text: str | None = None
    label: str | None = None
    placeholder: str | None = None
    title: str | None = None
    id: str | None = None
    testid: str | None = None
    css: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SelectorSpec:
        kinds = [k for k in LOCATOR_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a selector names exactly one of {', '.join(LOCATOR_KINDS)} (got {kinds or 'none'})"
            )
        if self.name is not None and self.role is None:
            raise ValueError("name goes with role")
        return self


LOCATOR_KINDS = ("role", "text", "label", "placeholder", "title", "id", "testid", "css")
Selector = str | SelectorSpec


class Selectors(_Strict):
    """One selector per element a bot touches; which are required depends on the features."""

    logged_in_marker: Selector | None = None  # matches only when a user is logged in
    title_card: Selector | None = None
    title_card_id_attr: str | None = None  # the card's attribute holding the title id
    # ...or a regex whose first group reads the id from the card's href ("/watch/([^/?#]+)")
    title_card_href_pattern: str | None = None
    row_popular: Selector | None = None
    search_input: Selector | None = None
    search_submit: Selector | None = None
    search_results: Selector | None = None
    search_empty: Selector | None = None
    category_name: Selector | None = None
    title_name: Selector | None = None
    play_button: Selector | None = None
    watchlist_add: Selector | None = None
    watchlist_remove: Selector | None = None
    rate: Selector | None = None  # with {stars}
    rating_value: Selector | None = None
    # Shown only while the persona has not rated the title; where the site cannot take a second
    # rating, a title without it is one the persona already rated.
    rating_prompt: Selector | None = None
    # How rating_value reads once a title is rated {stars}; tells a real new rating from the old one.
    rating_text: str = "{stars}/5"
    related: Selector | None = None
    player: Selector | None = None
    player_pause: Selector | None = None
    player_seek: Selector | None = None
    watchlist_items: Selector | None = None
    watchlist_empty: Selector | None = None
    chat_input: Selector | None = None
    chat_send: Selector | None = None
    chat_message_assistant: Selector | None = None
    chat_recommendation: Selector | None = None
    signup_email: Selector | None = None
    signup_password: Selector | None = None
    signup_plan: Selector | None = None
    signup_submit: Selector | None = None
    login_email: Selector | None = None
    login_password: Selector | None = None
    login_submit: Selector | None = None
    form_error: Selector | None = None
    account_plan: Selector | None = None
    plan_select: Selector | None = None
    plan_submit: Selector | None = None
    delete_account: Selector | None = None
    delete_confirm: Selector | None = None
    ticket_subject: Selector | None = None
    ticket_body: Selector | None = None
    ticket_submit: Selector | None = None
    ticket_confirmation: Selector | None = None
    # Sites with an instant search in the header, category rows instead of category pages, a
    # profile picker after login, and a logout control.
    search_view_all: Selector | None = None
    search_view_all_results: Selector | None = None  # the results "view all" lists
    category_row: Selector | None = None  # with {genre}
    profile_card: Selector | None = None  # with {name}
    profile_add: Selector | None = None
    profile_name_input: Selector | None = None
    profile_create: Selector | None = None
    logout: Selector | None = None
    account_menu: Selector | None = None  # opened before logout when the control sits in a menu
    ticket_category: Selector | None = None  # a category picker on the support form...
    ticket_category_option: Selector | None = None  # ...and the option a persona picks


# Every key of Selectors, so that page objects name a selector with a type checker watching
# (Site.sel): a typo is a mypy error, not a KeyError mid-run. tests/flows/test_profile.py keeps the
# two in step.
SelectorName = Literal[
    "logged_in_marker",
    "title_card",
    "title_card_id_attr",
    "title_card_href_pattern",
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
    "rating_prompt",
    "rating_text",
    "related",
    "player",
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
    "search_view_all",
    "search_view_all_results",
    "category_row",
    "profile_card",
    "profile_add",
    "profile_name_input",
    "profile_create",
    "logout",
    "account_menu",
    "ticket_category",
    "ticket_category_option",
]


class SyntheticMarking(_Strict):
    """How the site learns that traffic is synthetic (HogFlix's SyntheticMarker, docs/site-contract.md).

    Any mix of: a localStorage item and a sessionStorage item set before any page script runs, a
    cookie, and a query parameter on the session's first page (and again after a logout, whose
    ``reset()`` clears what the site registered). ``property`` is the event property that proves it.
    """

    enabled: bool = True
    local_storage_key: str | None = "hogflix_synthetic"
    session_storage_key: str | None = None
    session_storage_value: str = "true"
    cookie_name: str | None = None
    cookie_value: str = "1"
    query_param: str | None = None  # e.g. "synthetic=1"
    property: str = "is_synthetic"


class PlayerTime(_Strict):
    """How watch time is compressed. ``clock``: the player runs on timers, so Playwright's clock
    fast-forwards it. ``seek``: drag the seek control to the target position. ``media``: a real
    ``<video>``/``<audio>`` element plays, and its ``currentTime`` is advanced through the watch plan
    so the app emits its own milestones. ``realtime``: wait."""

    mode: Literal["clock", "seek", "media", "realtime"] = "clock"
    duration_attr: str = "data-duration"
    position_attr: str = "data-position"
    state_attr: str = "data-state"
    ended_value: str = "ended"
    # media: the share of the runtime each currentTime jump covers (the app sees every milestone).
    media_step: float = Field(default=0.05, gt=0.0, le=1.0)


class Signup(_Strict):
    """What a signup needs beyond e-mail and password: more fields (selector string -> value), and
    for a site that takes paid plans through a checkout right after, the control that pays."""

    fields: dict[str, str] = Field(default_factory=dict)
    checkout_pay: Selector | None = None


Feature = Literal[
    "home_row",
    "search_page",
    "instant_search",
    "category_page",
    "category_rows",
    "title_page",
    "related",
    "watchlist",
    "rating",
    "flixbuddy",
    "support",
    "account",
    "plan_change",
    "account_deletion",
    "profile_picker",
    "logout",
]
# What the embedded demo's pages have; a profile subtracts with `unsupported`, adds with `extras`.
DEFAULT_FEATURES: tuple[Feature, ...] = (
    "home_row",
    "search_page",
    "category_page",
    "title_page",
    "related",
    "watchlist",
    "rating",
    "flixbuddy",
    "support",
    "account",
    "plan_change",
    "account_deletion",
)
CORE_SELECTORS = (
    "logged_in_marker",
    "title_card",
    "player",
    "signup_email",
    "signup_password",
    "signup_submit",
    "login_email",
    "login_password",
    "login_submit",
    "form_error",
)
FEATURE_SELECTORS: dict[str, tuple[str, ...]] = {
    "home_row": ("row_popular",),
    "search_page": ("search_input", "search_submit", "search_results", "search_empty"),
    "instant_search": ("search_input", "search_results"),
    "category_page": ("category_name",),
    "category_rows": ("category_row",),
    "title_page": ("title_name", "play_button"),
    "related": ("related",),
    "watchlist": ("watchlist_add", "watchlist_remove", "watchlist_items", "watchlist_empty"),
    "rating": ("rate", "rating_value"),
    "flixbuddy": ("chat_input", "chat_send", "chat_message_assistant", "chat_recommendation"),
    "support": ("ticket_body", "ticket_submit", "ticket_confirmation"),
    "account": ("account_plan",),
    "plan_change": ("plan_select", "plan_submit"),
    "account_deletion": ("delete_account", "delete_confirm"),
    "profile_picker": ("profile_card", "profile_add", "profile_name_input", "profile_create"),
    "logout": ("logout",),
}
FEATURE_PATHS: dict[str, tuple[str, ...]] = {
    "search_page": ("search",),
    "category_page": ("category",),
    "title_page": ("title",),
    "watchlist": ("watchlist",),
    "flixbuddy": ("flixbuddy",),
    "support": ("support",),
    "account": ("account",),
    "plan_change": ("account",),
    "account_deletion": ("account",),
    "profile_picker": ("profiles",),
}


class SiteProfile(_Strict):
    name: str
    paths: Paths
    selectors: Selectors
    capture_url_pattern: str = r"^https?://[^/]+/(e|i/v0/e|batch|capture|track|engage)/?(\?|$)"
    synthetic: SyntheticMarking = SyntheticMarking()
    player: PlayerTime = PlayerTime()
    signup: Signup = Signup()
    unsupported: tuple[Feature, ...] = ()
    extras: tuple[Feature, ...] = ()
    # Once a page of the site is open, move by clicking its links (a full load would lose client
    # state a single-page app keeps in memory, such as a selected profile).
    in_app_navigation: bool = False
    # Path -> the control that leads there in the app (default: a link whose href is the path).
    # A list is clicked in order (a menu, then its item). Selectors may use {profile}: the name of
    # the viewing profile the session picked.
    nav: dict[str, Selector | list[Selector]] = Field(default_factory=dict)
    # Hosts other than the target's a page may load from; every other third party is aborted so no
    # session waits on the network (None: no blocking, the page loads what it asks for).
    third_party_hosts: tuple[str, ...] | None = None
    # Events every step may emit without being asked for (pageviews, clicks, identity plumbing).
    ambient_events: tuple[str, ...] = ("$pageview", "$pageleave", "$autocapture", "$identify", "$set")
    # Step name -> events the frontend must emit when the step succeeds.
    events: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    genres: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _required_by_features(self) -> SiteProfile:
        for feature in self.unsupported:
            if feature in self.extras:
                raise ValueError(f"feature {feature!r} is both unsupported and an extra")
        needed: list[tuple[str, str, str]] = [("selectors", key, "core") for key in CORE_SELECTORS]
        for feature in sorted(self.features()):
            needed += [("selectors", key, feature) for key in FEATURE_SELECTORS.get(feature, ())]
            needed += [("paths", key, feature) for key in FEATURE_PATHS.get(feature, ())]
        for table, key, why in needed:
            if getattr(getattr(self, table), key) is None:
                unless = f" (or declare {why!r} unsupported)" if why in FEATURE_SELECTORS else ""
                raise ValueError(f"{table}.{key} is required{unless}")
        if self.selectors.title_card_id_attr is None and self.selectors.title_card_href_pattern is None:
            raise ValueError("selectors.title_card_id_attr or selectors.title_card_href_pattern is required")
        return self

    def features(self) -> frozenset[Feature]:
        return frozenset(DEFAULT_FEATURES + self.extras) - frozenset(self.unsupported)

    def supports(self, feature: Feature) -> bool:
        return feature in self.features()

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


def profile_path(given: Path | None, *, frontend: Path | None = None) -> Path:
    """The profile a run uses: ``given`` (a file, or the name of a shipped profile such as
    ``hogflix``), else HogFlix's when the demo serves a HogFlix build, else the demo's own."""
    if given is None:
        return HOGFLIX_PROFILE if frontend is not None else DEMO_PROFILE
    shipped = PROFILES_DIR / f"{given}.toml"
    if not given.exists() and not given.suffix and given.parent == Path(".") and shipped.is_file():
        return shipped
    return given


def load_profile(path: Path | None = None, *, frontend: Path | None = None) -> SiteProfile:
    """Load a profile (see :func:`profile_path`) or raise a one-line HogfleetError."""
    source = profile_path(path, frontend=frontend)
    return validate(SiteProfile, read_toml(source, "site profile"), f"site profile {source}")


def validate_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HogfleetError(f"invalid target URL {url!r}: expected http(s)://host[:port]")
    return url.rstrip("/")
