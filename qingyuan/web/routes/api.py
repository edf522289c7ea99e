"""JSON API of the platform kernel: session (log in / out), me, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qingyuan.platform import login
from qingyuan.platform.accounts import phone_of
from qingyuan.platform.crypto import mask_phone
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import AuditEntry, Role, User
from qingyuan.web.bodies import read_json
from qingyuan.web.openapi import ApiRoute, build_schema
from qingyuan.web.security import (
    clear_session_cookie,
    current_session,
    guard,
    kernel_of,
    logged_in_user,
    set_session_cookie,
)

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "role", "display_name"],
    "properties": {
        "id": {"type": "integer"},
        "role": {"type": "string", "enum": ["member", "matchmaker", "admin"]},
        "display_name": {"type": "string"},
        "phone": {"type": "string", "description": "Masked, e.g. 138****5678"},
    },
}
LOGIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["phone", "password"],
    "properties": {"phone": {"type": "string"}, "password": {"type": "string"}},
}


def required_text(body: dict[str, Any], *names: str) -> list[str]:
    missing = {
        n: _("This field is required.")
        for n in names
        if not isinstance(body.get(n), str) or not body[n]
    }
    if missing:
        raise ValidationFailed(fields=missing)
    return [body[n] for n in names]


def user_json(request: Request, user: User) -> dict[str, Any]:
    phone = mask_phone(phone_of(kernel_of(request).cipher, user))
    return {
        "id": user.id,
        "role": user.role.value,
        "display_name": user.display_name,
        "phone": phone,
    }


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# Login has no session yet, hence no token to echo: JSON-only bodies (a cross-site form
# cannot send them without a CORS preflight) plus the Origin check stand in for it.
@guard(csrf=False)
async def create_session(request: Request) -> Response:
    phone, password = required_text(await read_json(request), "phone", "password")
    user, session = await login.log_in(
        kernel_of(request), phone, password, client_ip(request), await current_session(request)
    )
    response = JSONResponse({"user": user_json(request, user), "csrf_token": session.csrf_token})
    set_session_cookie(request, response, session.id)
    return response


@guard(login=True)
async def delete_session(request: Request) -> Response:
    await login.log_out(kernel_of(request), await current_session(request))
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@guard(login=True)
async def me(request: Request) -> Response:
    user = await logged_in_user(request)
    return JSONResponse(user_json(request, user))


AUDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "actor_id": {"type": ["integer", "null"]},
                    "action": {"type": "string"},
                    "target_type": {"type": "string"},
                    "target_id": {"type": "string"},
                    "reason": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
        }
    },
}


@guard(roles=(Role.ADMIN,))
async def audit_entries(request: Request) -> Response:
    entries = await AuditEntry.all().limit(100)
    return JSONResponse(
        {
            "entries": [
                {
                    "id": e.id,
                    "actor_id": e.actor_id,
                    "action": e.action,
                    "target_type": e.target_type,
                    "target_id": e.target_id,
                    "reason": e.reason,
                    "created_at": e.created_at.isoformat(),
                }
                for e in entries
            ]
        }
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(build_schema(request.app.routes))


routes = [
    ApiRoute(
        "/api/v1/session",
        create_session,
        method="POST",
        summary="Log in",
        body=LOGIN_SCHEMA,
        authenticated=False,
        csrf=False,
        errors=(429,),
        responses={
            200: {
                "type": "object",
                "required": ["user", "csrf_token"],
                "properties": {"user": USER_SCHEMA, "csrf_token": {"type": "string"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/session", delete_session, method="DELETE", summary="Log out", responses={204: None}
    ),
    ApiRoute(
        "/api/v1/me",
        me,
        method="GET",
        summary="The logged-in account",
        responses={200: USER_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/admin/audit",
        audit_entries,
        method="GET",
        summary="The latest audit log entries (admins)",
        errors=(404,),
        responses={200: AUDIT_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/openapi.json",
        openapi,
        method="GET",
        summary="This document",
        authenticated=False,
        responses={200: {"type": "object"}},
    ),
]
