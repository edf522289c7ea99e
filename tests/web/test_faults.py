"""Errors under faults and bad input (issue #11, items 10–14 and 18).

The TestClient re-raises any exception that reaches the server; on a real server that is a
500 *and* a closed keep-alive connection. So a test here that gets a response at all also
shows that the fault was handled inside the app.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections.abc import Iterator

import aiosqlite
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient
from tortoise import connections

from qingyuan.platform.models import Role
from qingyuan.web.errors import EXCEPTION_HANDLERS
from tests.conftest import add_user, free_port, login, run
from tests.verification.platform_support import CHEN, register, verify

JSON = {"Content-Type": "application/json"}


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def member(client: TestClient) -> dict[str, str]:
    """A verified member's CSRF header (the client holds the session cookie)."""
    created = register(client, CHEN)
    verify(client, created["member_id"])
    return {"X-CSRF-Token": created["csrf_token"]}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    user = add_user(client, "13800000009", Role.ADMIN, "管理员")
    return {"X-CSRF-Token": login(client, user)["csrf_token"]}


# --- 10. The database goes down ---------------------------------------------------------


@contextlib.contextmanager
def database_down(client: TestClient) -> Iterator[None]:
    """The database stops answering. PostgreSQL: the open connections close and the server's
    port refuses new ones. SQLite: another process holds the file's exclusive lock (a backup,
    a stuck migration), so every statement fails as busy."""
    database = connections.get("default")
    postgres = hasattr(database, "port")

    async def cut() -> None:
        await database.close()
        if postgres:
            database.port = free_port()
        else:  # reopened as Tortoise would, but waiting 0.1 s for a lock, not 5 s
            database._connection = await aiosqlite.connect(
                database.filename, isolation_level=None, timeout=0.1
            )
            database._connection._conn.row_factory = sqlite3.Row

    run(client, cut)
    if postgres:
        yield
        return
    holder = sqlite3.connect(database.filename)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.close()


def test_database_down_is_a_localised_503_page_that_needs_no_database(client, make_user):
    login(client, make_user())  # the page would look the member up in the database
    with database_down(client):
        page = client.get("/", headers={"Accept-Language": "zh-CN"})
        api = client.get("/api/v1/me")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "服务暂时不可用" in page.text
    assert api.status_code == 503 and error_code(api) == "service_unavailable"


# --- 11. Bodies of any shape -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 1000 + "]" * 1000,
        '{"phone": ' + '{"a": ' * 1000 + "1" + "}" * 1001,
        '{"phone": 1e999, "password": "x"}',
        '{"phone": NaN, "password": "x"}',
        '{"phone": "1' + "0" * 5000 + '", "password": 1' + "0" * 5000 + "}",
        '{"phone": "\\ud800", "password": "\\u0000"}',
    ],
    ids=["nested-array", "nested-object", "infinity", "nan", "long-number", "bad-unicode"],
)
def test_hostile_json_is_a_422_not_a_crash(client, raw):
    response = client.post("/api/v1/session", content=raw, headers=JSON)
    assert response.status_code == 422 and error_code(response) == "validation_failed"


def test_unparsable_origin_is_refused_not_a_crash(client):
    response = client.post(
        "/api/v1/session", json={"phone": "1", "password": "x"}, headers={"Origin": "http://["}
    )
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_infinite_notification_id_is_a_422(client, member):
    response = client.post(
        "/api/v1/notifications/read", content='{"up_to": 1e999}', headers={**JSON, **member}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("kind", [[], {}])
def test_admin_activity_kind_of_the_wrong_type_is_a_422(client, admin, kind):
    from tests.activities.support import activity_body

    response = client.post("/api/v1/admin/activities", json=activity_body(kind=kind), headers=admin)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("volunteer_id", [2**31, 2**63, -(2**63) - 1])
def test_ids_beyond_the_columns_are_a_422(client, admin, volunteer_id):
    response = client.post(
        "/api/v1/admin/shifts/1/assignments", json={"volunteer_id": volunteer_id}, headers=admin
    )
    assert response.status_code == 422, response.text


# --- 12. Request-body limits -----------------------------------------------------------


def test_oversized_json_is_a_413_read_without_holding_it(client):
    """A 64 MB body sent in 1 MB chunks without Content-Length: the app stops reading at its
    limit (one chunk), so memory cannot grow with what a client sends."""
    pulled: list[int] = []
    sent: list[dict] = []

    async def receive() -> dict:
        pulled.append(1)
        return {"type": "http.request", "body": b"1" * (1 << 20), "more_body": len(pulled) < 64}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/session",
        "raw_path": b"/api/v1/session",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def call() -> None:
        await client.app(scope, receive, send)

    client.portal.call(call)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
    assert len(pulled) == 1


def test_declared_oversized_body_is_a_413(client):
    body = json.dumps({"phone": "1" * (1 << 20), "password": "x"})
    response = client.post("/api/v1/session", content=body, headers=JSON)
    assert response.status_code == 413 and error_code(response) == "payload_too_large"


def test_form_with_a_file_where_none_belongs_is_refused(client):
    response = client.post(
        "/login", data={"phone": "1"}, files={"extra": ("x.bin", b"x" * 1000, "text/plain")}
    )
    assert 400 <= response.status_code < 500


def test_photo_upload_has_its_own_larger_limit(client, member):
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    photo = io.BytesIO()
    Image.effect_noise((1000, 800), 80).convert("RGB").save(photo, "PNG")
    assert len(photo.getvalue()) > 200 * 1024  # over the limit of other bodies
    response = client.post(
        "/api/v1/me/photo",
        files={"photo": ("me.png", photo.getvalue(), "image/png")},
        headers=member,
    )
    assert response.status_code == 201, response.text


# --- 13. Photos that are bombs --------------------------------------------------------

PROFILE = {
    "nickname": "南风",
    "city": 3301,
    "height_cm": 178,
    "bio": "",
    "interests": [],
    "seek_gender": "female",
    "age_min": 22,
    "age_max": 32,
    "cities": [3301],
    "min_degree": 0,
}


def test_a_79_megapixel_photo_is_refused_before_decoding(client, member):
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    bomb = io.BytesIO()
    Image.new("1", (8900, 8900)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 1 << 20
    response = client.post(
        "/api/v1/me/photo",
        files={"photo": ("me.png", bomb.getvalue(), "image/png")},
        headers=member,
    )
    assert response.status_code == 422 and "photo" in response.json()["error"]["fields"]


def test_photo_uploads_are_rate_limited(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_PHOTO_UPLOAD="2/3600"))
    created = register(client, CHEN)
    verify(client, created["member_id"])
    headers = {"X-CSRF-Token": created["csrf_token"]}
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(photo, "PNG")
    statuses = [
        client.post(
            "/api/v1/me/photo",
            files={"photo": ("a.png", photo.getvalue(), "image/png")},
            headers=headers,
        ).status_code
        for _ in range(3)
    ]
    assert statuses[-1] == 429


# --- 14. A lost session ----------------------------------------------------------------


def lose_session(client: TestClient) -> None:
    """The session ends on the server (idle timeout, Redis restart) but the browser keeps
    its cookie and the page its CSRF token."""
    kernel = client.app.state.kernel
    run(client, kernel.sessions.delete_all_for_user, client.get("/api/v1/me").json()["id"])


def test_lost_session_on_an_api_write_is_a_401(client, make_user):
    csrf = login(client, make_user())["csrf_token"]
    lose_session(client)
    response = client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 401 and error_code(response) == "not_authenticated"


def test_lost_session_on_a_form_post_goes_to_login(client, make_user):
    csrf = login(client, make_user())["csrf_token"]
    lose_session(client)
    response = client.post("/notifications/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# --- 18. HTTP errors keep their status; /metrics ----------------------------------------


def test_http_errors_keep_their_status():
    async def refuse(request: Request):
        raise HTTPException(status_code=int(request.path_params["status"]))

    app = Starlette(
        routes=[Route("/api/{status:int}", refuse)], exception_handlers=EXCEPTION_HANDLERS
    )
    client = TestClient(app)
    for status in (400, 401, 404, 409, 413, 415, 429):
        response = client.get(f"/api/{status}")
        assert response.status_code == status
        assert isinstance(response.json()["error"]["message"], str)


def test_lost_session_on_a_form_open_to_anyone_goes_to_login(client, make_user):
    """Logging out (a form that needs no login) after the session ended is no 'form expired'."""
    csrf = login(client, make_user())["csrf_token"]
    lose_session(client)
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
