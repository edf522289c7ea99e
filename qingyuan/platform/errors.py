"""Errors a person can act on. Services raise them; the web turns them into a 4xx.

Each carries a stable machine `code`, a localised `message` and optional per-field messages,
which is exactly the JSON error shape of the API: `{"error": {"code", "message", "fields"}}`.
"""

from __future__ import annotations

from collections.abc import Mapping

from qingyuan.platform.i18n import gettext as _


class UserError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, fields: Mapping[str, str] | None = None):
        self.message = message or self.default_message()
        self.fields = dict(fields or {})
        super().__init__(self.code)

    def default_message(self) -> str:
        return _("The request could not be processed.")


class ValidationFailed(UserError):
    status = 422
    code = "validation_failed"

    def default_message(self) -> str:
        return _("Please correct the highlighted fields.")


class NotAuthenticated(UserError):
    status = 401
    code = "not_authenticated"

    def default_message(self) -> str:
        return _("Please log in first.")


class Forbidden(UserError):
    status = 403
    code = "forbidden"

    def default_message(self) -> str:
        return _("You are not allowed to do this.")


class NotFound(UserError):
    status = 404
    code = "not_found"

    def default_message(self) -> str:
        return _("Not found.")


class Conflict(UserError):
    status = 409
    code = "conflict"


class RateLimited(UserError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)

    def default_message(self) -> str:
        minutes = max(1, round(self.retry_after / 60))
        return _("Too many attempts. Please try again in %(minutes)d minutes.", minutes=minutes)


class ServiceUnavailable(UserError):
    status = 503
    code = "service_unavailable"

    def default_message(self) -> str:
        return _("The service is temporarily unavailable. Please try again shortly.")
