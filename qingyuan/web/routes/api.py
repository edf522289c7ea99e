"""JSON API of the platform kernel: session (log in / out), me, the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qingyuan.platform import login
from qingyuan.platform.accounts import phone_of
from qingyuan.platform.crypto import mask_phone
from qingyuan.platform.models import AuditEntry, Role, User
from qingyuan.platform.schemas import Account, AuditLog, AuditRow, LoggedIn, Login
from qingyuan.web.bodies import model_response, parse_json
from qingyuan.web.openapi import ApiRoute, build_schema
from qingyuan.web.security import (
    clear_session_cookie,
    current_session,
    guard,
    kernel_of,
    logged_in_user,
    set_session_cookie,
)


def account(request: Request, user: User) -> Account:
    phone = mask_phone(phone_of(kernel_of(request).cipher, user))
    return Account(id=user.id, role=user.role.value, display_name=user.display_name, phone=phone)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# Login has no session yet, hence no token to echo: JSON-only bodies (a cross-site form
# cannot send them without a CORS preflight) plus the Origin check stand in for it.
@guard(csrf=False)
async def create_session(request: Request) -> Response:
    body = await parse_json(request, Login)
    user, session = await login.log_in(
        kernel_of(request),
        body.phone,
        body.password,
        client_ip(request),
        await current_session(request),
    )
    response = model_response(LoggedIn(user=account(request, user), csrf_token=session.csrf_token))
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
    return model_response(account(request, user))


@guard(roles=(Role.ADMIN,))
async def audit_entries(request: Request) -> Response:
    entries = await AuditEntry.all().limit(100)
    return model_response(
        AuditLog(
            entries=[
                AuditRow(
                    id=e.id,
                    actor_id=e.actor_id,
                    action=e.action,
                    target_type=e.target_type,
                    target_id=e.target_id,
                    reason=e.reason,
                    created_at=e.created_at,
                )
                for e in entries
            ]
        )
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(build_schema(request.app.routes, kernel_of(request).settings))


routes = [
    ApiRoute(
        "/api/v1/session",
        create_session,
        method="POST",
        summary="Log in",
        body=Login,
        authenticated=False,
        csrf=False,
        errors=(429,),
        responses={200: LoggedIn},
    ),
    ApiRoute(
        "/api/v1/session", delete_session, method="DELETE", summary="Log out", responses={204: None}
    ),
    ApiRoute(
        "/api/v1/me",
        me,
        method="GET",
        summary="The logged-in account",
        responses={200: Account},
    ),
    ApiRoute(
        "/api/v1/admin/audit",
        audit_entries,
        method="GET",
        summary="The latest audit log entries (admins)",
        errors=(404,),
        responses={200: AuditLog},
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
