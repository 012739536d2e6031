"""Run the demo with uvicorn, announcing the URL only once the socket is listening."""

from __future__ import annotations

import socket
import sys

import uvicorn

from demo.app import create_app
from demo.settings import DemoSettings


class ServeError(RuntimeError):
    """The demo could not start serving (e.g. the port is taken); the message says why."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def run(settings: DemoSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted. Prints ``demo: serving http://HOST:PORT`` once the socket listens."""
    app = create_app(settings)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    # The socket already accepts connections (they queue until uvicorn's loop picks them up), so a
    # supervisor that waits for this line can connect immediately.
    print(f"demo: serving http://{url_host}:{bound}", flush=True)
    if settings.faults.active or settings.capture_error_rate:
        print(f"demo: faults {settings.faults.describe()}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        # uvicorn re-raises Ctrl-C after its graceful shutdown; say so either way.
        sock.close()
        print("demo: stopped", file=sys.stderr, flush=True)
