"""Matchmaker introductions and the matchmaker console; admins assign members to matchmakers.

Members answer introductions; matchmakers see only members assigned to them, masked, with
their consultation notes and the outcomes of their introductions. Everyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qingyuan.matching.cards import member_cards
from qingyuan.matchmakers import introductions
from qingyuan.platform.errors import UserError
from qingyuan.platform.models import Role, User
from qingyuan.verification.review import members_of, personal_data
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.chat import verified_member
from qingyuan.web.routes.matches import CARD_SCHEMA
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

INTRODUCTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "note", "member_ids", "my_answer", "connection_id"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "accepted", "declined"]},
        "note": {"type": "string"},
        "member_ids": {"type": "array", "items": {"type": "integer"}},
        "other_id": {"type": "integer"},
        "my_answer": {"type": ["boolean", "null"]},
        "connection_id": {"type": ["integer", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "member": CARD_SCHEMA,
    },
}
ASSIGNED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "nickname", "real_name", "phone"],
    "properties": {
        "id": {"type": "integer"},
        "nickname": {"type": "string"},
        "real_name": {"type": "string", "description": "Masked, e.g. 张*"},
        "phone": {"type": "string", "description": "Masked, e.g. 138****5678"},
        "age": {"type": ["integer", "null"]},
        "city": {"type": ["string", "null"]},
        "verified": {"type": "boolean"},
    },
}
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "text", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "text": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


async def _user(request: Request) -> User:
    user = await logged_in_user(request)
    return user


def _day(request: Request) -> Any:
    return kernel_of(request).settings.local_today()


async def _introductions_json(request: Request, user: User) -> list[dict[str, Any]]:
    cipher = kernel_of(request).cipher
    found = await introductions.introductions_for(user)
    rows = [introductions.introduction_json(cipher, intro, user.id) for intro in found]
    if user.role == Role.MEMBER:
        cards = await member_cards([row["other_id"] for row in rows], user.id, _day(request))
        for row in rows:
            row["member"] = cards[row["other_id"]]
    return rows


async def _assigned_json(request: Request, matchmaker: User) -> list[dict[str, Any]]:
    """Assigned members with masked personal data (never unmasked in the console)."""
    ids = await introductions.assigned_ids(matchmaker.id)
    users = {user.id: user for user in await User.filter(id__in=ids)}
    members = await members_of(ids)
    cards = await member_cards(ids, matchmaker.id, _day(request))
    rows = []
    for member_id in ids:
        card, member = cards[member_id], members.get(member_id)
        masked = (
            personal_data(kernel_of(request).cipher, member, users[member_id], masked=True)
            if member
            else None
        )
        rows.append(
            {
                "id": member_id,
                "nickname": card["nickname"],
                "real_name": masked.real_name if masked else "",
                "phone": masked.phone if masked else "",
                "age": card["age"],
                "city": card["city"],
                "verified": card["badges"]["verified"],
            }
        )
    return rows


def _note_json(note: dict[str, Any]) -> dict[str, Any]:
    return {**note, "created_at": note["created_at"].isoformat()}


# --- API -------------------------------------------------------------------------------------


@guard(roles=(Role.MEMBER, Role.MATCHMAKER))
async def list_api(request: Request) -> Response:
    user = await _user(request)
    if user.role == Role.MEMBER:
        await verified_member(request)
    return JSONResponse({"introductions": await _introductions_json(request, user)})


@guard(roles=(Role.MATCHMAKER,))
async def create_api(request: Request) -> Response:
    body = await read_json(request)
    cipher = kernel_of(request).cipher
    intro = await introductions.introduce(
        cipher,
        await _user(request),
        body.get("a_id"),
        body.get("b_id"),
        body.get("note"),
        _day(request),
    )
    return JSONResponse(introductions.introduction_json(cipher, intro, 0), status_code=201)


@guard(login=True)
async def respond_api(request: Request) -> Response:
    user = await verified_member(request)
    body = await read_json(request)
    intro = await introductions.respond(
        user.id, request.path_params["introduction_id"], body.get("accept")
    )
    return JSONResponse(introductions.introduction_json(kernel_of(request).cipher, intro, user.id))


@guard(roles=(Role.MATCHMAKER,))
async def assigned_api(request: Request) -> Response:
    return JSONResponse({"members": await _assigned_json(request, await _user(request))})


@guard(roles=(Role.MATCHMAKER,))
async def notes_api(request: Request) -> Response:
    notes = await introductions.notes_of(
        kernel_of(request).cipher, (await _user(request)).id, request.path_params["member_id"]
    )
    return JSONResponse({"notes": [_note_json(n) for n in notes]})


@guard(roles=(Role.MATCHMAKER,))
async def add_note_api(request: Request) -> Response:
    body = await read_json(request)
    note = await introductions.add_note(
        kernel_of(request).cipher,
        await _user(request),
        request.path_params["member_id"],
        body.get("text"),
    )
    return JSONResponse(_note_json(note), status_code=201)


@guard(roles=(Role.ADMIN,))
async def assign_api(request: Request) -> Response:
    body = await read_json(request)
    assignment = await introductions.assign(
        await _user(request), body.get("matchmaker_id"), body.get("member_id")
    )
    return JSONResponse(
        {"matchmaker_id": assignment.matchmaker_id, "member_id": assignment.member_id},
        status_code=201,
    )


# --- pages -----------------------------------------------------------------------------------


@guard(login=True)
async def member_page(request: Request) -> Response:
    user = await verified_member(request)
    rows = await _introductions_json(request, user)
    return await render(request, "introductions.html", {"introductions": rows, "error": None})


@guard(login=True)
async def respond_page(request: Request) -> Response:
    user = await verified_member(request)
    form = await read_form(request)
    answer = {"yes": True, "no": False}.get(str(form.get("accept")))
    try:
        intro = await introductions.respond(user.id, request.path_params["introduction_id"], answer)
    except UserError as error:
        if error.status == 404:
            raise
        rows = await _introductions_json(request, user)
        context = {"introductions": rows, "error": error}
        return await render(request, "introductions.html", context, status_code=error.status)
    target = f"/connections/{intro.connection_id}" if intro.connection_id else "/introductions"
    return RedirectResponse(target, status_code=303)


async def _console(
    request: Request, error: UserError | None = None, form: dict[str, Any] | None = None
) -> Response:
    matchmaker = await _user(request)
    context = {
        "members": await _assigned_json(request, matchmaker),
        "introductions": await _introductions_json(request, matchmaker),
        "error": error,
        "form": form or {},
    }
    return await render(
        request, "matchmaker/console.html", context, status_code=error.status if error else 200
    )


@guard(roles=(Role.MATCHMAKER,))
async def console_page(request: Request) -> Response:
    return await _console(request)


@guard(roles=(Role.MATCHMAKER,))
async def introduce_page(request: Request) -> Response:
    form = dict(await read_form(request))
    try:
        await introductions.introduce(
            kernel_of(request).cipher,
            await _user(request),
            form.get("a_id"),
            form.get("b_id"),
            form.get("note"),
            _day(request),
        )
    except UserError as error:
        if error.status == 404:
            raise
        return await _console(request, error, form)
    return RedirectResponse("/matchmaker", status_code=303)


async def _member_console(request: Request, error: UserError | None = None) -> Response:
    matchmaker = await _user(request)
    member_id = request.path_params["member_id"]
    cipher = kernel_of(request).cipher
    notes = await introductions.notes_of(cipher, matchmaker.id, member_id)  # 404 unless assigned
    member = next(m for m in await _assigned_json(request, matchmaker) if m["id"] == member_id)
    context = {"member": member, "notes": notes, "error": error}
    return await render(
        request, "matchmaker/member.html", context, status_code=error.status if error else 200
    )


@guard(roles=(Role.MATCHMAKER,))
async def member_console_page(request: Request) -> Response:
    return await _member_console(request)


@guard(roles=(Role.MATCHMAKER,))
async def add_note_page(request: Request) -> Response:
    form = await read_form(request)
    try:
        await introductions.add_note(
            kernel_of(request).cipher,
            await _user(request),
            request.path_params["member_id"],
            form.get("text"),
        )
    except UserError as error:
        if error.status == 404:
            raise
        return await _member_console(request, error)
    return RedirectResponse(f"/matchmaker/members/{request.path_params['member_id']}", 303)


routes = [
    ApiRoute(
        "/api/v1/introductions",
        list_api,
        method="GET",
        summary="My introductions (members), or the ones I made (matchmakers)",
        errors=(403, 404),
        responses={
            200: {
                "type": "object",
                "required": ["introductions"],
                "properties": {"introductions": {"type": "array", "items": INTRODUCTION_SCHEMA}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/introductions",
        create_api,
        method="POST",
        summary="Introduce two assigned members with a note (matchmakers)",
        body={
            "type": "object",
            "required": ["a_id", "b_id", "note"],
            "properties": {
                "a_id": {"type": "integer"},
                "b_id": {"type": "integer"},
                "note": {"type": "string", "minLength": 1, "maxLength": 1000},
            },
        },
        errors=(404, 409),
        responses={201: INTRODUCTION_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/introductions/{introduction_id:id}/response",
        respond_api,
        method="POST",
        summary="Accept or decline an introduction; both accepting opens a connection",
        body={
            "type": "object",
            "required": ["accept"],
            "properties": {"accept": {"type": "boolean"}},
        },
        errors=(404, 409),
        responses={200: INTRODUCTION_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/matchmaker/members",
        assigned_api,
        method="GET",
        summary="Members assigned to me, masked (matchmakers)",
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["members"],
                "properties": {"members": {"type": "array", "items": ASSIGNED_SCHEMA}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/matchmaker/members/{member_id:id}/notes",
        notes_api,
        method="GET",
        summary="My consultation notes about an assigned member",
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["notes"],
                "properties": {"notes": {"type": "array", "items": NOTE_SCHEMA}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/matchmaker/members/{member_id:id}/notes",
        add_note_api,
        method="POST",
        summary="Add a consultation note about an assigned member",
        body={
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}},
        },
        errors=(404,),
        responses={201: NOTE_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/admin/assignments",
        assign_api,
        method="POST",
        summary="Assign a member to a matchmaker (admins; audit-logged)",
        body={
            "type": "object",
            "required": ["matchmaker_id", "member_id"],
            "properties": {
                "matchmaker_id": {"type": "integer"},
                "member_id": {"type": "integer"},
            },
        },
        errors=(404,),
        responses={
            201: {
                "type": "object",
                "required": ["matchmaker_id", "member_id"],
                "properties": {
                    "matchmaker_id": {"type": "integer"},
                    "member_id": {"type": "integer"},
                },
            }
        },
    ),
    Route("/introductions", member_page),
    Route("/introductions/{introduction_id:id}/response", respond_page, methods=["POST"]),
    Route("/matchmaker", console_page),
    Route("/matchmaker/introductions", introduce_page, methods=["POST"]),
    Route("/matchmaker/members/{member_id:id}", member_console_page),
    Route("/matchmaker/members/{member_id:id}/notes", add_note_page, methods=["POST"]),
]
