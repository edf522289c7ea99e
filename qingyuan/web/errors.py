"""Errors as people see them: JSON `{"error": {...}}` under /api/, localised pages elsewhere."""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qingyuan.platform.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    UserError,
)
from qingyuan.platform.i18n import gettext as _
from qingyuan.web.security import is_api

logger = logging.getLogger(__name__)


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


def error_json(error: UserError) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
    response = JSONResponse(body, status_code=error.status)
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
    assert isinstance(exc, UserError)
    return error_json(exc) if is_api(request) else await _error_page(request, exc)


_HTTP_ERRORS: dict[int, type[UserError]] = {
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    503: ServiceUnavailable,
}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return await user_error(request, _HTTP_ERRORS.get(exc.status_code, UserError)())


async def server_error(request: Request, exc: Exception) -> Response:
    """A crash: logged with its type and endpoint only (the request may hold personal data)."""
    logger.error("unhandled %s in %s", type(exc).__name__, request.url.path, exc_info=exc)
    return await _plain_when_broken(request, InternalError())


async def redis_down(request: Request, exc: Exception) -> Response:
    """Sessions live in Redis: without it we say so (503) rather than act half-way."""
    logger.error("redis unavailable: %s", type(exc).__name__)
    request.scope.setdefault("qingyuan", {}).update(session=None, user=None)  # render anonymous
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
    Exception: server_error,
}
