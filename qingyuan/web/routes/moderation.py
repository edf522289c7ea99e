"""The admins' moderation queue: member reports, the reported messages, audit-logged decisions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qingyuan.connections import safety
from qingyuan.connections.models import Report
from qingyuan.platform.errors import NotFound, UserError
from qingyuan.platform.models import Role, User
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "reason", "status", "reported_id", "reports_against"],
    "properties": {
        "id": {"type": "integer"},
        "reason": {"type": "string"},
        "reason_text": {"type": "string"},
        "details": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "dismissed", "warned", "suspended"]},
        "reporter_id": {"type": "integer"},
        "reported_id": {"type": "integer"},
        "connection_id": {"type": ["integer", "null"]},
        "reports_against": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["decision", "note"],
    "properties": {
        "decision": {"type": "string", "enum": list(safety.DECISIONS)},
        "note": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
}


async def _admin(request: Request) -> User:
    user = await logged_in_user(request)
    return user


async def _decide(request: Request, decision: Any, note: Any) -> Report:
    return await safety.do_decide_report(
        kernel_of(request), await _admin(request), request.path_params["report_id"], decision, note
    )


@guard(roles=(Role.ADMIN,))
async def reports_api(request: Request) -> Response:
    cipher = kernel_of(request).cipher
    return JSONResponse(
        {"reports": [await safety.report_json(cipher, r) for r in await safety.open_reports()]}
    )


@guard(roles=(Role.ADMIN,))
async def decision_api(request: Request) -> Response:
    body = await read_json(request)
    item = await _decide(request, body.get("decision"), body.get("note"))
    return JSONResponse(await safety.report_json(kernel_of(request).cipher, item))


@guard(roles=(Role.ADMIN,))
async def queue_page(request: Request) -> Response:
    cipher = kernel_of(request).cipher
    rows = [await safety.report_json(cipher, r) for r in await safety.open_reports()]
    return await render(request, "admin/reports.html", {"reports": rows})


async def _report_page(request: Request, error: UserError | None = None) -> Response:
    item = await Report.get_or_none(id=request.path_params["report_id"])
    if item is None:
        raise NotFound()
    cipher = kernel_of(request).cipher
    context = {
        "report": await safety.report_json(cipher, item),
        "messages": await safety.evidence(cipher, await _admin(request), item),
        "error": error,
    }
    return await render(
        request, "admin/report.html", context, status_code=error.status if error else 200
    )


@guard(roles=(Role.ADMIN,))
async def report_page(request: Request) -> Response:
    return await _report_page(request)


@guard(roles=(Role.ADMIN,))
async def decision_page(request: Request) -> Response:
    form = await read_form(request)
    try:
        await _decide(request, form.get("decision"), form.get("note"))
    except UserError as error:
        if error.status == 404:
            raise
        return await _report_page(request, error)
    return RedirectResponse("/admin/reports", status_code=303)


routes = [
    ApiRoute(
        "/api/v1/admin/reports",
        reports_api,
        method="GET",
        summary="Open reports, oldest first (admins)",
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["reports"],
                "properties": {"reports": {"type": "array", "items": REPORT_SCHEMA}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/admin/reports/{report_id:id}/decision",
        decision_api,
        method="POST",
        summary="Decide a report: dismiss, warn or suspend, with a note (audit-logged)",
        body=DECISION_SCHEMA,
        errors=(404, 409),
        responses={200: REPORT_SCHEMA},
    ),
    Route("/admin/reports", queue_page),
    Route("/admin/reports/{report_id:id}", report_page),
    Route("/admin/reports/{report_id:id}/decision", decision_page, methods=["POST"]),
]
