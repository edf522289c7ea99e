"""Chat over HTTP and WebSocket on one worker: send, list, pages, read state, unread counts."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.websockets import WebSocketDisconnect

from qingyuan.connections import chat
from qingyuan.connections.models import Message
from qingyuan.platform.redis import connect
from tests.conftest import run
from tests.connections.chat_support import connected_pair, log_in_as, send, suspend


@pytest.fixture
def pair(client):
    return connected_pair(client)


def test_messages_are_sent_listed_and_read(client, pair):
    token = log_in_as(client, pair.a)
    sent = send(client, token, pair.connection_id, "  你好，周末有空吗？ ")
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["text"] == "你好，周末有空吗？" and body["mine"] is True
    assert body["warning"] is None and body["read"] is False
    token = log_in_as(client, pair.b)
    assert client.get("/api/v1/unread").json() == {
        "total": 1,
        "connections": {str(pair.connection_id): 1},
    }
    nav = r'href="/connections"[^>]*>[^<]*<span class="count-badge">1<'
    assert re.search(nav, client.get("/connections").text)  # on the Connections link
    listed = client.get(f"/api/v1/connections/{pair.connection_id}/messages").json()
    assert [m["text"] for m in listed["messages"]] == ["你好，周末有空吗？"]
    assert listed["messages"][0]["mine"] is False and listed["has_more"] is False
    assert client.get("/api/v1/unread").json()["total"] == 1  # GET changes nothing
    read = client.post(
        f"/api/v1/connections/{pair.connection_id}/read",
        json={},
        headers={"X-CSRF-Token": token},
    )
    assert read.json() == {"unread": 0}
    assert client.get("/api/v1/unread").json()["total"] == 0


def test_pagination_before_and_after(client, pair):
    token = log_in_as(client, pair.a)
    ids = [send(client, token, pair.connection_id, f"m{i}").json()["id"] for i in range(5)]
    url = f"/api/v1/connections/{pair.connection_id}/messages"
    newest = client.get(url, params={"limit": 2}).json()
    assert [m["id"] for m in newest["messages"]] == ids[3:] and newest["has_more"]
    older = client.get(url, params={"limit": 2, "before": ids[3]}).json()
    assert [m["id"] for m in older["messages"]] == ids[1:3]
    after = client.get(url, params={"after": ids[1]}).json()
    assert [m["id"] for m in after["messages"]] == ids[2:]
    for bad in ({"limit": "x"}, {"before": "-1"}, {"limit": "500"}):
        response = client.get(url, params=bad)
        assert response.status_code == 422 and response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "text", ["", "   ", None, 42, "x" * 1001, "hi\x00there", "bad\u202econtrol"]
)
def test_bad_messages_are_refused_and_change_nothing(client, pair, text):
    token = log_in_as(client, pair.a)
    response = send(client, token, pair.connection_id, text)
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["text"]
    assert run(client, Message.all().count) == 0


def test_another_members_chat_is_404(client, pair):
    outsider = pair.others[0]
    token = log_in_as(client, outsider)
    url = f"/api/v1/connections/{pair.connection_id}/messages"
    assert client.get(url).status_code == 404
    assert send(client, token, pair.connection_id, "hello").status_code == 404
    assert client.get(f"/connections/{pair.connection_id}").status_code == 404
    assert client.get("/api/v1/connections/999999/messages").status_code == 404


def test_form_fallback_sends_and_shows_errors(client, pair):
    token = log_in_as(client, pair.a)
    url = f"/connections/{pair.connection_id}/messages"
    response = client.post(url, data={"csrf_token": token, "text": "hello"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/connections/{pair.connection_id}#m")
    page = client.get(f"/connections/{pair.connection_id}")
    assert page.status_code == 200 and "hello" in page.text
    empty = client.post(url, data={"csrf_token": token, "text": " "})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    no_token = client.post(url, data={"text": "x"})
    assert no_token.status_code == 403


def test_opening_the_chat_page_changes_nothing_until_it_posts_read(client, pair):
    """GET is safe (a prefetch or a link preview must not send read receipts); the page marks
    messages read with a POST (its script, or the plain form), up to what it showed."""
    token = log_in_as(client, pair.a)
    first = send(client, token, pair.connection_id, "one").json()
    token = log_in_as(client, pair.b)
    page = client.get(f"/connections/{pair.connection_id}")
    assert page.status_code == 200 and 'action="/connections/' in page.text
    assert client.get("/api/v1/unread").json()["total"] == 1
    later = log_in_as(client, pair.a)
    send(client, later, pair.connection_id, "two, after B's page was drawn")
    token = log_in_as(client, pair.b)
    url = f"/connections/{pair.connection_id}/read"
    form = {"csrf_token": token, "up_to": str(first["id"])}
    done = client.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/api/v1/unread").json()["total"] == 1  # "two" was not on the page
    assert client.post(url, data={"csrf_token": token, "up_to": "x"}).status_code == 422


def test_websocket_delivers_to_the_recipient(client, pair):
    log_in_as(client, pair.b)
    origin = {"origin": "http://testserver"}
    with client.websocket_connect("/ws/chat", headers=origin) as socket:
        b_cookies = dict(client.cookies)
        token = log_in_as(client, pair.a)
        sent = send(client, token, pair.connection_id, "over the socket").json()
        event = socket.receive_json()
        assert event["type"] == "message"
        assert event["message"]["id"] == sent["id"] and event["message"]["mine"] is False
        client.cookies.clear()
        client.cookies.update(b_cookies)


def test_websocket_refuses_other_origins_and_no_session(client, pair):
    log_in_as(client, pair.b)
    for headers in ({"origin": "https://evil.example"}, {}):
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/chat", headers=headers):
                pass
    client.cookies.clear()
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws/chat", headers={"origin": "http://testserver"}):
            pass


def test_ids_and_bounds_out_of_range_are_4xx_not_500(client, pair):
    """Numbers beyond what the id columns hold made the database driver raise (a 500)."""
    token = log_in_as(client, pair.a)
    huge = 10**20
    url = f"/api/v1/connections/{pair.connection_id}"
    assert client.get(f"/api/v1/connections/{huge}/messages").status_code == 404
    assert client.get(f"/api/v1/connections/{2**40}/messages").status_code == 404
    assert client.get(f"/connections/{huge}").status_code == 404
    assert client.get(f"{url}/messages", params={"before": huge}).status_code == 422
    for up_to in (huge, 1e300, "Infinity"):
        body = f'{{"up_to": {up_to}}}'.encode()
        response = client.post(
            f"{url}/read",
            content=body,
            headers={"X-CSRF-Token": token, "content-type": "application/json"},
        )
        assert response.status_code == 422, up_to
    response = client.post(
        f"/api/v1/introductions/{huge}/response",
        json={"accept": True},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 404


async def test_a_stalled_socket_is_told_to_reconnect_and_catch_up():
    """A socket that stops reading must not grow its queue without bound: the hub replaces
    its backlog with one `overflow` event (the socket closes; the client refetches ?after=)."""
    redis = connect(f"memory://{uuid.uuid4().hex}")
    hub = chat.ChatHub(redis)
    try:
        async with hub.listen(7) as queue:
            for n in range(chat.QUEUE_SIZE + 5):
                await chat.publish(redis, {"type": "message", "n": n}, 7)
            for _ in range(100):
                if queue.qsize() == 5:
                    break
                await asyncio.sleep(0.02)
            assert queue.get_nowait() == chat.OVERFLOW
            assert [queue.get_nowait()["n"] for _ in range(4)] == list(
                range(chat.QUEUE_SIZE + 1, chat.QUEUE_SIZE + 5)
            )
    finally:
        await hub.aclose()
        await redis.aclose()


def test_logging_out_closes_the_open_socket(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_CHAT_SESSION_CHECK_SECONDS="0.2"))
    pair = connected_pair(client)
    token = log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers={"origin": "http://testserver"}) as socket:
        response = client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
        assert response.status_code in (200, 204)
        pool = ThreadPoolExecutor(1)  # a socket left open must fail the test, not hang it
        try:
            message = pool.submit(socket.receive).result(timeout=10)
        finally:
            pool.shutdown(wait=False)
        assert (message["type"], message["code"]) == ("websocket.close", 1008)


def test_a_suspended_members_chats_take_no_new_messages(client, pair):
    token = log_in_as(client, pair.a)
    suspend(client, pair.b)

    response = send(client, token, pair.connection_id, "还在吗？")

    assert response.status_code == 409, response.text
    assert response.json()["error"]["message"] == "该聊天已不可用。"
    assert run(client, Message.filter(connection_id=pair.connection_id).count) == 0


def test_an_open_socket_stops_delivering_when_its_member_loses_verification(
    make_settings, make_client
):
    """Verification can end while a socket is open (consent withdrawn, a failed re-check):
    the socket's periodic check closes it, and nothing sent afterwards reaches it."""
    client = make_client(make_settings(QINGYUAN_CHAT_SESSION_CHECK_SECONDS="0.2"))
    pair = connected_pair(client)
    token = log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers={"origin": "http://testserver"}) as socket:
        withdrawn = client.delete("/api/v1/me/consent", headers={"X-CSRF-Token": token})
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] != "verified"
        time.sleep(0.5)  # past one check interval
        send(client, log_in_as(client, pair.a), pair.connection_id, "are you still there?")
        pool = ThreadPoolExecutor(1)  # a socket left open must fail the test, not hang it
        try:
            message = pool.submit(socket.receive).result(timeout=10)
        finally:
            pool.shutdown(wait=False)
        assert (message["type"], message.get("code")) == ("websocket.close", 1008)
