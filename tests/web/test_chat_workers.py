"""Must-show 1: two uvicorn worker processes on real PostgreSQL and Redis; a message POSTed
through worker A reaches a WebSocket connected to worker B (and nothing is delivered from
worker-local memory: the two processes share only the database and Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from qingyuan.platform.accounts import phone_of
from tests.conftest import free_port, wait_for_port
from tests.connections.chat_support import connected_pair
from tests.matching.daily_support import PASSWORD

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def uvicorn_worker(env: dict[str, str]) -> Iterator[str]:
    """One `uvicorn --factory qingyuan.web.app:create_app` process; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "qingyuan.web.app:create_app"]
    command += ["--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


async def _log_in(base: str, phone: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base)
    response = await client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_a_message_sent_through_worker_a_reaches_a_socket_on_worker_b(stack, client):
    if client.app.state.kernel.settings.uses_memory_redis:
        pytest.skip("two workers need a Redis server")
    pair = connected_pair(client, 2)
    cipher = client.app.state.kernel.cipher
    phone_a, phone_b = phone_of(cipher, pair.a), phone_of(cipher, pair.b)
    env = {**os.environ, **stack}

    async def scenario(worker_a: str, worker_b: str) -> tuple[dict, dict, dict]:
        sender = await _log_in(worker_a, phone_a)
        reader = await _log_in(worker_b, phone_b)
        ws_url = worker_b.replace("http://", "ws://") + "/ws/chat"
        cookie = f"qy_session={reader.cookies['qy_session']}"
        async with connect(ws_url, origin=worker_b, additional_headers={"Cookie": cookie}) as ws:
            sent = await sender.post(
                f"/api/v1/connections/{pair.connection_id}/messages",
                json={"text": "从 A 发到 B 的消息"},
            )
            assert sent.status_code == 201, sent.text
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        listed = await reader.get(f"/api/v1/connections/{pair.connection_id}/messages")
        await sender.aclose()
        await reader.aclose()
        return sent.json(), event, listed.json()

    with uvicorn_worker(env) as worker_a, uvicorn_worker(env) as worker_b:
        sent, event, listed = asyncio.run(scenario(worker_a, worker_b))
    assert event["type"] == "message"
    assert event["message"]["id"] == sent["id"]
    assert event["message"]["text"] == "从 A 发到 B 的消息"
    assert event["message"]["mine"] is False  # rendered for the recipient, on worker B
    assert [m["id"] for m in listed["messages"]] == [sent["id"]]  # persisted, not only published


def test_worker_b_refuses_a_socket_from_another_origin(stack, client):
    if client.app.state.kernel.settings.uses_memory_redis:
        pytest.skip("needs a Redis server")
    pair = connected_pair(client, 2)
    phone = phone_of(client.app.state.kernel.cipher, pair.b)
    env = {**os.environ, **stack}

    async def attempt(worker: str) -> None:
        reader = await _log_in(worker, phone)
        cookie = f"qy_session={reader.cookies['qy_session']}"
        ws_url = worker.replace("http://", "ws://") + "/ws/chat"
        await reader.aclose()
        with pytest.raises(Exception, match="403"):
            async with connect(
                ws_url, origin="https://evil.example", additional_headers={"Cookie": cookie}
            ):
                pass

    with uvicorn_worker(env) as worker:
        asyncio.run(attempt(worker))
