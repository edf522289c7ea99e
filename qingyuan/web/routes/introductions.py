"""Matchmaker introductions and the matchmaker console; admins assign members to matchmakers.

Members answer introductions; matchmakers see only members assigned to them, masked, with
their consultation notes and the outcomes of their introductions. Everyone else gets 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qingyuan.matching.cards import member_cards
from qingyuan.matching.schemas import Card
from qingyuan.matchmakers import introductions
from qingyuan.matchmakers.schemas import (
    AddNote,
    Answer,
    Assign,
    AssignedMember,
    AssignedMembers,
    Assignment,
    Introduce,
    IntroductionOut,
    Introductions,
    MemberIntroduction,
    NoteOut,
    Notes,
)
from qingyuan.platform.errors import UserError
from qingyuan.platform.models import Role, User
from qingyuan.verification.review import members_of, personal_data
from qingyuan.web.bodies import BodyReader, model_response, parse_form, parse_json, read_form
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.chat import verified_member
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render


async def _user(request: Request) -> User:
    user = await logged_in_user(request)
    return user


def _day(request: Request) -> date:
    return kernel_of(request).settings.local_today()


async def _introductions(
    request: Request, user: User
) -> list[MemberIntroduction | IntroductionOut]:
    """The user's introductions; a member's with the card of whom they were introduced to."""
    cipher = kernel_of(request).cipher
    found = await introductions.introductions_for(user)
    rows = [introductions.introduction_view(cipher, intro, user.id) for intro in found]
    if user.role != Role.MEMBER:
        return list(rows)
    cards = await member_cards([row.other_id for row in rows], user.id, _day(request))
    return [
        MemberIntroduction(**dict(row), member=Card.model_validate(cards[row.other_id]))
        for row in rows
    ]


async def _assigned(request: Request, matchmaker: User) -> list[AssignedMember]:
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
            AssignedMember(
                id=member_id,
                nickname=card["nickname"],
                real_name=masked.real_name if masked else "",
                phone=masked.phone if masked else "",
                age=card["age"],
                city=card["city"],
                verified=card["badges"]["verified"],
            )
        )
    return rows


# --- API -------------------------------------------------------------------------------------


@guard(roles=(Role.MEMBER, Role.MATCHMAKER))
async def list_api(request: Request) -> Response:
    user = await _user(request)
    if user.role == Role.MEMBER:
        await verified_member(request)
    return model_response(Introductions(introductions=await _introductions(request, user)))


async def _introduce(request: Request, data: Introduce) -> IntroductionOut:
    """The API's and the console's one call: the matchmaker is no side (viewer 0)."""
    cipher = kernel_of(request).cipher
    intro = await introductions.introduce(cipher, await _user(request), data, _day(request))
    return introductions.introduction_view(cipher, intro, 0)


@guard(roles=(Role.MATCHMAKER,))
async def create_api(request: Request) -> Response:
    return model_response(await _introduce(request, await parse_json(request, Introduce)), 201)


async def _respond(request: Request, user: User, read: BodyReader) -> IntroductionOut:
    """The API's and the page's one answer; `read` is parse_json or parse_form."""
    intro_id = request.path_params["introduction_id"]
    await introductions.ensure_introduced(user.id, intro_id)  # another's: 404 before a 422
    answer = await read(request, Answer)
    intro = await introductions.respond(user.id, intro_id, answer.accept)
    return introductions.introduction_view(kernel_of(request).cipher, intro, user.id)


@guard(login=True)
async def respond_api(request: Request) -> Response:
    user = await verified_member(request)
    return model_response(await _respond(request, user, parse_json))


@guard(roles=(Role.MATCHMAKER,))
async def assigned_api(request: Request) -> Response:
    return model_response(AssignedMembers(members=await _assigned(request, await _user(request))))


async def _notes(request: Request) -> list[NoteOut]:
    """The matchmaker's notes about the member in the path (404 unless assigned to them)."""
    matchmaker = await _user(request)
    member_id = request.path_params["member_id"]
    return await introductions.notes_of(kernel_of(request).cipher, matchmaker.id, member_id)


@guard(roles=(Role.MATCHMAKER,))
async def notes_api(request: Request) -> Response:
    return model_response(Notes(notes=await _notes(request)))


async def _add_note(request: Request, data: AddNote) -> NoteOut:
    matchmaker, member_id = await _user(request), request.path_params["member_id"]
    return await introductions.add_note(kernel_of(request).cipher, matchmaker, member_id, data)


@guard(roles=(Role.MATCHMAKER,))
async def add_note_api(request: Request) -> Response:
    return model_response(await _add_note(request, await parse_json(request, AddNote)), 201)


@guard(roles=(Role.ADMIN,))
async def assign_api(request: Request) -> Response:
    body = await parse_json(request, Assign)
    assignment = await introductions.assign(await _user(request), body)
    answer = Assignment(matchmaker_id=assignment.matchmaker_id, member_id=assignment.member_id)
    return model_response(answer, 201)


# --- pages -----------------------------------------------------------------------------------


@guard(login=True)
async def member_page(request: Request) -> Response:
    user = await verified_member(request)
    rows = await _introductions(request, user)
    return await render(request, "introductions.html", {"introductions": rows, "error": None})


@guard(login=True)
async def respond_page(request: Request) -> Response:
    user = await verified_member(request)
    try:
        intro = await _respond(request, user, parse_form)
    except UserError as error:
        if error.status == 404:
            raise
        rows = await _introductions(request, user)
        context = {"introductions": rows, "error": error}
        return await render(request, "introductions.html", context, status_code=error.status)
    target = f"/connections/{intro.connection_id}" if intro.connection_id else "/introductions"
    return RedirectResponse(target, status_code=303)


async def _console(
    request: Request, error: UserError | None = None, form: dict[str, Any] | None = None
) -> Response:
    matchmaker = await _user(request)
    context = {
        "members": await _assigned(request, matchmaker),
        "introductions": await _introductions(request, matchmaker),
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
    try:
        await _introduce(request, await parse_form(request, Introduce))
    except UserError as error:
        if error.status == 404:
            raise
        return await _console(request, error, dict(await read_form(request)))
    return RedirectResponse("/matchmaker", status_code=303)


async def _member_console(request: Request, error: UserError | None = None) -> Response:
    matchmaker = await _user(request)
    notes = await _notes(request)  # 404 unless assigned
    member_id = request.path_params["member_id"]
    member = next(m for m in await _assigned(request, matchmaker) if m.id == member_id)
    context = {"member": member, "notes": notes, "error": error}
    return await render(
        request, "matchmaker/member.html", context, status_code=error.status if error else 200
    )


@guard(roles=(Role.MATCHMAKER,))
async def member_console_page(request: Request) -> Response:
    return await _member_console(request)


@guard(roles=(Role.MATCHMAKER,))
async def add_note_page(request: Request) -> Response:
    try:
        await _add_note(request, await parse_form(request, AddNote))
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
        responses={200: Introductions},
    ),
    ApiRoute(
        "/api/v1/introductions",
        create_api,
        method="POST",
        summary="Introduce two assigned members with a note (matchmakers)",
        body=Introduce,
        errors=(404, 409),
        responses={201: IntroductionOut},
    ),
    ApiRoute(
        "/api/v1/introductions/{introduction_id:id}/response",
        respond_api,
        method="POST",
        summary="Accept or decline an introduction; both accepting opens a connection",
        body=Answer,
        errors=(404, 409),
        responses={200: IntroductionOut},
    ),
    ApiRoute(
        "/api/v1/matchmaker/members",
        assigned_api,
        method="GET",
        summary="Members assigned to me, masked (matchmakers)",
        errors=(404,),
        responses={200: AssignedMembers},
    ),
    ApiRoute(
        "/api/v1/matchmaker/members/{member_id:id}/notes",
        notes_api,
        method="GET",
        summary="My consultation notes about an assigned member",
        errors=(404,),
        responses={200: Notes},
    ),
    ApiRoute(
        "/api/v1/matchmaker/members/{member_id:id}/notes",
        add_note_api,
        method="POST",
        summary="Add a consultation note about an assigned member",
        body=AddNote,
        errors=(404,),
        responses={201: NoteOut},
    ),
    ApiRoute(
        "/api/v1/admin/assignments",
        assign_api,
        method="POST",
        summary="Assign a member to a matchmaker (admins; audit-logged)",
        body=Assign,
        errors=(404,),
        responses={201: Assignment},
    ),
    Route("/introductions", member_page),
    Route("/introductions/{introduction_id:id}/response", respond_page, methods=["POST"]),
    Route("/matchmaker", console_page),
    Route("/matchmaker/introductions", introduce_page, methods=["POST"]),
    Route("/matchmaker/members/{member_id:id}", member_console_page),
    Route("/matchmaker/members/{member_id:id}/notes", add_note_page, methods=["POST"]),
]
