"""Chat per connection: pages with a plain form, the JSON API, and the live WebSocket.

The WebSocket only delivers (`/ws/chat`, one per browser tab, for all of a member's
connections); sending goes through the same POST as the form and the API, so validation, rate
limits and scam checks live in one place. Without WebSocket the page polls the API.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from qingyuan.connections import chat, safety
from qingyuan.connections.models import Report, ReportReason
from qingyuan.matching.cards import member_card
from qingyuan.platform import ratelimit
from qingyuan.platform.errors import NotFound, UserError
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import Role, User
from qingyuan.verification.models import AppealStatus, Member
from qingyuan.verification.status import ensure_verified
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user, session_cookie_name
from qingyuan.web.templating import render

MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "connection_id", "mine", "text", "created_at", "read", "warning"],
    "properties": {
        "id": {"type": "integer"},
        "connection_id": {"type": "integer"},
        "mine": {"type": "boolean"},
        "text": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
        "warning": {
            "type": ["object", "null"],
            "description": "Scam-risk warning for the recipient, localised",
            "properties": {"code": {"type": "string"}, "text": {"type": "string"}},
        },
    },
}
MESSAGES_SCHEMA = {
    "type": "object",
    "required": ["messages", "has_more"],
    "properties": {
        "messages": {"type": "array", "items": MESSAGE_SCHEMA},
        "has_more": {"type": "boolean", "description": "Older messages exist (use ?before=)"},
    },
}
UNREAD_SCHEMA = {
    "type": "object",
    "required": ["total", "connections"],
    "properties": {
        "total": {"type": "integer"},
        "connections": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


def rules_of(kernel: Kernel) -> safety.SafetySettings:
    if "chat.safety" not in kernel.extensions:
        kernel.extensions["chat.safety"] = safety.safety_settings(kernel.settings)
    return kernel.extensions["chat.safety"]


def hub_of(kernel: Kernel) -> chat.ChatHub:
    if "chat.hub" not in kernel.extensions:
        kernel.extensions["chat.hub"] = chat.ChatHub(kernel.redis)
    return kernel.extensions["chat.hub"]


async def verified_member(request: Request) -> User:
    """Chats are for verified members; staff and others get the same 404 as a stranger."""
    return (await _verified(request))[0]


async def _verified(request: Request) -> tuple[User, Member]:
    """The member and their verification, looked up once per request."""
    user = await logged_in_user(request)
    if user.role != Role.MEMBER:
        raise NotFound()
    cache = request.scope.setdefault("qingyuan", {})
    if "member" not in cache:
        cache["member"] = await ensure_verified(user)
    return user, cache["member"]


async def _send(request: Request, text: Any) -> dict[str, Any]:
    """Send as the current member, at the message rate of their verification level."""
    user, member = await _verified(request)
    kernel = kernel_of(request)
    rules = rules_of(kernel)
    via_appeal = member.appeal_status == AppealStatus.APPROVED
    level = await safety.level_of(rules, user.id, member.verified_at, via_appeal)
    message = await chat.send_message(
        kernel.redis,
        kernel.cipher,
        rules,
        user.id,
        level,
        request.path_params["connection_id"],
        text,
    )
    return chat.for_viewer(chat.wire(kernel.cipher, message), user.id)


# --- API -------------------------------------------------------------------------------------


@guard(login=True)
async def messages_api(request: Request) -> Response:
    user = await verified_member(request)
    messages, has_more = await chat.list_messages(
        user.id,
        request.path_params["connection_id"],
        before=request.query_params.get("before"),
        after=request.query_params.get("after"),
        limit=request.query_params.get("limit"),
    )
    cipher = kernel_of(request).cipher
    return JSONResponse(
        {
            "messages": [chat.for_viewer(chat.wire(cipher, m), user.id) for m in messages],
            "has_more": has_more,
        }
    )


@guard(login=True)
async def send_api(request: Request) -> Response:
    await verified_member(request)  # before reading the body: strangers learn nothing
    body = await read_json(request)
    return JSONResponse(await _send(request, body.get("text")), status_code=201)


@guard(login=True)
async def read_api(request: Request) -> Response:
    user = await verified_member(request)
    body = await read_json(request)
    connection_id = request.path_params["connection_id"]
    await chat.mark_read(kernel_of(request).redis, user.id, connection_id, body.get("up_to"))
    return JSONResponse({"unread": (await chat.unread_counts(user.id)).get(connection_id, 0)})


@guard(login=True)
async def unread_api(request: Request) -> Response:
    user = await verified_member(request)
    counts = await chat.unread_counts(user.id)
    return JSONResponse(
        {"total": sum(counts.values()), "connections": {str(k): v for k, v in counts.items()}}
    )


@guard(login=True)
async def block_api(request: Request) -> Response:
    user = await verified_member(request)
    await _block(request, user)
    return JSONResponse({"blocked": True})


async def _block(request: Request, user: User) -> None:
    connection = await chat.connection_for(
        user.id, request.path_params["connection_id"], open_only=False
    )
    await safety.do_block(kernel_of(request).redis, user, chat.other_side(connection, user.id))


@guard(login=True)
async def report_api(request: Request) -> Response:
    user = await verified_member(request)
    body = await read_json(request)
    item = await _report(request, user, body.get("reason"), body.get("details"))
    return JSONResponse({"id": item.id, "status": item.status.value}, status_code=201)


async def _report(request: Request, user: User, reason: Any, details: Any) -> Report:
    connection = await chat.connection_for(
        user.id, request.path_params["connection_id"], open_only=False
    )
    other = chat.other_side(connection, user.id)
    kernel = kernel_of(request)
    too_many = _("You have sent many reports recently. Please wait before reporting again.")
    limit = rules_of(kernel).report_limit
    async with ratelimit.attempt(kernel.redis, f"report:{user.id}", limit, too_many):
        return await safety.report(kernel.cipher, user.id, other, reason, details, connection.id)


# --- pages -----------------------------------------------------------------------------------


async def _chat_page(
    request: Request, user: User, error: UserError | None = None, text: str = ""
) -> Response:
    connection_id = request.path_params["connection_id"]
    connection = await chat.connection_for(user.id, connection_id)
    messages, has_more = await chat.list_messages(
        user.id, connection.id, before=request.query_params.get("before")
    )
    day = kernel_of(request).settings.local_today()
    context = {
        "connection": connection,
        "other": await member_card(chat.other_side(connection, user.id), user.id, day),
        "messages": [
            chat.for_viewer(chat.wire(kernel_of(request).cipher, m), user.id) for m in messages
        ],
        "has_more": has_more,
        "error": error,
        "text": text,
        "max_length": rules_of(kernel_of(request)).max_length,
        "timezone": kernel_of(request).settings.timezone,
        "unread": (await chat.unread_counts(user.id)).get(connection.id, 0),
    }
    return await render(request, "chat.html", context, status_code=error.status if error else 200)


@guard(login=True)
async def chat_page(request: Request) -> Response:
    return await _chat_page(request, await verified_member(request))


@guard(login=True)
async def send_page(request: Request) -> Response:
    user = await verified_member(request)
    text = (await read_form(request)).get("text")
    try:
        sent = await _send(request, text)
    except UserError as error:
        if error.status == 404:
            raise
        return await _chat_page(request, user, error, text if isinstance(text, str) else "")
    return RedirectResponse(f"/connections/{sent['connection_id']}#m{sent['id']}", status_code=303)


@guard(login=True)
async def read_page(request: Request) -> Response:
    """Mark read up to the last message the page showed (the form's `up_to`): viewing the chat
    is a GET and changes nothing, so the page posts here (its script uses the API's POST)."""
    user = await verified_member(request)
    connection_id = request.path_params["connection_id"]
    up_to = (await request.form()).get("up_to")
    await chat.mark_read(kernel_of(request).redis, user.id, connection_id, up_to)
    return RedirectResponse(f"/connections/{connection_id}", status_code=303)


@guard(login=True)
async def block_page(request: Request) -> Response:
    user = await verified_member(request)
    await _block(request, user)
    return RedirectResponse("/connections?blocked=1", status_code=303)


async def _report_page(
    request: Request, user: User, *, error: UserError | None = None, done: bool = False
) -> Response:
    connection = await chat.connection_for(
        user.id, request.path_params["connection_id"], open_only=False
    )
    day = kernel_of(request).settings.local_today()
    context = {
        "connection": connection,
        "other": await member_card(chat.other_side(connection, user.id), user.id, day),
        "reasons": [(r.value, safety.reason_text(r)) for r in ReportReason],
        "error": error,
        "done": done,
    }
    return await render(request, "report.html", context, status_code=error.status if error else 200)


@guard(login=True)
async def report_page(request: Request) -> Response:
    user = await verified_member(request)
    if request.method == "GET":
        return await _report_page(request, user)
    form = await read_form(request)
    try:
        await _report(request, user, form.get("reason"), form.get("details"))
    except UserError as error:
        if error.status == 404:
            raise
        return await _report_page(request, user, error=error)
    return await _report_page(request, user, done=True)


# --- WebSocket -------------------------------------------------------------------------------


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers always send Origin on a WebSocket handshake: it must be this site, or any page
    on the web could open a socket with the member's cookie (cross-site WebSocket hijacking)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    scheme = {"ws": "http", "wss": "https"}.get(websocket.url.scheme, websocket.url.scheme)
    return (parts.scheme, parts.netloc) == (scheme, websocket.url.netloc)


async def _socket_user(kernel: Kernel, session_id: str | None) -> User | None:
    """The member behind a socket's session while they may still chat: the session lives, the
    account is an active member's, and the verification holds (consent can be withdrawn and a
    re-check can fail while a socket is open)."""
    session = await kernel.sessions.load(session_id) if session_id else None
    if session is None:
        return None
    user = await User.get_or_none(id=session.user_id, is_active=True, role=Role.MEMBER)
    if user is None:
        return None
    try:
        await ensure_verified(user)
    except UserError:
        return None
    return user


async def chat_socket(websocket: WebSocket) -> None:
    """Deliver this member's chat events as JSON: `message` (as this member sees it),
    `read` and `ended`. Refused before the handshake without a same-site Origin and a session;
    closed when the account is suspended (`revoked`), or when the check that runs every
    QINGYUAN_CHAT_SESSION_CHECK_SECONDS (15), busy or quiet, finds the session ended (logout,
    expiry) or the member no longer verified or active."""
    kernel: Kernel = websocket.app.state.kernel
    session_id = websocket.cookies.get(session_cookie_name(kernel.settings))
    if not _same_origin(websocket) or (user := await _socket_user(kernel, session_id)) is None:
        await websocket.close(code=1008)
        return
    check = float(kernel.settings.extra.get("QINGYUAN_CHAT_SESSION_CHECK_SECONDS", "15"))
    loop = asyncio.get_running_loop()
    async with hub_of(kernel).listen(user.id) as queue:
        await websocket.accept()
        closed = asyncio.create_task(_wait_closed(websocket))
        getter: asyncio.Task | None = None
        next_check = loop.time() + check
        try:
            while not closed.done():
                getter = getter or asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closed},
                    timeout=max(next_check - loop.time(), 0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if closed in done:
                    break
                if loop.time() >= next_check:  # still logged in, active and verified?
                    if await _socket_user(kernel, session_id) is None:
                        await websocket.close(code=1008)
                        break
                    next_check = loop.time() + check
                if getter not in done:
                    continue
                event, getter = getter.result(), None
                if event["type"] in ("overflow", "revoked"):  # catch up later / logged out
                    await websocket.close(code=1013 if event["type"] == "overflow" else 1008)
                    break
                await websocket.send_json(_for_socket(event, user.id))
        finally:
            for task in (getter, closed):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


async def _wait_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()  # clients send nothing we act on; pings keep alive


def _for_socket(event: dict[str, Any], viewer_id: int) -> dict[str, Any]:
    if event["type"] == "message":
        return {"type": "message", "message": chat.for_viewer(event["message"], viewer_id)}
    return event


routes = [
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/messages",
        messages_api,
        method="GET",
        summary="Messages of one of my connections, oldest first",
        query={
            "before": {"type": "integer", "minimum": 0, "description": "Older than this id"},
            "after": {"type": "integer", "minimum": 0, "description": "Newer than this id"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        },
        errors=(404, 422),
        responses={200: MESSAGES_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/messages",
        send_api,
        method="POST",
        summary="Send a message to a connection",
        body={
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}},
        },
        errors=(404, 429),
        responses={201: MESSAGE_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/read",
        read_api,
        method="POST",
        summary="Mark messages to me as read (all, or up to a message id)",
        body={"type": "object", "properties": {"up_to": {"type": "integer", "minimum": 0}}},
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["unread"],
                "properties": {"unread": {"type": "integer"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/block",
        block_api,
        method="POST",
        summary="Block the other member: ends the connection, both ways, for good",
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["blocked"],
                "properties": {"blocked": {"type": "boolean"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/report",
        report_api,
        method="POST",
        summary="Report the other member to the moderators (QINGYUAN_RATE_REPORT per member)",
        body={
            "type": "object",
            "required": ["reason"],
            "properties": {
                "reason": {"type": "string", "enum": [r.value for r in ReportReason]},
                "details": {"type": "string", "maxLength": 2000},
            },
        },
        errors=(404, 429),
        responses={
            201: {
                "type": "object",
                "required": ["id", "status"],
                "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/unread",
        unread_api,
        method="GET",
        summary="Unread messages, in total and per connection",
        errors=(404,),
        responses={200: UNREAD_SCHEMA},
    ),
    Route("/connections/{connection_id:id}", chat_page),
    Route("/connections/{connection_id:id}/messages", send_page, methods=["POST"]),
    Route("/connections/{connection_id:id}/read", read_page, methods=["POST"]),
    Route("/connections/{connection_id:id}/block", block_page, methods=["POST"]),
    Route("/connections/{connection_id:id}/report", report_page, methods=["GET", "POST"]),
    WebSocketRoute("/ws/chat", chat_socket),
]
