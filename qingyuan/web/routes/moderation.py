"""The admins' moderation queue: member reports, the reported messages, audit-logged decisions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qingyuan.connections import Report, safety
from qingyuan.connections.schemas import DecideReport, ReportOut, Reports
from qingyuan.platform.errors import NotFound, UserError
from qingyuan.platform.models import Role, User
from qingyuan.web.bodies import BodyReader, model_response, parse_form, parse_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render


async def _admin(request: Request) -> User:
    user = await logged_in_user(request)
    return user


async def _decide(request: Request, read: BodyReader) -> ReportOut:
    """The API's and the page's one decision; `read` is parse_json or parse_form."""
    kernel, report_id = kernel_of(request), request.path_params["report_id"]
    data = await read(request, DecideReport)
    item = await safety.do_decide_report(kernel, await _admin(request), report_id, data)
    return await safety.report_view(kernel.cipher, item)


async def _open_reports(request: Request) -> list[ReportOut]:
    cipher = kernel_of(request).cipher
    return await safety.reports_view(cipher, await safety.open_reports())


@guard(roles=(Role.ADMIN,))
async def reports_api(request: Request) -> Response:
    return model_response(Reports(reports=await _open_reports(request)))


@guard(roles=(Role.ADMIN,))
async def decision_api(request: Request) -> Response:
    return model_response(await _decide(request, parse_json))


@guard(roles=(Role.ADMIN,))
async def queue_page(request: Request) -> Response:
    return await render(request, "admin/reports.html", {"reports": await _open_reports(request)})


async def _report_page(request: Request, error: UserError | None = None) -> Response:
    item = await Report.get_or_none(id=request.path_params["report_id"])
    if item is None:
        raise NotFound()
    cipher = kernel_of(request).cipher
    context = {
        "report": await safety.report_view(cipher, item),
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
    try:
        await _decide(request, parse_form)
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
        responses={200: Reports},
    ),
    ApiRoute(
        "/api/v1/admin/reports/{report_id:id}/decision",
        decision_api,
        method="POST",
        summary="Decide a report: dismiss, warn or suspend, with a note (audit-logged)",
        body=DecideReport,
        errors=(404, 409),
        responses={200: ReportOut},
    ),
    Route("/admin/reports", queue_page),
    Route("/admin/reports/{report_id:id}", report_page),
    Route("/admin/reports/{report_id:id}/decision", decision_page, methods=["POST"]),
]
