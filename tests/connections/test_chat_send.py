"""Sending over the WebSocket, the hot path: what one message costs (queries, Redis commands),
blocks and suspensions the socket has not heard of yet, the rate limit, order and dedupe."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from redis.asyncio.connection import AbstractConnection
from starlette.testclient import TestClient
from tortoise.timezone import now

from qingyuan.connections.models import Connection, Message
from qingyuan.platform.models import User
from tests.conftest import run
from tests.connections.chat_support import Pair, connected_pair, log_in_as, send

ORIGIN = {"origin": "http://testserver"}


def receive(socket: Any, timeout: float = 10) -> dict[str, Any]:
    """The next frame, failing the test instead of hanging it when none comes."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(socket.receive_json).result(timeout=timeout)
    finally:
        pool.shutdown(wait=False)


def socket_send(socket: Any, connection_id: Any, text: Any, ref: Any = None) -> dict[str, Any]:
    """Send one `send` frame and return its reply (`sent` or `refused`), skipping events."""
    socket.send_json({"type": "send", "connection_id": connection_id, "text": text, "ref": ref})
    while (frame := receive(socket))["type"] not in ("sent", "refused"):
        pass
    assert frame["ref"] == ref
    return frame


@contextmanager
def member_socket(client: TestClient, user: Any) -> Iterator[Any]:
    """A `/ws/chat` socket logged in as `user` (the client's cookies are left as they were)."""
    kept = dict(client.cookies)
    log_in_as(client, user)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        client.cookies.clear()
        client.cookies.update(kept)
        yield socket


@dataclass
class Costs:
    """SQL statements (Tortoise's query log) and Redis round trips and commands (redis-py's
    connections: every pipeline or script is one write of its packed commands)."""

    queries: list[str] = field(default_factory=list)
    round_trips: int = 0
    commands: list[str] = field(default_factory=list)


class _QueryLog(logging.Handler):
    def __init__(self, costs: Costs) -> None:
        super().__init__(logging.DEBUG)
        self.costs = costs

    def emit(self, record: logging.LogRecord) -> None:
        if record.args:  # "%s: %s" (query, values); connection-pool notices carry no query
            self.costs.queries.append(str(record.args[0]).split()[0].upper())


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Costs]:
    costs = Costs()
    send_packed, pack, pack_many = (
        AbstractConnection.send_packed_command,
        AbstractConnection.pack_command,
        AbstractConnection.pack_commands,
    )

    async def counting_send(self: Any, command: Any, check_health: bool = True) -> None:
        if not self.__class__.__name__.startswith("PubSub"):
            costs.round_trips += 1
        await send_packed(self, command, check_health)

    def counting_pack(self: Any, *args: Any) -> Any:
        costs.commands.append(str(args[0]).upper())
        return pack(self, *args)

    def counting_pack_many(self: Any, commands: Any) -> Any:
        commands = list(commands)
        costs.commands.extend(str(args[0]).upper() for args in commands)
        return pack_many(self, commands)

    logger = logging.getLogger("tortoise.db_client")
    handler, level = _QueryLog(costs), logger.level
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting_send)
    monkeypatch.setattr(AbstractConnection, "pack_command", counting_pack)
    monkeypatch.setattr(AbstractConnection, "pack_commands", counting_pack_many)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield costs
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        monkeypatch.undo()


@contextmanager
def monitored(redis_url: str) -> Iterator[list[dict[str, Any]]]:
    """What the Redis server itself executed in the test's database while the block ran
    (MONITOR), ended by a marker command; commands run by a script have client_type lua."""
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    watching = redis.Redis.from_url(redis_url, decode_responses=True)  # a connection of its own
    db = server.connection_pool.connection_kwargs.get("db", 0)
    seen: list[dict[str, Any]] = []
    marker = "end-of-monitored-block"
    started = threading.Event()

    def watch() -> None:
        with watching.monitor() as monitor:
            started.set()
            for item in monitor.listen():
                if item["command"] == f"ECHO {marker}":
                    return
                if int(item["db"]) == db:
                    seen.append(item)

    server.ping()  # this client's connection (and its SELECT) made before MONITOR starts
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started.wait(5)
    server.ping()  # MONITOR is on once its reply has come; a round trip after it is seen
    try:
        yield seen
    finally:
        server.echo(marker)
        watcher.join(10)
        server.close()
        watching.close()
    seen[:] = [item for item in seen if item["command"] != "PING"]


@pytest.fixture
def pair(client: TestClient) -> Pair:
    return connected_pair(client)


def test_one_message_costs_two_queries_and_one_redis_round_trip(client, pair, monkeypatch):
    """The socket's member and chat are known after its first message: the next one is the
    id, the INSERT, and one script that counts the rate and publishes to both sides."""
    redis_url = client.app.state.kernel.settings.redis_url
    with member_socket(client, pair.b) as to_b, member_socket(client, pair.a) as socket:
        assert socket_send(socket, pair.connection_id, "先认识一下")["type"] == "sent"
        with counted(monkeypatch) as costs:
            if redis_url.startswith("memory://"):
                reply = socket_send(socket, pair.connection_id, "周末一起去爬山吗？", ref=2)
            else:
                with monitored(redis_url) as executed:
                    reply = socket_send(socket, pair.connection_id, "周末一起去爬山吗？", ref=2)
                names = [(i["client_type"], i["command"].split()[0]) for i in executed]
                assert [n for kind, n in names if kind != "lua"] == ["EVALSHA"], executed
                ran = [n for kind, n in names if kind == "lua"]  # inside the script
                assert ran == ["INCR", "TTL", "PUBLISH", "PUBLISH"], executed
        assert reply["type"] == "sent" and reply["message"]["text"] == "周末一起去爬山吗？"
        # reserve_id (PostgreSQL: SELECT nextval; SQLite: UPDATE its counter), the INSERT
        assert len(costs.queries) == 2 and costs.queries[1] == "INSERT", costs.queries
        assert (costs.round_trips, costs.commands) == (1, ["EVALSHA"])
        delivered = [receive(to_b), receive(to_b)]
        assert [e["message"]["id"] for e in delivered][-1] == reply["message"]["id"]
        assert delivered[-1]["message"]["mine"] is False


def test_a_block_the_socket_has_not_heard_of_stops_the_next_message(client, pair):
    """The race: a socket keeps its chats between messages and learns of a block from its
    `ended` event, which can come after the sender's next frame (or, if pub/sub drops it,
    never). The INSERT checks the chat is still open itself, so the message is refused, not
    stored, not delivered: here the socket never hears of the block at all."""
    with member_socket(client, pair.b) as to_b, member_socket(client, pair.a) as socket:
        first = socket_send(socket, pair.connection_id, "你好")
        assert first["type"] == "sent"
        receive(to_b)
        # the block's state change, its `ended` event lost (as pub/sub may lose it)
        ended = Connection.filter(id=pair.connection_id).update
        run(client, ended, ended_at=now())

        reply = socket_send(socket, pair.connection_id, "还在吗？")

        assert (reply["type"], reply["status"]) == ("refused", 404)
        assert reply["error"]["error"]["code"] == "not_found"
        ids = run(client, Message.filter(connection_id=pair.connection_id).values_list, "id")
        assert [row[0] for row in ids] == [first["message"]["id"]]
        socket_send(socket, pair.connection_id, "和你再确认一下")  # the chat is forgotten: 404
        to_b.send_json({"type": "keep-alive"})  # B's socket is live, and got nothing more
        with pytest.raises(TimeoutError):
            receive(to_b, timeout=0.5)


@pytest.mark.parametrize("who", ["recipient", "sender"])
def test_a_suspension_the_socket_has_not_heard_of_stops_the_next_message(client, pair, who):
    """Suspension publishes `revoked` to the suspended member's sockets only (and, like a
    block, the event can come late): the INSERT's own check refuses a message into a chat
    with an inactive member, on either side, with the neutral 409 the POST answers."""
    with member_socket(client, pair.a) as socket:
        assert socket_send(socket, pair.connection_id, "你好")["type"] == "sent"
        suspended = pair.b if who == "recipient" else pair.a
        # the suspension's state change, its `revoked` event lost or not yet delivered
        run(client, User.filter(id=suspended.id).update, is_active=False)

        reply = socket_send(socket, pair.connection_id, "还在吗？")

        assert (reply["type"], reply["status"]) == ("refused", 409)
        assert reply["error"]["error"]["message"] == "该聊天已不可用。"
        assert run(client, Message.filter(connection_id=pair.connection_id).count) == 1


def test_the_rate_limit_holds_across_sockets_and_refused_messages_are_not_kept(
    make_settings, make_client, monkeypatch
):
    """Two devices of one member share the limit. The device that last saw the limit full
    refuses locally (no query, no Redis); the other one, not knowing, stores its message, and
    the script refuses it: it is deleted and reaches nobody."""
    client = make_client(make_settings(QINGYUAN_RATE_CHAT_NEW="2/3600"))
    pair = connected_pair(client)
    with (
        member_socket(client, pair.a) as phone,
        member_socket(client, pair.a) as laptop,
    ):
        assert socket_send(phone, pair.connection_id, "one")["type"] == "sent"
        assert socket_send(laptop, pair.connection_id, "two")["type"] == "sent"  # now full
        raced = socket_send(phone, pair.connection_id, "three")
        assert (raced["type"], raced["status"]) == ("refused", 429)
        assert 1 <= raced["retry_after"] <= 3600
        with counted(monkeypatch) as costs:
            local = socket_send(phone, pair.connection_id, "four")
        assert (local["status"], costs.queries, costs.round_trips) == (429, [], 0)
    texts = run(client, Message.filter(connection_id=pair.connection_id).count)
    assert texts == 2
    response = send(client, log_in_as(client, pair.a), pair.connection_id, "five")
    assert response.status_code == 429 and response.headers["retry-after"]
    assert run(client, Message.filter(connection_id=pair.connection_id).count) == 2


def test_socket_messages_keep_their_order_and_dedupe_by_id(client, pair):
    """Frames are handled one after another, so a burst keeps its order in ids. The socket
    that sent a message gets it once (the reply); the member's other devices get it as an
    event with the same id (clients dedupe by id); a reconnecting client catches up with
    ?after=."""
    with member_socket(client, pair.a) as laptop, member_socket(client, pair.a) as phone:
        for n in range(5):
            phone.send_json(
                {"type": "send", "connection_id": pair.connection_id, "text": f"m{n}", "ref": n}
            )
        replies = [receive(phone) for _ in range(5)]
        events = [receive(laptop) for _ in range(5)]
        phone.send_json({"type": "send", "connection_id": pair.connection_id, "text": "last"})
        assert receive(phone)["type"] == "sent"  # no copy of m0…m4 came before it
    assert [(r["type"], r["ref"]) for r in replies] == [("sent", n) for n in range(5)]
    ids = [r["message"]["id"] for r in replies]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [e["message"]["id"] for e in events] == ids
    assert all(e["message"]["mine"] for e in events)
    log_in_as(client, pair.b)
    caught_up = client.get(
        f"/api/v1/connections/{pair.connection_id}/messages", params={"after": ids[1]}
    ).json()
    assert [m["text"] for m in caught_up["messages"]] == ["m2", "m3", "m4", "last"]


def test_bad_send_frames_are_refused_like_the_post_and_others_ignored(client, pair):
    with member_socket(client, pair.a) as socket:
        empty = socket_send(socket, pair.connection_id, "  ", ref="x")
        assert (empty["status"], empty["error"]["error"]["fields"]) == (
            422,
            {"text": "请先输入消息。"},
        )
        assert socket_send(socket, "12", "hi")["status"] == 422
        assert socket_send(socket, 2**70, "hi")["status"] == 404
        assert socket_send(socket, pair.connection_id + 1000, "hi")["status"] == 404
        socket.send_text("ping")  # not JSON, not ours: no reply, the socket stays open
        socket.send_json({"type": "typing"})
        assert socket_send(socket, pair.connection_id, "still here")["type"] == "sent"
    assert run(client, Message.filter(connection_id=pair.connection_id).count) == 1
