"""Appeals and the admin review queue: masking, unmasking with a reason, decisions, access."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.platform.models import AuditEntry, Role
from qingyuan.verification import review
from qingyuan.verification.models import AppealStatus, Member
from qingyuan.verification.pipeline import reopen_expired
from tests.conftest import add_user, login, run
from tests.verification.platform_support import (
    CHEN,
    MISMATCH,
    ZHENG_MARRIED,
    department,
    register,
    verify,
)


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def rejected(client):
    created = register(client, ZHENG_MARRIED)
    verify(client, created["member_id"])
    return created


def test_member_appeals_a_rejection(client, rejected):
    headers = {"X-CSRF-Token": rejected["csrf_token"]}
    short = client.post("/api/v1/me/verification/appeal", json={"text": "wrong"}, headers=headers)
    assert short.status_code == 422 and "text" in short.json()["error"]["fields"]
    response = client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "我已于去年离婚，民政记录尚未更新。"},
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["appeal"]["status"] == "open"
    again = client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "我已于去年离婚，民政记录尚未更新。"},
        headers=headers,
    )
    assert again.status_code == 409


def test_a_verified_member_cannot_appeal(client):
    created = register(client, CHEN)
    verify(client, created["member_id"])
    response = client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "nothing wrong here"},
        headers={"X-CSRF-Token": created["csrf_token"]},
    )
    assert response.status_code == 409


def test_admin_queue_is_masked_and_unmasking_is_audited(client, make_user, rejected):
    admin = make_user(Role.ADMIN)
    client.cookies.clear()
    login(client, admin)
    queue = client.get("/admin/verification").text
    assert "郑*" in queue and "330106********0932" in queue
    assert "郑国强" not in queue and "330106198806160932" not in queue
    page = client.get(f"/admin/verification/{rejected['member_id']}")
    assert "139****0001" in page.text and "13912340001" not in page.text

    url = f"/admin/verification/{rejected['member_id']}/unmask"
    refused = client.post(url, data={"csrf_token": token_of(page.text), "reason": ""})
    assert refused.status_code == 422 and "郑国强" not in refused.text
    reason = "核对申诉材料中的婚姻状况记录"
    shown = client.post(url, data={"csrf_token": token_of(page.text), "reason": reason})
    assert "郑国强" in shown.text and "330106198806160932" in shown.text
    entry = run(client, AuditEntry.get, action="member.unmasked")
    assert entry.actor_id == admin.id and entry.reason == reason
    assert entry.target_id == str(rejected["member_id"])


def test_admin_approves_an_appeal_and_the_member_is_verified(client, make_user, rejected):
    client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "我已离婚，请核实民政记录。"},
        headers={"X-CSRF-Token": rejected["csrf_token"]},
    )
    member_cookies = dict(client.cookies)
    client.cookies.clear()
    login(client, make_user(Role.ADMIN))
    page = client.get(f"/admin/verification/{rejected['member_id']}")
    assert "我已离婚" in page.text
    client.post(
        f"/admin/verification/{rejected['member_id']}/decision",
        data={"csrf_token": token_of(page.text), "decision": "approve", "note": "离婚证明已核实"},
    )
    assert run(client, AuditEntry.filter(action="verification.appeal_approved").exists)
    client.cookies.clear()
    for name, value in member_cookies.items():
        client.cookies.set(name, value, domain="testserver.local")
    assert client.get("/api/v1/me/verification").json()["status"] == "verified"


def test_admin_upholds_an_appeal(client, make_user, rejected):
    client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "请再核实一下我的婚姻状况。"},
        headers={"X-CSRF-Token": rejected["csrf_token"]},
    )
    client.cookies.clear()
    login(client, make_user(Role.ADMIN))
    page = client.get(f"/admin/verification/{rejected['member_id']}")
    client.post(
        f"/admin/verification/{rejected['member_id']}/decision",
        data={"csrf_token": token_of(page.text), "decision": "uphold", "note": "民政记录确认已婚"},
    )
    assert run(client, AuditEntry.filter(action="verification.appeal_upheld").exists)
    page = client.get(f"/admin/verification/{rejected['member_id']}")
    assert "未通过" in page.text


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MATCHMAKER])
def test_review_pages_are_invisible_to_other_roles(client, make_user, rejected, role):
    client.cookies.clear()
    login(client, make_user(role))
    assert client.get("/admin/verification").status_code == 404
    assert client.get(f"/admin/verification/{rejected['member_id']}").status_code == 404


def test_staff_have_no_verification_of_their_own(client, make_user):
    login(client, make_user(Role.MATCHMAKER))
    assert client.get("/api/v1/me/verification").status_code == 404


def test_status_page_renders_for_rejected_and_pending_members(client, rejected):
    page = client.get("/verification")
    assert page.status_code == 200 and "已婚" in page.text and "提交申诉" in page.text


def test_approved_appeal_moves_the_reasons_aside(client, make_user, rejected):
    client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "我已离婚，请核实民政记录。"},
        headers={"X-CSRF-Token": rejected["csrf_token"]},
    )
    admin = make_user(Role.ADMIN)
    member = run(client, Member.get, id=rejected["member_id"])
    run(
        client,
        review.decide_appeal,
        client.app.state.kernel,
        admin,
        member,
        "approve",
        "离婚证明已核实",
    )
    body = client.get("/api/v1/me/verification").json()
    assert body["status"] == "verified" and body["reasons"] == []
    assert [r["code"] for r in body["overridden_reasons"]] == ["married"]
    assert "申诉已通过" in client.get("/verification").text


def test_re_appeals_cannot_be_flooded(make_settings, make_client):
    """After an upheld appeal a member may appeal again, but only QINGYUAN_RATE_APPEAL times
    per window; a refused (too short) appeal does not count."""
    client = make_client(make_settings(QINGYUAN_RATE_APPEAL="1/3600"))
    created = register(client, ZHENG_MARRIED)
    verify(client, created["member_id"])
    url, headers = "/api/v1/me/verification/appeal", {"X-CSRF-Token": created["csrf_token"]}
    assert client.post(url, json={"text": "no"}, headers=headers).status_code == 422
    text = {"text": "我已于去年离婚，民政记录尚未更新。"}
    assert client.post(url, json=text, headers=headers).status_code == 200
    upheld = Member.filter(id=created["member_id"]).update
    run(client, upheld, appeal_status=AppealStatus.UPHELD)
    again = client.post(url, json=text, headers=headers)
    assert again.status_code == 429 and "申诉" in again.json()["error"]["message"]
    form = client.post("/verification/appeal", data={"csrf_token": created["csrf_token"], **text})
    assert form.status_code == 429 and "申诉" in form.text
    assert run(client, Member.get, id=created["member_id"]).appeal_status == AppealStatus.UPHELD


def test_unmasking_needs_a_meaningful_reason_and_is_rate_limited(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_UNMASK="2/3600"))
    created = register(client, ZHENG_MARRIED)
    verify(client, created["member_id"])
    client.cookies.clear()
    login(client, add_user(client, "13800000001", Role.ADMIN))
    url = f"/admin/verification/{created['member_id']}/unmask"
    token = token_of(client.get(f"/admin/verification/{created['member_id']}").text)
    for vague in ("核对申诉材料", "see it", "x" * 501):
        refused = client.post(url, data={"csrf_token": token, "reason": vague})
        assert refused.status_code == 422 and "郑国强" not in refused.text
    reason = "核对申诉材料中的婚姻状况记录"
    for _ in range(2):
        assert "郑国强" in client.post(url, data={"csrf_token": token, "reason": reason}).text
    flooded = client.post(url, data={"csrf_token": token, "reason": reason})
    assert flooded.status_code == 429 and "郑国强" not in flooded.text
    assert run(client, AuditEntry.filter(action="member.unmasked").count) == 2


def test_an_approved_appeal_does_not_cover_reasons_found_later(client, make_user):
    created = register(client, MISMATCH)  # a typo in the name: identity_mismatch
    assert verify(client, created["member_id"]) == "rejected"
    client.post(
        "/api/v1/me/verification/appeal",
        json={"text": "我的名字是陈志远，登记时打错了。"},
        headers={"X-CSRF-Token": created["csrf_token"]},
    )
    kernel = client.app.state.kernel
    member = run(client, Member.get, id=created["member_id"])
    run(
        client,
        review.decide_appeal,
        kernel,
        make_user(Role.ADMIN),
        member,
        "approve",
        "身份证已核对",
    )
    assert client.get("/api/v1/me/verification").json()["status"] == "verified"

    registry = department(client, "civil_affairs").registry
    person = registry.get(MISMATCH[1])
    registry.amend(replace(person, marital_status="married", criminal_record=True))
    run(client, Member.filter(id=member.id).update, recheck_due_at=now() - timedelta(seconds=1))
    run(client, reopen_expired, kernel)

    assert verify(client, member.id) == "rejected"
    body = client.get("/api/v1/me/verification").json()
    assert [r["code"] for r in body["reasons"]] == ["disqualifying_record", "married"]
