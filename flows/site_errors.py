"""Errors a flow raises when the site, not the bot, is at fault. bots/ classifies them."""

from __future__ import annotations


class FlowError(Exception):
    """Base for failures a flow detects itself (as opposed to Playwright's own errors)."""


class HttpStatusError(FlowError):
    """The site answered a navigation with 429 or 5xx and retries ran out."""

    def __init__(self, status: int, url: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.url = url
        self.retry_after = retry_after


class UnexpectedPage(FlowError):
    """The page is not in the state the flow needs (e.g. a login that did not take)."""
