"""Two verified members with a connection, and calls as each of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from qingyuan.connections import safety
from qingyuan.connections.models import ConnectionSource
from qingyuan.matching.decisions import open_connection
from qingyuan.platform.accounts import phone_of
from qingyuan.platform.models import User
from tests.conftest import run
from tests.matching.daily_support import PASSWORD, build_population


@dataclass
class Pair:
    a: User
    b: User
    connection_id: int
    others: list[User]


def connected_pair(client: TestClient, size: int = 4) -> Pair:
    """`size` verified members with profiles; the first two are connected."""
    members = build_population(client, size)
    a, b = members[0], members[1]
    connection = run(client, open_connection, a.id, b.id, ConnectionSource.MATCH)
    return Pair(a, b, connection.id, members[2:])


def log_in_as(client: TestClient, user: User) -> str:
    """Log `client` in as `user` (replacing any session); returns the CSRF token."""
    client.cookies.clear()
    phone = phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def send(client: TestClient, token: str, connection_id: int, text: Any) -> Any:
    return client.post(
        f"/api/v1/connections/{connection_id}/messages",
        json={"text": text},
        headers={"X-CSRF-Token": token},
    )


def block(client: TestClient, blocker_id: int, blocked_id: int) -> list[int]:
    """`blocker_id` blocks `blocked_id` through the action, as the block route does."""

    async def call() -> list[int]:
        blocker = await User.get(id=blocker_id)
        return await safety.do_block(client.app.state.kernel.redis, blocker, blocked_id)

    result: list[int] = run(client, call)
    return result


def suspend(client: TestClient, user: User, reason: str = "suspended by a test") -> None:
    """Suspend `user` through the action, as a report decision or `qingyuan suspend` does."""
    kernel = client.app.state.kernel
    run(client, safety.do_suspend_account, kernel, user, actor=None, reason=reason)
