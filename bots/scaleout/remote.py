"""Remote browsers: ``--browser-endpoint ws://host:port/`` connects to ``playwright run-server``.

Playwright only speaks to a server of the same major.minor. The server checks the client's
``User-Agent`` (``Playwright/<version>``) on the WebSocket upgrade and answers ``428 Precondition
Required`` with both versions in a box of text; nothing else on the wire reports the server's
version (``GET /json`` only gives the endpoint path). So the check *is* the connect: the fleet
connects to every endpoint before its first session and turns a refusal into one line naming the
two versions and the fix.

A server launches its browser with the client's launch options only when started with
``--unsafe``; otherwise it launches its own Playwright build (the official Playwright image has
it). To drive a server with a system Chromium (e.g. Debian's), start it with ``--unsafe`` and put
the options in the endpoint, which run-server reads from the ``launch-options`` query parameter:
``ws://host:3000/?launch-options={"executablePath":"/usr/lib/chromium/chromium","args":["--no-sandbox"]}``
(URL-encoded; :func:`endpoint_with_launch_options` builds it).
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from playwright.async_api import Browser, Playwright
from playwright.async_api import Error as PlaywrightError

from personas.errors import HogfleetError

CONNECT_TIMEOUT_MS = 30_000


def client_version() -> str:
    return metadata.version("playwright")


def major_minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])


def shown(endpoint: str) -> str:
    """The endpoint without its query (launch options can be long and are not the point)."""
    parts = urlsplit(endpoint)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def endpoint_with_launch_options(endpoint: str, options: dict[str, Any]) -> str:
    sep = "&" if "?" in endpoint else "?"
    return f"{endpoint}{sep}launch-options={quote(json.dumps(options, separators=(',', ':')))}"


def describe_connect_error(endpoint: str, message: str) -> str:
    where = shown(endpoint)
    server = re.search(r"server version: v?(\d+\.\d+)", message)
    if server:
        client = re.search(r"client version: v?(\d+\.\d+)", message)
        mine = client.group(1) if client else major_minor(client_version())
        theirs = server.group(1)
        return (
            f"remote browser {where} runs Playwright {theirs}, this hogfleet has Playwright {mine}: "
            f"they must share major.minor (run the server from playwright=={mine}.*, e.g. the "
            f"mcr.microsoft.com/playwright:v{mine}.x image, or pin playwright=={theirs}.* here)"
        )
    if "ECONNREFUSED" in message:
        return f"remote browser {where} refuses connections (is `playwright run-server` listening there?)"
    if "Executable doesn't exist" in message:
        return (
            f"remote browser {where} has no browser to launch: install one on the server "
            "(playwright install chromium) or start it with --unsafe and pass executablePath in "
            "the endpoint's launch-options (docs/scaling.md)"
        )
    first = next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")
    return f"remote browser {where}: {first[:300]}"


async def connect(pw: Playwright, endpoint: str, *, slowmo_ms: float = 0) -> Browser:
    """Connect to a ``playwright run-server``; every failure is one HogfleetError line."""
    if urlsplit(endpoint).scheme not in ("ws", "wss"):
        raise HogfleetError(f"--browser-endpoint {shown(endpoint)!r}: expected ws://host:port/ or wss://")
    try:
        return await pw.chromium.connect(endpoint, timeout=CONNECT_TIMEOUT_MS, slow_mo=slowmo_ms or None)
    except PlaywrightError as exc:
        raise HogfleetError(describe_connect_error(endpoint, str(exc))) from None
