"""``hogfleet demo serve``: run the embedded HogFlix demo site and its capture endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bots.cli.options import FrontendOpt
from personas.errors import HogfleetError

demo_app = typer.Typer(name="demo", help="The embedded HogFlix demo site.", no_args_is_help=True)


@demo_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="interface to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free port)")] = 8000,
    db: Annotated[Path | None, typer.Option(help="app SQLite database; events are stored beside it")] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            help="fault spec, e.g. error=0.05,ratelimit=0.03,latency_ms=300 (or HOGFLEET_DEMO_FAULTS)"
        ),
    ] = None,
    frontend: FrontendOpt = None,
) -> None:
    """Serve the site on HOST:PORT until Ctrl-C; prints the URL once listening.

    With --frontend DIR (or HOGFLEET_FRONTEND) it serves that HogFlix production build on the local
    Supabase-compatible backend, with PostHog's endpoints under /ingest/.
    """
    from demo.faults import FaultSpecError
    from demo.server import ServeError, run
    from demo.settings import DemoConfigError, DemoSettings

    try:
        overrides: dict[str, object] = {} if frontend is None else {"frontend": frontend}
        settings = DemoSettings.from_env(db_path=db, faults=faults, environ=None, **overrides)
        run(settings, host, port)
    except (FaultSpecError, DemoConfigError, ServeError) as exc:
        raise HogfleetError(str(exc)) from None
    except KeyboardInterrupt:
        pass
