"""Parsing shared by the subcommands, so every command rejects bad input the same way."""

from __future__ import annotations

import datetime as dt

from personas.errors import HogfleetError


def parse_date(value: str | None, option: str = "--date") -> dt.date:
    """A strict YYYY-MM-DD date (today, from the wall clock, when ``value`` is None)."""
    if value is None:
        return dt.date.today()
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HogfleetError(f"{option} must be a date as YYYY-MM-DD (got {value!r})") from None
