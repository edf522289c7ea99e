"""Fixtures of events tests: verified members with sessions, an admin, activities by API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from qingyuan.activities.models import Activity
from qingyuan.platform.models import Role, User
from tests.activities.support import MemberSession, activity_body, staff_session, verified_members
from tests.conftest import add_user, run


@pytest.fixture
def members(client: TestClient) -> Callable[..., list[MemberSession]]:
    def build(count: int, seed: int = 11) -> list[MemberSession]:
        return run(client, verified_members, client.app.state.kernel, count, seed=seed)

    return build


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    return run(client, staff_session, client.app.state.kernel, admin)


@pytest.fixture
def volunteer(client: TestClient) -> User:
    return add_user(client, "13800000002", Role.MATCHMAKER, "红娘")


@pytest.fixture
def volunteer_headers(client: TestClient, volunteer: User) -> dict[str, str]:
    return run(client, staff_session, client.app.state.kernel, volunteer)


@pytest.fixture
def on_shift(client: TestClient, admin_headers, volunteer: User) -> Callable[[int], None]:
    """Put the volunteer on a check-in shift at an activity (only then may they check in)."""

    def assign(activity_id: int) -> None:
        start = run(client, Activity.get, id=activity_id).starts_at
        body = {
            "role": "签到",
            "starts_at": (start - timedelta(minutes=30)).isoformat(),
            "ends_at": start.isoformat(),
            "needed": 1,
        }
        url = f"/api/v1/admin/activities/{activity_id}/shifts"
        shift = client.post(url, json=body, headers=admin_headers).json()["id"]
        done = client.post(
            f"/api/v1/admin/shifts/{shift}/assignments",
            json={"volunteer_id": volunteer.id},
            headers=admin_headers,
        )
        assert done.status_code == 200, done.text

    return assign


@pytest.fixture
def create_activity(client: TestClient, admin_headers) -> Callable[..., int]:
    def create(**changes: Any) -> int:
        response = client.post(
            "/api/v1/admin/activities", json=activity_body(**changes), headers=admin_headers
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    return create


def by_gender(people: list[MemberSession], gender: str) -> list[MemberSession]:
    return [p for p in people if p.gender == gender]
