"""Must-show 2: the access matrix of every chat, report, moderation, introduction and
matchmaker route, for anonymous visitors, an unverified member, the member whose chat it is,
another verified member, a matchmaker and an admin. Another member's chat is 404, staff areas
are 404 to everyone else, and the allowed actor gets through to validation (422) or a page."""

from __future__ import annotations

import pytest
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from qingyuan.connections.encrypted_columns import REPORT_DETAILS
from qingyuan.connections.models import ReportReason
from qingyuan.matchmakers.encrypted_columns import INTRODUCTION_NOTE
from qingyuan.platform.models import Role
from qingyuan.web.routes import chat, introductions, moderation
from tests.conftest import add_user, login, run
from tests.connections.chat_support import connected_pair, log_in_as

ACTORS = ("anonymous", "unverified", "member", "stranger", "matchmaker", "admin")

# (method, path template, JSON body or form data ("form", {...}), expected per actor).
# Anonymous: API 401, pages → login (303), POSTs too: without a session the remedy is to log in.
# Destructive rows (block) come last: the member's own block ends the chat.
MATRIX = [
    ("GET", "/api/v1/connections/{cid}/messages", None, (401, 403, 200, 404, 404, 404)),
    ("POST", "/api/v1/connections/{cid}/messages", {"text": ""}, (401, 403, 422, 404, 404, 404)),
    ("POST", "/api/v1/connections/{cid}/read", {"up_to": -1}, (401, 403, 422, 404, 404, 404)),
    ("POST", "/api/v1/connections/{cid}/report", {"reason": "x"}, (401, 403, 422, 404, 404, 404)),
    ("GET", "/api/v1/unread", None, (401, 403, 200, 200, 404, 404)),
    ("GET", "/api/v1/introductions", None, (401, 403, 200, 200, 200, 404)),
    (
        "POST",
        "/api/v1/introductions",
        {"a_id": "{a}", "b_id": "{a}", "note": "x"},
        (401, 404, 404, 404, 422, 404),
    ),
    (
        "POST",
        "/api/v1/introductions/{iid}/response",
        {"accept": "maybe"},
        (401, 403, 422, 404, 404, 404),
    ),
    ("GET", "/api/v1/matchmaker/members", None, (401, 404, 404, 404, 200, 404)),
    ("GET", "/api/v1/matchmaker/members/{a}/notes", None, (401, 404, 404, 404, 200, 404)),
    (
        "POST",
        "/api/v1/matchmaker/members/{a}/notes",
        {"text": ""},
        (401, 404, 404, 404, 422, 404),
    ),
    ("GET", "/api/v1/admin/reports", None, (401, 404, 404, 404, 404, 200)),
    (
        "POST",
        "/api/v1/admin/reports/{rid}/decision",
        {"decision": "x", "note": ""},
        (401, 404, 404, 404, 404, 422),
    ),
    (
        "POST",
        "/api/v1/admin/assignments",
        {"matchmaker_id": 0, "member_id": 0},
        (401, 404, 404, 404, 404, 422),
    ),
    ("GET", "/connections/{cid}", None, (303, 403, 200, 404, 404, 404)),
    ("POST", "/connections/{cid}/messages", ("form", {"text": ""}), (303, 403, 422, 404, 404, 404)),
    ("POST", "/connections/{cid}/read", ("form", {"up_to": "x"}), (303, 403, 422, 404, 404, 404)),
    ("GET", "/connections/{cid}/report", None, (303, 403, 200, 404, 404, 404)),
    ("POST", "/connections/{cid}/report", ("form", {}), (303, 403, 422, 404, 404, 404)),
    ("GET", "/introductions", None, (303, 403, 200, 200, 404, 404)),
    (
        "POST",
        "/introductions/{iid}/response",
        ("form", {"accept": "maybe"}),
        (303, 403, 422, 404, 404, 404),
    ),
    ("GET", "/matchmaker", None, (303, 404, 404, 404, 200, 404)),
    ("GET", "/matchmaker/members/{a}", None, (303, 404, 404, 404, 200, 404)),
    ("POST", "/matchmaker/members/{a}/notes", ("form", {}), (303, 404, 404, 404, 422, 404)),
    (
        "POST",
        "/matchmaker/introductions",
        ("form", {"a_id": "{a}", "b_id": "{a}", "note": "x"}),
        (303, 404, 404, 404, 422, 404),
    ),
    ("GET", "/admin/reports", None, (303, 404, 404, 404, 404, 200)),
    ("GET", "/admin/reports/{rid}", None, (303, 404, 404, 404, 404, 200)),
    (
        "POST",
        "/admin/reports/{rid}/decision",
        ("form", {"decision": "x"}),
        (303, 404, 404, 404, 404, 422),
    ),
    ("POST", "/connections/{cid}/block", ("form", {}), (303, 403, 303, 404, 404, 404)),
    ("POST", "/api/v1/connections/{cid}/block", {}, (401, 403, 200, 404, 404, 404)),
]

TEMPLATE_IDS = {
    "connection_id": "{cid}",
    "introduction_id": "{iid}",
    "member_id": "{a}",
    "report_id": "{rid}",
}


def _template(path: str) -> str:
    for name, placeholder in TEMPLATE_IDS.items():
        path = path.replace(f"{{{name}:id}}", placeholder)
    return path


def test_the_matrix_covers_every_route_of_these_areas():
    routes = {
        (method, _template(route.path))
        for module in (chat, moderation, introductions)
        for route in module.routes
        if isinstance(route, Route)
        for method in route.methods - {"HEAD"}
    }
    assert routes == {(method, path) for method, path, _, _ in MATRIX}


@pytest.fixture
def actors(client):
    pair = connected_pair(client, 4)
    stranger, third = pair.others
    matchmaker = add_user(client, "13800000002", Role.MATCHMAKER, "王红娘")
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    unverified = add_user(client, "13800000003", Role.MEMBER)
    for member in (pair.a, pair.b, third):
        run(client, _assign, matchmaker.id, member.id)
    cipher = client.app.state.kernel.cipher
    intro = run(
        client, INTRODUCTION_NOTE.create, cipher, "介绍", matchmaker_id=matchmaker.id,
        a_id=pair.a.id, b_id=third.id,
    )  # fmt: skip
    report = run(
        client, REPORT_DETAILS.create, cipher, "", reporter_id=pair.b.id, reported_id=pair.a.id,
        connection_id=pair.connection_id, reason=ReportReason.OTHER,
    )  # fmt: skip
    ids = {"cid": pair.connection_id, "iid": intro.id, "rid": report.id, "a": pair.a.id}
    users = {
        "unverified": unverified,
        "member": pair.a,
        "stranger": stranger,
        "matchmaker": matchmaker,
        "admin": admin,
    }
    return ids, users


async def _assign(matchmaker_id: int, member_id: int) -> None:
    from qingyuan.matchmakers.models import CareAssignment

    await CareAssignment.create(matchmaker_id=matchmaker_id, member_id=member_id)


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, tuple):  # ("form", {...})
        return (value[0], _fill(value[1], ids))
    return value


def _call(client, token, method, path, body):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if isinstance(body, tuple):  # a form
        data = {**body[1], "csrf_token": token} if token else body[1]
        return client.post(path, data=data, follow_redirects=False)
    headers = {"X-CSRF-Token": token} if token else {}
    return client.post(path, json=body, headers=headers, follow_redirects=False)


def _log_in(client, actor, user):
    client.cookies.clear()
    if actor == "anonymous":
        return None
    if actor in ("member", "stranger"):
        return log_in_as(client, user)
    return login(client, user)["csrf_token"]


def test_access_matrix(client, actors):
    ids, users = actors
    # the member whose chat it is goes last: their block rows end the chat
    order = [a for a in ACTORS if a != "member"] + ["member"]
    wrong = []
    for actor in order:
        token = _log_in(client, actor, users.get(actor))
        for method, template, body, expected in MATRIX:
            path = template.format(**ids)
            response = _call(client, token, method, path, _fill(body, ids))
            want = expected[ACTORS.index(actor)]
            if response.status_code != want:
                wrong.append((actor, method, path, want, response.status_code))
    assert wrong == []


def test_only_verified_members_open_a_chat_socket(client, actors):
    _, users = actors
    origin = {"origin": "http://testserver"}
    for actor in ("anonymous", "unverified", "matchmaker", "admin"):
        _log_in(client, actor, users.get(actor))
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/chat", headers=origin):
                pass
    _log_in(client, "member", users["member"])
    with client.websocket_connect("/ws/chat", headers=origin) as socket:
        socket.send_text("ping")  # accepted; nothing we act on


def test_websocket_route_is_the_only_one_outside_the_matrix():
    sockets = [r.path for r in chat.routes if isinstance(r, WebSocketRoute)]
    assert sockets == ["/ws/chat"]
