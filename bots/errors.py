"""Classify what went wrong in a session, so the ledger and reports speak one vocabulary."""

from __future__ import annotations

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bots.steps import Interrupted, StepTimeout
from flows.errors import HttpStatusError, UnexpectedPage

SELECTOR_TIMEOUT = "selector_timeout"
NAVIGATION = "navigation"
HTTP_5XX = "http_5xx"
HTTP_429 = "http_429"
BROWSER_CRASH = "browser_crash"
STEP_TIMEOUT = "step_timeout"
UNEXPECTED_PAGE = "unexpected_page"
ERROR = "error"
INTERRUPTED = "interrupted"

RETRYABLE = frozenset({HTTP_5XX, HTTP_429})
_CRASH_MARKERS = ("has been closed", "browser has disconnected", "crashed", "Target closed")


def classify(exc: BaseException, last_http_status: int | None = None) -> str:
    if isinstance(exc, Interrupted):
        return INTERRUPTED
    if isinstance(exc, HttpStatusError):
        return HTTP_429 if exc.status == 429 else HTTP_5XX
    if isinstance(exc, PlaywrightTimeout | StepTimeout):
        # A UI wait that timed out right after the site answered 5xx/429 is the site's fault.
        if last_http_status == 429:
            return HTTP_429
        if last_http_status is not None and last_http_status >= 500:
            return HTTP_5XX
        if isinstance(exc, StepTimeout):
            return STEP_TIMEOUT
        return NAVIGATION if "navigat" in str(exc) or "page.goto" in str(exc) else SELECTOR_TIMEOUT
    if isinstance(exc, UnexpectedPage):
        return UNEXPECTED_PAGE
    if isinstance(exc, PlaywrightError):
        text = str(exc)
        if any(marker in text for marker in _CRASH_MARKERS):
            return BROWSER_CRASH
        if "net::ERR_" in text or "NS_ERROR" in text:
            return NAVIGATION
    return ERROR


def one_line(exc: BaseException, limit: int = 300) -> str:
    """First meaningful line of an error, for the ledger (Playwright's call logs are long)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:limit]
