"""Roles: staff areas are invisible (404) to other roles, pages and API alike."""

from __future__ import annotations

import pytest

from qingyuan.platform.models import Role
from tests.conftest import login

ADMIN_ONLY = ["/admin/audit", "/api/v1/admin/audit"]


@pytest.mark.parametrize("path", ADMIN_ONLY)
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.MEMBER, 404),
        (Role.MATCHMAKER, 404),
        (Role.ADMIN, 200),
    ],
)
def test_admin_areas_by_role(client, make_user, path, role, status):
    login(client, make_user(role))
    assert client.get(path).status_code == status


def test_anonymous_visitors_are_sent_to_login_or_told_401(client):
    page = client.get("/admin/audit", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    assert client.get("/api/v1/admin/audit").status_code == 401


def test_admin_sees_audit_entries_over_the_api(client, make_user):
    from qingyuan.platform import audit
    from qingyuan.platform.actions import AuditAction
    from tests.conftest import run

    admin = make_user(Role.ADMIN)
    run(
        client,
        audit.record,
        admin,
        AuditAction.MEMBER_UNMASKED,
        target_type="user",
        target_id=7,
        reason="appeal review",
    )
    login(client, admin)
    entries = client.get("/api/v1/admin/audit").json()["entries"]
    assert entries[0]["action"] == "member.unmasked"
    assert entries[0]["reason"] == "appeal review" and entries[0]["actor_id"] == admin.id


def test_me_reports_the_role(client, make_user):
    login(client, make_user(Role.MATCHMAKER))
    assert client.get("/api/v1/me").json()["role"] == "matchmaker"
