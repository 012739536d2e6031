"""`python -m analytics serve`: the capture endpoint alone, without the demo site.

`python -m analytics sdk ensure`: install the pinned posthog-js into the npm cache (a set-up step).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from analytics import sdk
from analytics.capture import create_capture_app
from analytics.flags import FlagsError, FlagSet, default_flags, load_flags
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
    serve.add_argument(
        "--flags", type=Path, default=None, metavar="TOML", help="flag definitions (default: the shipped set)"
    )
    sdk_parser = sub.add_parser("sdk", help="the real posthog-js the endpoint serves extensions from")
    sdk_sub = sdk_parser.add_subparsers(dest="sdk_command", required=True)
    ensure = sdk_sub.add_parser(
        "ensure", help="install posthog-js into the npm cache unless there; print its dir"
    )
    ensure.add_argument("--version", default=sdk.POSTHOG_JS_VERSION, help="posthog-js version")
    return parser


def _serve(args: argparse.Namespace) -> int:
    try:
        flags: FlagSet = load_flags(args.flags) if args.flags is not None else default_flags()
    except FlagsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        store = EventStore(args.db)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Extensions are served only when set-up installed posthog-js; serving never installs anything.
    sdk_dir = sdk.package_dir() if sdk.is_installed() else None
    app = create_capture_app(
        store,
        tokens=args.token,
        capture_error=args.capture_error,
        forward_to=args.forward_to,
        rng_seed=args.seed,
        flags=flags,
        sdk_dir=sdk_dir,
    )
    print(f"capture endpoint on http://{args.host}:{args.port} (events in {args.db})", flush=True)
    if sdk_dir is None:
        print(
            "posthog-js not installed: /static/*.js answer 404 (python -m analytics sdk ensure)", flush=True
        )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sdk":
        try:
            print(sdk.ensure_posthog_js(args.version))
        except sdk.SdkError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
