"""JSON errors for everything a client can get wrong, and limits enforced before routing.

Every error body is ``{"error": <code>, "message": <human text>, ...}``. Nothing a client
sends produces a 500: validation problems are 422 (400 for JSON that does not parse), an
oversized body is 413 before it is read in full, a non-JSON body on the JSON API is 415,
and a database that cannot be reached is 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderation.review.service import NotFoundError

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": _STATUS_CODES.get(status, "error"), "message": message, **extra}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(status, message, **extra), status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _location(tuple(e.get("loc", ()))),
            "message": e.get("msg", "invalid"),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    if any(e["type"] in ("json_invalid", "json_type") for e in errors):
        return error_response(400, "The request body is not valid JSON.", errors=errors)
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return error_response(422, f"{first['field']}: {first['message']}", errors=errors)


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
    return error_response(404, str(exc))


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc.__class__.__name__)
    return error_response(
        503,
        "The database is unavailable; nothing was stored. Try again shortly.",
        headers={"Retry-After": "5"},
    )


async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
    # Input the database refuses whatever the retry (PostgreSQL: a NUL character; any backend:
    # a lone surrogate from a "\\ud800" JSON escape). The client's fault: not a 503, not a 500.
    log.info("unstorable input: %s", exc.__class__.__name__)
    return error_response(
        422, "The request contains characters that cannot be stored (NUL or invalid Unicode)."
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal error; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(NotFoundError, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(UnicodeEncodeError, _unstorable)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DBAPIError, _database_down)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes`` (by Content-Length at once, or while streaming),
    415 for a body on the JSON API whose content type is not JSON."""

    def __init__(self, app: ASGIApp, max_bytes: int, json_prefix: str = "/api/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.json_prefix = json_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                await error_response(400, "Invalid Content-Length header.")(scope, receive, send)
                return
            if too_big:
                await self._too_large(scope, receive, send)
                return
        if scope["path"].startswith(self.json_prefix) and (length is None or int(length) > 0):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if not (ctype == "application/json" or ctype.endswith("+json")):
                response = error_response(
                    415, "Send the request body as JSON (Content-Type: application/json)."
                )
                await response(scope, receive, send)
                return

        received = 0

        async def limited_receive() -> Message:
            # Raised inside the app, so FastAPI's handler turns it into a JSON 413.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(
                        413, f"The request body is larger than {self.max_bytes} bytes."
                    )
            return message

        await self.app(scope, limited_receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"The request body is larger than {self.max_bytes} bytes.", headers={"Connection": "close"}
        )
        await response(scope, receive, send)
