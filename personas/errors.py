"""The one error type the CLI turns into a one-line message, and the one table of exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code a hogfleet command returns (the README's commands table documents them)."""

    OK = 0
    # The command ran but its work failed: failed sessions over --fail-over, a failed debug session,
    # events missing in `verify`, a run stopped by its circuit breaker, failed smoke cases.
    FAILED = 1
    # Bad input: a wrong flag, a corrupt file, a refused or unreachable target. One line, no traceback.
    USAGE = 2
    # Shell conventions (128 + signal number), so a supervisor can tell a stop from a failure.
    INTERRUPTED = 130  # SIGINT
    TERMINATED = 143  # SIGTERM


class HogfleetError(Exception):
    """A user-facing failure: bad input, a corrupt file, a refused target.

    The message must fit on one line and name the thing at fault; the CLI prints
    ``error: <message>`` and exits with :attr:`exit_code`, never a traceback.
    """

    exit_code: int = ExitCode.USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
