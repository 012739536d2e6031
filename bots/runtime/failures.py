"""Classify what went wrong in a session, so the ledger and reports speak one vocabulary."""

from __future__ import annotations

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bots.records.ledger import ErrorClass
from bots.runtime.steps import Interrupted, StepTimeout
from flows.site_errors import HttpStatusError, UnexpectedPage

# Worth another attempt of the whole session: the site was briefly unwell, or the browser died.
RETRYABLE = frozenset({ErrorClass.HTTP_5XX, ErrorClass.HTTP_429, ErrorClass.BROWSER_CRASH})
_CRASH_MARKERS = ("has been closed", "browser has disconnected", "crashed", "Target closed")


def classify(exc: BaseException, last_http_status: int | None = None) -> ErrorClass:
    if isinstance(exc, Interrupted):
        return ErrorClass.INTERRUPTED
    if isinstance(exc, HttpStatusError):
        return ErrorClass.HTTP_429 if exc.status == 429 else ErrorClass.HTTP_5XX
    if isinstance(exc, PlaywrightTimeout | StepTimeout):
        # A UI wait that timed out right after the site answered 5xx/429 is the site's fault.
        if last_http_status == 429:
            return ErrorClass.HTTP_429
        if last_http_status is not None and last_http_status >= 500:
            return ErrorClass.HTTP_5XX
        if isinstance(exc, StepTimeout):
            return ErrorClass.STEP_TIMEOUT
        return (
            ErrorClass.NAVIGATION
            if "navigat" in str(exc) or "page.goto" in str(exc)
            else ErrorClass.SELECTOR_TIMEOUT
        )
    if isinstance(exc, UnexpectedPage):
        return ErrorClass.UNEXPECTED_PAGE
    if isinstance(exc, PlaywrightError):
        text = str(exc)
        if any(marker in text for marker in _CRASH_MARKERS):
            return ErrorClass.BROWSER_CRASH
        if "net::ERR_" in text or "NS_ERROR" in text:
            return ErrorClass.NAVIGATION
    return ErrorClass.ERROR


def one_line(exc: BaseException, limit: int = 300) -> str:
    """First meaningful line of an error, for the ledger (Playwright's call logs are long)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:limit]
