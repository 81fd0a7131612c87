"""Domain errors and request errors become HTTP answers here, and only here.

Every error answer has the same body: ``{"error": {"code": ..., "message": ...}}`` (plus
``details`` for validation errors), so clients handle one shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bandeja.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    PermissionDenied: 403,
    Unauthenticated: 401,
    Conflict: 409,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        if err.get("type") == "json_invalid":
            out.append({"field": "", "message": "the request body is not valid JSON"})
            continue
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        out.append({"field": ".".join(loc), "message": err.get("msg", "invalid")})
    return out


def _summary(details: list[dict[str, Any]]) -> str:
    parts = [f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details[:3]]
    return "; ".join(parts) or "invalid input"


def _is_data_error(exc: StatementError) -> bool:
    """PostgreSQL's "data exception" class (SQLSTATE 22…) or a driver refusing a value."""
    orig = exc.orig
    if isinstance(orig, OverflowError | ValueError | UnicodeError):
        return True
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return JSONResponse(
            error_body(exc.code, exc.message, getattr(exc, "details", None)),
            status_code=_status_of(exc),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc.errors())
        return JSONResponse(
            error_body("invalid_input", _summary(details), details), status_code=422
        )

    @app.exception_handler(ValidationError)
    async def _validation(_request: Request, exc: ValidationError) -> JSONResponse:
        details = _validation_details(exc.errors())
        return JSONResponse(
            error_body("invalid_input", _summary(details), details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(StatementError)
    async def _database(_request: Request, exc: StatementError) -> JSONResponse:
        # A value the database cannot take (a number out of range, a NUL character) is bad
        # input that slipped past validation: still the caller's error, never a 500.
        if _is_data_error(exc):
            return JSONResponse(
                error_body(
                    "invalid_input",
                    "a value is out of range or contains characters that cannot be stored",
                ),
                status_code=422,
            )
        log.exception("database error", exc_info=exc)
        return JSONResponse(
            error_body("internal", "internal error; it has been logged"), status_code=500
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal", "internal error; it has been logged"), status_code=500
        )
