"""Run an ASGI app on a real loopback port in a background thread (for tests and benches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class ServerStartError(RuntimeError):
    """The background server did not come up."""


@contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", *, port: int = 0, startup_timeout: float = 20.0
) -> Iterator[str]:
    """Serve `app` with uvicorn on `host` (a free port unless given); yields the base URL.

    On exit the server is asked to stop (`should_exit`) and the thread joined, so open connections and
    the app's lifespan shutdown run as they would in production.
    """
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="auto", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{host}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise ServerStartError(f"uvicorn on {host} exited during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise ServerStartError(f"uvicorn on {host} did not start within {startup_timeout:.0f}s")
        time.sleep(0.01)
    try:
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        yield f"http://{url_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
