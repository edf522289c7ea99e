"""Chat per connection: pages with a plain form, the JSON API, and the live WebSocket.

The WebSocket (`/ws/chat`, one per browser tab, for all of a member's connections) delivers,
and also takes messages: a `send` frame goes through the same `chat.send` as the form and the
API (validation, rate limit, scam check in one place), with what the socket already knows
about its member kept between messages (`chat.Sender`). Without WebSocket the page polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from qingyuan.connections import Connection, Report, ReportReason, chat, safety
from qingyuan.connections.schemas import MarkChatRead, MessagesQuery, ReportMember, SendMessage
from qingyuan.matching.cards import member_card
from qingyuan.platform import ratelimit, realtime
from qingyuan.platform.errors import NotFound, RateLimited, UserError, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import Role, User
from qingyuan.platform.validation import configured, validate
from qingyuan.verification.status import Standing, verified_standing
from qingyuan.web.bodies import parse_form, parse_json, parse_query, read_form
from qingyuan.web.convertors import MAX_ID
from qingyuan.web.errors import error_body
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import (
    guard,
    kernel_of,
    logged_in_user,
    services_of,
    session_cookie_name,
)
from qingyuan.web.settings import web_settings
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


def rules_of(connection: HTTPConnection) -> safety.SafetySettings:
    return services_of(connection).connections.safety


def hub_of(connection: HTTPConnection) -> realtime.Hub:
    return services_of(connection).connections.hub


async def verified_member(request: Request) -> User:
    """Chats are for verified members; staff and others get the same 404 as a stranger."""
    return (await _verified(request))[0]


async def _verified(request: Request) -> tuple[User, Standing]:
    """The member and their verification's standing, looked up once per request."""
    user = await logged_in_user(request)
    if user.role != Role.MEMBER:
        raise NotFound()
    cache = request.scope.setdefault("qingyuan", {})
    if "standing" not in cache:
        cache["standing"] = await verified_standing(user)
    return user, cache["standing"]


async def _send(request: Request, read: Callable[[], Awaitable[SendMessage]]) -> dict[str, Any]:
    """Send as the current member (the chat service grades their message rate). The chat is
    looked up before `read` parses the body, so a stranger gets the 404 before any 422; the
    send itself finds it in the sender's cache (its cost stays as `chat.send` says)."""
    user, standing = await _verified(request)
    kernel = kernel_of(request)
    rules = rules_of(request)
    sender = await chat.sender(rules, user.id, standing)
    connection_id = request.path_params["connection_id"]
    await chat.open_chat(sender, connection_id)
    text = (await read()).text
    sent = await chat.send(kernel.redis, kernel.cipher, rules, sender, connection_id, text)
    return chat.for_viewer(sent, user.id)


async def _connection(request: Request, user: User, *, open_only: bool = True) -> Connection:
    """The path's connection, if it is `user`'s (else 404, before any body is read)."""
    return await chat.connection_for(
        user.id, request.path_params["connection_id"], open_only=open_only
    )


# --- API -------------------------------------------------------------------------------------


@guard(login=True)
async def messages_api(request: Request) -> Response:
    user = await verified_member(request)
    connection = await _connection(request, user)
    query = await parse_query(request, MessagesQuery)
    messages, has_more = await chat.list_messages(
        connection, before=query.before, after=query.after, limit=query.limit
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
    sent = await _send(request, lambda: parse_json(request, SendMessage))
    return JSONResponse(sent, status_code=201)


@guard(login=True)
async def read_api(request: Request) -> Response:
    user = await verified_member(request)
    connection = await _connection(request, user)
    body = await parse_json(request, MarkChatRead)
    await chat.mark_read(kernel_of(request).redis, user.id, connection, body.up_to)
    return JSONResponse({"unread": (await chat.unread_counts(user.id)).get(connection.id, 0)})


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
    connection = await _connection(request, user, open_only=False)
    await safety.do_block(kernel_of(request).redis, user, chat.other_side(connection, user.id))


@guard(login=True)
async def report_api(request: Request) -> Response:
    user = await verified_member(request)
    connection = await _connection(request, user, open_only=False)
    item = await _report(request, user, connection, await parse_json(request, ReportMember))
    return JSONResponse({"id": item.id, "status": item.status.value}, status_code=201)


async def _report(
    request: Request, user: User, connection: Connection, data: ReportMember
) -> Report:
    other = chat.other_side(connection, user.id)
    kernel = kernel_of(request)
    too_many = _("You have sent many reports recently. Please wait before reporting again.")
    limit = rules_of(request).report_limit
    async with ratelimit.attempt(kernel.redis, f"report:{user.id}", limit, too_many):
        return await safety.report(
            kernel.cipher, user.id, other, data.reason, data.details, connection.id
        )


# --- pages -----------------------------------------------------------------------------------


async def _chat_page(
    request: Request, user: User, error: UserError | None = None, text: str = ""
) -> Response:
    connection = await _connection(request, user)
    before = (await parse_query(request, MessagesQuery)).before
    messages, has_more = await chat.list_messages(connection, before=before)
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
        "max_length": rules_of(request).max_length,
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
    try:
        sent = await _send(request, lambda: parse_form(request, SendMessage))
    except UserError as error:
        if error.status == 404:
            raise
        text = (await read_form(request)).get("text")
        return await _chat_page(request, user, error, text if isinstance(text, str) else "")
    return RedirectResponse(f"/connections/{sent['connection_id']}#m{sent['id']}", status_code=303)


@guard(login=True)
async def read_page(request: Request) -> Response:
    """Mark read up to the last message the page showed (the form's `up_to`): viewing the chat
    is a GET and changes nothing, so the page posts here (its script uses the API's POST)."""
    user = await verified_member(request)
    connection = await _connection(request, user)
    form = await parse_form(request, MarkChatRead)
    await chat.mark_read(kernel_of(request).redis, user.id, connection, form.up_to)
    return RedirectResponse(f"/connections/{connection.id}", status_code=303)


@guard(login=True)
async def block_page(request: Request) -> Response:
    user = await verified_member(request)
    await _block(request, user)
    return RedirectResponse("/connections?blocked=1", status_code=303)


async def _report_page(
    request: Request, user: User, *, error: UserError | None = None, done: bool = False
) -> Response:
    connection = await _connection(request, user, open_only=False)
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
    try:
        connection = await _connection(request, user, open_only=False)
        await _report(request, user, connection, await parse_form(request, ReportMember))
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


async def _socket_member(kernel: Kernel, session_id: str | None) -> tuple[User, Standing] | None:
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
        return user, await verified_standing(user)
    except UserError:
        return None


async def chat_socket(websocket: WebSocket) -> None:
    """Deliver this member's chat events as JSON: `message` (as this member sees it),
    `read` and `ended`; take `send` frames (`_socket_send`). Refused before the handshake
    without a same-site Origin and a session; closed when the account is suspended
    (`revoked`), or when the check that runs every QINGYUAN_CHAT_SESSION_CHECK_SECONDS (15),
    busy or quiet, finds the session ended (logout, expiry) or the member no longer verified
    or active. That check also re-grades the member's message rate: until it runs, a socket
    sends at the rate it last knew (a report filed meanwhile lowers it within the period), and
    a socket whose session ended or whose verification lapsed can still send, as it could
    already still receive, for at most that period. A block or a suspension stops its next
    message at once (the INSERT checks them itself, see `chat.send`).

    Three loops share the socket until one ends: delivering events, taking frames, and the
    check; each frame is handled before the next is read, so one socket's messages keep
    their order."""
    kernel: Kernel = websocket.app.state.kernel
    session_id = websocket.cookies.get(session_cookie_name(kernel.settings))
    member = await _socket_member(kernel, session_id) if _same_origin(websocket) else None
    if member is None:
        await websocket.close(code=1008)
        return
    sender = await chat.sender(rules_of(websocket), member[0].id, member[1])
    async with hub_of(websocket).listen(sender.user_id) as queue:
        await websocket.accept()
        loops = [
            asyncio.create_task(_deliver(websocket, queue, sender)),
            asyncio.create_task(_take_frames(websocket, kernel, sender)),
            asyncio.create_task(_check(kernel, rules_of(websocket), session_id, sender)),
        ]
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            code = next(iter(done)).result()
            if code is not None:
                await websocket.close(code=code)
        except WebSocketDisconnect:
            pass  # the client left while we wrote to it
        finally:
            for task in loops:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def _deliver(
    websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]], sender: chat.Sender
) -> int:
    """Events to the client until one closes the socket; returns the close code."""
    while True:
        event = await queue.get()
        if event["type"] in ("overflow", "revoked"):  # catch up later / logged out
            return 1013 if event["type"] == "overflow" else 1008
        if event["type"] == "ended":
            chat.forget_chat(sender, event["connection_id"])
        elif event["type"] == "message" and event.get("via") == sender.token:
            continue  # this socket sent it: the `sent` reply carried it already
        await websocket.send_json(_for_socket(event, sender.user_id))


async def _take_frames(websocket: WebSocket, kernel: Kernel, sender: chat.Sender) -> None:
    """The client's frames, one at a time, until it leaves."""
    while (text := await _next_frame(websocket)) is not None:
        if (reply := await _socket_send(kernel, rules_of(websocket), sender, text)) is not None:
            await websocket.send_json(reply)


async def _check(
    kernel: Kernel, rules: safety.SafetySettings, session_id: str | None, sender: chat.Sender
) -> int:
    """Every check period: still logged in, active and verified? Returns 1008 once not."""
    period = web_settings(kernel.settings).chat_session_check_seconds
    while True:
        await asyncio.sleep(period)
        if (member := await _socket_member(kernel, session_id)) is None:
            return 1008
        await sender.refresh(rules, member[1])


async def _next_frame(websocket: WebSocket) -> str | None:
    """The client's next text frame; None once it has gone (binary frames are not ours)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return message["text"]


async def _socket_send(
    kernel: Kernel, rules: safety.SafetySettings, sender: chat.Sender, frame: str
) -> dict[str, Any] | None:
    """A `send` frame, `{"type": "send", "connection_id", "text", "ref"}`, sent as the POST
    would send it; the reply echoes `ref` (any JSON value the client picks, to pair replies
    with frames): `{"type": "sent", "ref", "message"}` with the message as the POST returns it,
    or `{"type": "refused", "ref", "status", "error"}` with the status and error body the POST
    would answer (and `retry_after` when rate-limited). Other frames (keep-alives) get none.

    A frame is not an HTTP route, so it is parsed here, not by `parse_json`; its text is
    validated by the POST's own model (`SendMessage`, configured), with the same messages."""
    try:
        data = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "send":
        return None
    ref = data.get("ref")
    try:
        connection_id = data.get("connection_id")
        if not isinstance(connection_id, int) or isinstance(connection_id, bool):
            whole = _("Must be a whole number, 0 or more.")
            raise ValidationFailed(fields={"connection_id": whole})
        if not 0 <= connection_id < MAX_ID:  # as the `{connection_id:id}` routes: no such chat
            raise NotFound()
        await chat.open_chat(sender, connection_id)  # a stranger's 404 before any 422
        model = configured(SendMessage, kernel.settings)
        text = validate(model, {"text": data.get("text", "")}, strict=True).text
        sent = await chat.send(kernel.redis, kernel.cipher, rules, sender, connection_id, text)
    except UserError as error:
        reply = {"type": "refused", "ref": ref, "status": error.status, "error": error_body(error)}
        if isinstance(error, RateLimited):
            reply["retry_after"] = error.retry_after
        return reply
    return {"type": "sent", "ref": ref, "message": chat.for_viewer(sent, sender.user_id)}


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
        query=MessagesQuery,
        errors=(404, 422),
        responses={200: MESSAGES_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/messages",
        send_api,
        method="POST",
        summary="Send a message to a connection",
        body=SendMessage,
        errors=(404, 429),
        responses={201: MESSAGE_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/connections/{connection_id:id}/read",
        read_api,
        method="POST",
        summary="Mark messages to me as read (all, or up to a message id)",
        body=MarkChatRead,
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
        body=ReportMember,
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
