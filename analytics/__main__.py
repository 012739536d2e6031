"""`python -m analytics serve`: the capture endpoint alone, without the demo site."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from analytics.capture import create_capture_app
from analytics.store import EventStore, StoreError


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the PostHog-compatible capture endpoint with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--db", type=Path, default=Path(".hogfleet/events.sqlite"), help="SQLite event store")
    serve.add_argument(
        "--token", action="append", default=None, help="accepted project API key (repeatable; default: any)"
    )
    serve.add_argument(
        "--forward-to", default=None, metavar="URL", help="also forward batches to this PostHog"
    )
    serve.add_argument(
        "--capture-error",
        type=_probability,
        default=0.0,
        metavar="P",
        help="share of requests failed with 500",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed of the fault injection")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        store = EventStore(args.db)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = create_capture_app(
        store,
        tokens=args.token,
        capture_error=args.capture_error,
        forward_to=args.forward_to,
        rng_seed=args.seed,
    )
    print(f"capture endpoint on http://{args.host}:{args.port} (events in {args.db})", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
