"""Structured logs: ``--log-format json`` writes one JSON object per line on stderr.

Records carry the fields operators filter on (persona, session, step, error). Nothing that holds a
secret is ever passed to a logger: storage states and cookies stay in their files.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Literal

import orjson

LogFormat = Literal["text", "json"]
FIELDS = ("persona", "session", "step", "outcome", "error_class", "error", "attempt", "duration_s", "run_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        return orjson.dumps(out).decode()


def configure(fmt: LogFormat, verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
        level = logging.DEBUG if verbose else logging.INFO
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        level = logging.DEBUG if verbose else logging.WARNING
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter (httpx request lines, asyncio debug) is not the fleet's story.
    for noisy in ("httpx", "httpcore", "asyncio", "uvicorn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
