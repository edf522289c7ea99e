"""Today's match, decisions, history and connections: pages and API."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import Q

from qingyuan.connections.chat import unread_counts
from qingyuan.matching.cards import member_card, proposal_json
from qingyuan.matching.decisions import connections_of, decide
from qingyuan.matching.models import Profile, Proposal
from qingyuan.matching.schemas import Connections, Decided, DecisionIn, Today
from qingyuan.platform.errors import UserError
from qingyuan.platform.models import User
from qingyuan.verification.status import ensure_verified
from qingyuan.web.bodies import model_response, parse_form, parse_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

# Until introductions.py (converted on another branch) describes its bodies with models, its
# hand-written schemas point at the card's model in components/schemas.
CARD_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/Card"}


async def _member(request: Request) -> User:
    user = await logged_in_user(request)
    await ensure_verified(user)
    return user


async def today_json(request: Request, user: User) -> dict[str, Any]:
    day = kernel_of(request).settings.local_today()
    proposals = await Proposal.filter(Q(a_id=user.id) | Q(b_id=user.id), day=day)
    return {
        "date": day.isoformat(),
        "proposals": [await proposal_json(p, user.id, day) for p in proposals],
    }


async def connections_json(request: Request, user: User) -> list[dict[str, Any]]:
    day = kernel_of(request).settings.local_today()
    return [
        {
            "id": c.id,
            "source": c.source.value,
            "created_at": c.created_at.isoformat(),
            "member": await member_card(c.b_id if c.a_id == user.id else c.a_id, user.id, day),
        }
        for c in await connections_of(user.id)
    ]


@guard(login=True)
async def today_api(request: Request) -> Response:
    return JSONResponse(await today_json(request, await _member(request)))


@guard(login=True)
async def decision_api(request: Request) -> Response:
    user = await _member(request)
    body = await parse_json(request, DecisionIn)
    connection = await decide(user.id, request.path_params["proposal_id"], body.decision)
    return model_response(Decided(connection_id=connection.id if connection else None))


@guard(login=True)
async def connections_api(request: Request) -> Response:
    user = await _member(request)
    return JSONResponse({"connections": await connections_json(request, user)})


@guard(login=True)
async def today_page(request: Request) -> Response:
    user = await _member(request)
    has_profile = await Profile.exists(user_id=user.id)
    return await render(
        request,
        "matches.html",
        {"today": await today_json(request, user), "has_profile": has_profile, "error": None},
    )


@guard(login=True)
async def decision_page(request: Request) -> Response:
    user = await _member(request)
    try:
        form = await parse_form(request, DecisionIn)
        connection = await decide(user.id, request.path_params["proposal_id"], form.decision)
    except UserError as error:
        return await render(
            request,
            "matches.html",
            {"today": await today_json(request, user), "has_profile": True, "error": error},
            status_code=error.status,
        )
    return RedirectResponse("/connections" if connection else "/matches", status_code=303)


@guard(login=True)
async def connections_page(request: Request) -> Response:
    user = await _member(request)
    context = {
        "connections": await connections_json(request, user),
        "unread_by_connection": await unread_counts(user.id),
        "blocked": request.query_params.get("blocked") == "1",
    }
    return await render(request, "connections.html", context)


@guard(login=True)
async def history_page(request: Request) -> Response:
    user = await _member(request)
    day = kernel_of(request).settings.local_today()
    past = (
        await Proposal.filter(Q(a_id=user.id) | Q(b_id=user.id), day__lt=day)
        .order_by("-day")
        .limit(30)
    )
    return await render(
        request,
        "match_history.html",
        {"proposals": [await proposal_json(p, user.id, day) for p in past]},
    )


routes = [
    ApiRoute(
        "/api/v1/matches/today",
        today_api,
        method="GET",
        summary="Today's match",
        errors=(403,),
        responses={200: Today},
    ),
    ApiRoute(
        "/api/v1/matches/{proposal_id:id}/decision",
        decision_api,
        method="POST",
        summary="Like or pass; a mutual like returns the new connection",
        body=DecisionIn,
        errors=(404, 409),
        responses={200: Decided},
    ),
    ApiRoute(
        "/api/v1/connections",
        connections_api,
        method="GET",
        summary="My connections",
        errors=(403,),
        responses={200: Connections},
    ),
    Route("/matches", today_page),
    Route("/matches/history", history_page),
    Route("/matches/{proposal_id:id}/decision", decision_page, methods=["POST"]),
    Route("/connections", connections_page),
]
