"""Fixtures of events tests: verified members with sessions, an admin, activities by API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from qingyuan.platform.models import Role
from tests.conftest import add_user, run
from tests.events.support import MemberSession, activity_body, staff_session, verified_members


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
def volunteer_headers(client: TestClient) -> dict[str, str]:
    volunteer = add_user(client, "13800000002", Role.MATCHMAKER, "红娘")
    return run(client, staff_session, client.app.state.kernel, volunteer)


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
