"""Errors as people see them: JSON `{"error": {...}}` under /api/, localised pages elsewhere."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import BaseORMException, DBConnectionError

from qingyuan.platform.errors import (
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    UserError,
)
from qingyuan.platform.i18n import gettext as _
from qingyuan.web.bodies import PayloadTooLarge
from qingyuan.web.security import is_api
from qingyuan.web.server import redact_path

logger = logging.getLogger(__name__)

# SQLite's primary result codes for a database that is busy, locked, unreadable or full.
_SQLITE_DOWN = frozenset({5, 6, 10, 13, 14})  # BUSY, LOCKED, IOERR, FULL, CANTOPEN


def _postgres_down() -> tuple[type[Exception], ...]:
    """asyncpg's errors for a server that is gone, stopping, or out of connections."""
    try:
        from asyncpg import exceptions  # type: ignore[import-untyped]
    except ImportError:  # installed without the `postgres` extra
        return ()
    return (
        exceptions.PostgresConnectionError,
        exceptions.OperatorInterventionError,
        exceptions.InsufficientResourcesError,
        exceptions.ConnectionDoesNotExistError,
    )


_POSTGRES_DOWN = _postgres_down()


class MethodNotAllowed(UserError):
    status = 405
    code = "method_not_allowed"

    def default_message(self) -> str:
        return _("This method is not allowed here.")


class InternalError(UserError):
    status = 500
    code = "internal_error"

    def default_message(self) -> str:
        return _("Something went wrong on our side. Please try again.")


def error_body(error: UserError) -> dict[str, Any]:
    """The error as every API answers it: `{"error": {"code", "message", "fields"}}`."""
    return {"error": {"code": error.code, "message": error.message, "fields": error.fields}}


def error_json(error: UserError) -> JSONResponse:
    response = JSONResponse(error_body(error), status_code=error.status)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _error_page(request: Request, error: UserError) -> Response:
    from qingyuan.web.templating import render  # templating imports security, not errors

    response = await render(request, "error.html", {"error": error}, status_code=error.status)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def user_error(request: Request, exc: Exception) -> Response:
    error = exc if isinstance(exc, UserError) else InternalError()
    return error_json(error) if is_api(request) else await _error_page(request, error)


_HTTP_ERRORS: dict[int, type[UserError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    503: ServiceUnavailable,
}


class HttpError(UserError):
    """An HTTP error Starlette (or a library) raised, under its own status."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.code = f"http_{status}"
        super().__init__()


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPException in our shape, keeping its status (a 413 stays a 413)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    kind = _HTTP_ERRORS.get(status)
    error = kind() if kind else HttpError(status if 400 <= status < 600 else 500)
    response = await user_error(request, error)
    if isinstance(exc, HTTPException) and exc.headers:  # e.g. the Allow of a 405
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    """A crash: logged with its type and endpoint only (the request may hold personal data)."""
    path = redact_path(request.url.path)  # a calendar feed's path holds its secret token
    logger.error("unhandled %s in %s", type(exc).__name__, path, exc_info=exc)
    return await _plain_when_broken(request, InternalError())


async def redis_down(request: Request, exc: Exception) -> Response:
    """Sessions live in Redis: without it we say so (503) rather than act half-way."""
    logger.error("redis unavailable: %s", type(exc).__name__)
    return await _unavailable(request)


async def database_error(request: Request, exc: Exception) -> Response:
    """The database (or the disk) failing: a 503 when it is unreachable, else a crash.

    Handled here rather than by the catch-all, which re-raises into the server: that closes
    the client's keep-alive connection on every such request.
    """
    if not _unreachable(exc):
        return await server_error(request, exc)
    logger.error("database unavailable: %s", type(exc).__name__)
    return await _unavailable(request)


def _unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (not that a query is wrong)."""
    if isinstance(exc, (OSError, DBConnectionError, *_POSTGRES_DOWN)):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return exc.sqlite_errorcode & 0xFF in _SQLITE_DOWN
    if isinstance(exc, BaseORMException):  # Tortoise raises its own error over the driver's
        inner = exc.__cause__ or exc.__context__
        return inner is not None and _unreachable(inner)
    return False


async def _unavailable(request: Request) -> Response:
    """The 503 page, rendered for an anonymous visitor: it needs neither Redis nor database."""
    request.scope.setdefault("qingyuan", {}).update(session=None, user=None)
    return await _plain_when_broken(request, ServiceUnavailable())


async def _plain_when_broken(request: Request, error: UserError) -> Response:
    try:
        return await user_error(request, error)
    except Exception:  # the error page itself needs Redis or the database
        return error_json(error)


EXCEPTION_HANDLERS = {
    UserError: user_error,
    HTTPException: http_error,
    RedisConnectionError: redis_down,
    RedisTimeoutError: redis_down,
    OSError: database_error,
    BaseORMException: database_error,
    **dict.fromkeys(_POSTGRES_DOWN, database_error),
    Exception: server_error,
}
