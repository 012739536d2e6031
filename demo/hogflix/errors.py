"""One error type for the whole local backend, rendered as the JSON each client library parses.

PostgREST errors carry `code, message, details, hint` (postgrest-js hands them to the app as-is);
GoTrue errors (API version 2024-01-01, which auth-js asks for) carry `code, message`. Both start with
`code` and `message`, so a caller always learns what was refused and why.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# auth-js reads the error code from `code` only when the response declares this API version
# (@supabase/auth-js lib/fetch.ts, handleError); otherwise it would look for `error_code`.
AUTH_API_VERSION = "2024-01-01"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details, "hint": self.hint}


def error_response(exc: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def auth_error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        {"code": exc.code, "message": exc.message},
        status_code=exc.status,
        headers={"X-Supabase-Api-Version": AUTH_API_VERSION},
    )
