"""Registration, verification status, appeal, consent, and the admin review queue."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qingyuan.platform import ratelimit
from qingyuan.platform.errors import NotFound, UserError
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.login import log_out
from qingyuan.platform.models import Role
from qingyuan.platform.sessions import Session
from qingyuan.verification import registration, review
from qingyuan.verification.models import Member
from qingyuan.verification.status import verification_json
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.api import client_ip
from qingyuan.web.security import (
    current_session,
    current_user,
    guard,
    kernel_of,
    logged_in_user,
    set_session_cookie,
)
from qingyuan.web.templating import render

CHECK_STATES = ["confirmed", "negative", "pending", "error"]
VERIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "departments", "reasons"],
    "properties": {
        "status": {"type": "string", "enum": ["pending", "verified", "rejected"]},
        "label": {"type": "string"},
        "departments": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string", "enum": CHECK_STATES},
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "checked_at": {"type": ["string", "null"]},
                },
            },
        },
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "badges": {"type": "object"},
        "appeal": {"type": "object"},
    },
}
REGISTRATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["phone", "password", "real_name", "id_number", "consents"],
    "properties": {
        "phone": {"type": "string"},
        "password": {"type": "string"},
        "real_name": {"type": "string"},
        "id_number": {"type": "string"},
        "consents": {
            "type": "object",
            "properties": {
                "sensitive_personal_information": {"type": "boolean"},
                "matching": {"type": "boolean"},
            },
        },
    },
}


async def _register(request: Request, body: dict[str, Any]) -> tuple[Member, Session]:
    """Register, then log the new member in (a fresh session, as at any login)."""
    kernel = kernel_of(request)
    user, member = await registration.register(kernel, body, client_ip(request))
    await log_out(kernel, await current_session(request))
    return member, await kernel.sessions.create(user.id, user.role)


@guard(csrf=False)  # like login: JSON only, Origin-checked, no session yet to hold a token
async def create_registration(request: Request) -> Response:
    member, session = await _register(request, await read_json(request))
    response = JSONResponse(
        {
            "member_id": member.id,
            "csrf_token": session.csrf_token,
            "verification": await verification_json(kernel_of(request).cipher, member),
        },
        status_code=201,
    )
    set_session_cookie(request, response, session.id)
    return response


async def _own_member(request: Request) -> Member:
    user = await current_user(request)
    member = await review.member_of(user) if user else None
    if member is None:
        raise NotFound()
    return member


@guard(login=True)
async def my_verification(request: Request) -> Response:
    return JSONResponse(
        await verification_json(kernel_of(request).cipher, await _own_member(request))
    )


async def _appeal(request: Request, member: Member, text: str) -> None:
    """Appeal, at most QINGYUAN_RATE_APPEAL times per window: an upheld appeal may be made
    again, but not in a flood that buries the review queue."""
    kernel = kernel_of(request)
    limit = ratelimit.rule(kernel.settings, "QINGYUAN_RATE_APPEAL", "3/2592000")
    too_many = _("You have appealed several times recently. Please wait before appealing again.")
    async with ratelimit.attempt(kernel.redis, f"appeal:{member.id}", limit, too_many):
        await review.appeal(kernel.cipher, member, text)


@guard(login=True)
async def appeal_api(request: Request) -> Response:
    member = await _own_member(request)
    text = (await read_json(request)).get("text")
    await _appeal(request, member, text if isinstance(text, str) else "")
    return JSONResponse(await verification_json(kernel_of(request).cipher, member))


@guard(login=True)
async def withdraw_consent_api(request: Request) -> Response:
    member = await _own_member(request)
    await review.do_withdraw_consent(
        kernel_of(request).cipher, member, actor=await current_user(request)
    )
    return JSONResponse(await verification_json(kernel_of(request).cipher, member))


@guard()
async def register_form(request: Request) -> Response:
    return await render(request, "register.html", {"form": {}, "error": None})


@guard()
async def register_submit(request: Request) -> Response:
    form = await read_form(request)
    body: dict[str, Any] = {
        name: str(form.get(name, "")) for name in ("phone", "password", "real_name", "id_number")
    }
    body["consents"] = {
        purpose: form.get(purpose) == "yes" for purpose in registration.CONSENT_PURPOSES
    }
    try:
        _, session = await _register(request, body)
    except UserError as error:
        shown = {k: v for k, v in body.items() if k in ("phone", "real_name", "consents")}
        return await render(
            request, "register.html", {"form": shown, "error": error}, status_code=error.status
        )
    response = RedirectResponse("/verification", status_code=303)
    set_session_cookie(request, response, session.id)
    return response


@guard(login=True)
async def status_page(request: Request) -> Response:
    member = await _own_member(request)
    context = {
        "member": member,
        "verification": await verification_json(kernel_of(request).cipher, member),
        "error": None,
        "appeal_text": "",
    }
    return await render(request, "verification.html", context)


@guard(login=True)
async def appeal_page(request: Request) -> Response:
    member = await _own_member(request)
    form = await read_form(request)
    try:
        await _appeal(request, member, str(form.get("text", "")))
    except UserError as error:
        context = {
            "member": member,
            "verification": await verification_json(kernel_of(request).cipher, member),
            "error": error,
            "appeal_text": str(form.get("text", "")),
        }
        return await render(request, "verification.html", context, status_code=error.status)
    return RedirectResponse("/verification", status_code=303)


@guard(login=True)
async def withdraw_page(request: Request) -> Response:
    member = await _own_member(request)
    await review.do_withdraw_consent(
        kernel_of(request).cipher, member, actor=await current_user(request)
    )
    return RedirectResponse("/verification", status_code=303)


@guard(roles=(Role.ADMIN,))
async def review_queue(request: Request) -> Response:
    cipher = kernel_of(request).cipher
    rows = [
        (m, review.personal_data(cipher, m, m.user, masked=True))
        for m in await review.review_queue()
    ]
    return await render(request, "admin/verification_queue.html", {"rows": rows})


async def _review_context(request: Request, member: Member, **extra: Any) -> dict[str, Any]:
    cipher = kernel_of(request).cipher
    return {
        "member": member,
        "masked": review.personal_data(cipher, member, member.user, masked=True),
        "appeal_text": member.appeal_text(cipher),
        "verification": await verification_json(cipher, member),
        "unmasked": None,
        "error": None,
        "reason": "",
        **extra,
    }


@guard(roles=(Role.ADMIN,))
async def review_member(request: Request) -> Response:
    member = await review.get_for_review(request.path_params["member_id"])
    return await render(
        request, "admin/verification_member.html", await _review_context(request, member)
    )


@guard(roles=(Role.ADMIN,))
async def unmask_member(request: Request) -> Response:
    member = await review.get_for_review(request.path_params["member_id"])
    admin = await logged_in_user(request)
    form = await read_form(request)
    kernel = kernel_of(request)
    limit = ratelimit.rule(kernel.settings, "QINGYUAN_RATE_UNMASK", "30/3600")
    too_many = _("You have unmasked many members recently. Please wait a while.")
    try:
        async with ratelimit.attempt(kernel.redis, f"unmask:{admin.id}", limit, too_many):
            unmasked = await review.unmask(
                kernel.cipher, admin, member, str(form.get("reason", ""))
            )
    except UserError as error:
        return await render(
            request,
            "admin/verification_member.html",
            await _review_context(request, member, error=error, reason=form.get("reason", "")),
            status_code=error.status,
        )
    return await render(
        request,
        "admin/verification_member.html",
        await _review_context(request, member, unmasked=unmasked),
    )


@guard(roles=(Role.ADMIN,))
async def decide_member(request: Request) -> Response:
    member = await review.get_for_review(request.path_params["member_id"])
    admin = await logged_in_user(request)
    form = await read_form(request)
    try:
        await review.decide_appeal(
            kernel_of(request),
            admin,
            member,
            str(form.get("decision", "")),
            str(form.get("note", "")),
        )
    except UserError as error:
        return await render(
            request,
            "admin/verification_member.html",
            await _review_context(request, member, error=error),
            status_code=error.status,
        )
    return RedirectResponse(f"/admin/verification/{member.id}", status_code=303)


routes = [
    ApiRoute(
        "/api/v1/registrations",
        create_registration,
        method="POST",
        summary="Register with real name and ID number (logs the new member in)",
        body=REGISTRATION_SCHEMA,
        authenticated=False,
        csrf=False,
        errors=(409, 429),
        responses={
            201: {
                "type": "object",
                "required": ["member_id", "csrf_token", "verification"],
                "properties": {
                    "member_id": {"type": "integer"},
                    "csrf_token": {"type": "string"},
                    "verification": VERIFICATION_SCHEMA,
                },
            }
        },
    ),
    ApiRoute(
        "/api/v1/me/verification",
        my_verification,
        method="GET",
        summary="My verification: status, each department, reasons",
        errors=(404,),
        responses={200: VERIFICATION_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/verification/appeal",
        appeal_api,
        method="POST",
        summary="Appeal a rejection (again after an upheld one; QINGYUAN_RATE_APPEAL per member)",
        errors=(404, 409, 429),
        body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
        responses={200: VERIFICATION_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/consent",
        withdraw_consent_api,
        method="DELETE",
        summary="Withdraw consent: all processing stops",
        errors=(404,),
        responses={200: VERIFICATION_SCHEMA},
    ),
    Route("/register", register_form, methods=["GET"]),
    Route("/register", register_submit, methods=["POST"]),
    Route("/verification", status_page, methods=["GET"]),
    Route("/verification/appeal", appeal_page, methods=["POST"]),
    Route("/verification/consent/withdraw", withdraw_page, methods=["POST"]),
    Route("/admin/verification", review_queue),
    Route("/admin/verification/{member_id:id}", review_member),
    Route("/admin/verification/{member_id:id}/unmask", unmask_member, methods=["POST"]),
    Route("/admin/verification/{member_id:id}/decision", decide_member, methods=["POST"]),
]
