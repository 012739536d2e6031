"""The one error type the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class HogfleetError(Exception):
    """A user-facing failure: bad input, a corrupt file, a refused target.

    The message must fit on one line and name the thing at fault; the CLI prints
    ``error: <message>`` and exits with :attr:`exit_code`, never a traceback.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
