"""``python -m demo serve [--host H] [--port N] [--db PATH] [--faults SPEC] [--frontend DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from demo.faults import FaultSpecError
from demo.server import ServeError, run
from demo.settings import DemoConfigError, DemoSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description="The HogFlix demo site")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the site and its capture endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", type=Path, default=None, help="app SQLite database (events go beside it)")
    serve.add_argument("--faults", default=None, help="e.g. error=0.05,ratelimit=0.03,latency_ms=300")
    serve.add_argument(
        "--frontend",
        type=Path,
        default=None,
        help="serve this HogFlix production build on the local Supabase stand-in (env HOGFLEET_FRONTEND)",
    )
    args = parser.parse_args(argv)
    try:
        overrides = {} if args.frontend is None else {"frontend": args.frontend}
        settings = DemoSettings.from_env(db_path=args.db, faults=args.faults, **overrides)
        run(settings, args.host, args.port)
    except (FaultSpecError, DemoConfigError, ServeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
