"""The pipeline over real (in-process) HTTP departments: personas, outages, re-checks, gate."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.platform.errors import Forbidden
from qingyuan.platform.models import AuditEntry, User
from qingyuan.verification.models import CheckStatus, DepartmentCheck, Member
from qingyuan.verification.pipeline import (
    DepartmentsPending,
    check_member,
    reopen_expired,
    stalled_members,
)
from qingyuan.verification.protocol import DEPARTMENTS
from qingyuan.verification.status import ensure_verified
from tests.conftest import run
from tests.verification.platform_support import (
    CHEN,
    FENG_RECORD,
    HE_DEBTOR,
    LIN,
    MISMATCH,
    SUN_DIVORCED,
    UNKNOWN,
    WU_WIDOWED,
    ZHENG_MARRIED,
    department,
    member,
    register,
    verify,
)


@pytest.mark.parametrize(
    ("person", "status", "reasons"),
    [
        (CHEN, "verified", []),
        (LIN, "verified", []),
        (SUN_DIVORCED, "verified", []),
        (WU_WIDOWED, "verified", []),
        (ZHENG_MARRIED, "rejected", ["married"]),
        (FENG_RECORD, "rejected", ["disqualifying_record"]),
        (HE_DEBTOR, "rejected", ["dishonest_debtor"]),
        (UNKNOWN, "rejected", ["person_unknown"]),
        (MISMATCH, "rejected", ["identity_mismatch"]),
    ],
)
def test_each_persona_gets_its_outcome(client, person, status, reasons):
    created = register(client, person)
    assert verify(client, created["member_id"]) == status
    body = client.get("/api/v1/me/verification").json()
    assert body["status"] == status
    assert [reason["code"] for reason in body["reasons"]] == reasons
    assert all(reason["message"] for reason in body["reasons"])
    if status == "verified":
        assert {d["status"] for d in body["departments"].values()} == {"confirmed"}


def test_verified_member_gets_degree_and_employment_badges(client):
    created = register(client, LIN)
    verify(client, created["member_id"])
    body = client.get("/api/v1/me/verification").json()
    assert body["badges"] == {"degree": "master", "employment": "employed"}
    assert "硕士" in client.get("/verification").text


def test_rejection_names_the_failing_department(client):
    created = register(client, ZHENG_MARRIED)
    verify(client, created["member_id"])
    departments = client.get("/api/v1/me/verification").json()["departments"]
    assert departments["civil_affairs"]["status"] == "negative"
    assert departments["public_security"]["status"] == "confirmed"


def test_outage_leaves_pending_and_recovery_verifies(client):
    created = register(client, CHEN)
    justice = department(client, "justice")
    justice.knobs.down = True
    with pytest.raises(DepartmentsPending):
        verify(client, created["member_id"])
    body = client.get("/api/v1/me/verification").json()
    assert body["status"] == "pending" and body["reasons"] == []
    assert body["departments"]["justice"]["status"] == "error"
    assert body["departments"]["civil_affairs"]["status"] == "confirmed"  # stored as it came

    justice.knobs.down = False
    assert verify(client, created["member_id"]) == "verified"
    checks = run(client, DepartmentCheck.filter(member_id=created["member_id"]).all)
    attempts = {check.department: check.attempts for check in checks}
    assert attempts["justice"] == 2 and attempts["civil_affairs"] == 1  # only the open one


def test_slow_department_times_out_into_pending(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_DEPARTMENT_TIMEOUT="0.3"))
    created = register(client, CHEN)
    department(client, "education").knobs.delay = 1.0
    started = time.monotonic()
    with pytest.raises(DepartmentsPending):
        verify(client, created["member_id"])
    assert time.monotonic() - started < 1.0
    assert member(client, created["member_id"]).status == "pending"


def test_failing_department_never_rejects(client):
    created = register(client, CHEN)
    department(client, "development_reform").knobs.failure_rate = 1.0
    with pytest.raises(DepartmentsPending):
        verify(client, created["member_id"])
    assert member(client, created["member_id"]).status == "pending"


def test_key_rotation_is_picked_up_without_restart(client):
    first = register(client, CHEN, phone="13912340001")
    verify(client, first["member_id"])
    department(client, "public_security").keys.rotate()
    client.cookies.clear()
    second = register(client, LIN, phone="13912340002")
    assert verify(client, second["member_id"]) == "verified"


def test_registration_queues_the_check_and_the_worker_verifies(make_client):
    client = make_client(run_worker=True)
    created = register(client, CHEN)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if client.get("/api/v1/me/verification").json()["status"] == "verified":
            break
        time.sleep(0.2)
    assert client.get("/api/v1/me/verification").json()["status"] == "verified"
    assert run(
        client,
        AuditEntry.filter(
            action="verification.verified", target_id=str(created["member_id"])
        ).exists,
    )


def test_sweep_finds_members_whose_retries_ran_out(client):
    created = register(client, CHEN)
    department(client, "justice").knobs.down = True
    with pytest.raises(DepartmentsPending):
        verify(client, created["member_id"])
    assert run(client, stalled_members, timedelta(0)) == [created["member_id"]]
    assert run(client, stalled_members, timedelta(minutes=5)) == []  # just tried


def test_attestations_expire_and_are_checked_again(client):
    created = register(client, CHEN)
    verify(client, created["member_id"])
    run(
        client,
        Member.filter(id=created["member_id"]).update,
        recheck_due_at=now() - timedelta(seconds=1),
    )
    assert run(client, reopen_expired, client.app.state.kernel) == [created["member_id"]]
    statuses = run(
        client,
        DepartmentCheck.filter(member_id=created["member_id"]).values_list,
        "status",
        flat=True,
    )
    assert set(statuses) == {CheckStatus.PENDING}
    assert member(client, created["member_id"]).status == "verified"  # keeps its badge meanwhile
    assert verify(client, created["member_id"]) == "verified"
    assert member(client, created["member_id"]).recheck_due_at > now() + timedelta(days=179)


def test_withdrawn_consent_stops_processing(client):
    created = register(client, CHEN)
    response = client.delete("/api/v1/me/consent", headers={"X-CSRF-Token": created["csrf_token"]})
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["reasons"]] == ["consent_withdrawn"]
    verify(client, created["member_id"])
    statuses = run(
        client,
        DepartmentCheck.filter(member_id=created["member_id"]).values_list,
        "status",
        flat=True,
    )
    assert set(statuses) == {CheckStatus.PENDING}  # no department was asked
    assert run(client, stalled_members, timedelta(0)) == []  # nor will the sweep ask them


def test_gate_lets_only_verified_members_through(client):
    verified = register(client, CHEN, phone="13912340001")
    verify(client, verified["member_id"])
    client.cookies.clear()
    rejected = register(client, ZHENG_MARRIED, phone="13912340002")
    verify(client, rejected["member_id"])
    verified_user = run(client, User.get, member__id=verified["member_id"])
    assert run(client, ensure_verified, verified_user).id == verified["member_id"]
    with pytest.raises(Forbidden) as refused:
        run(client, ensure_verified, run(client, User.get, member__id=rejected["member_id"]))
    assert "核验未通过" in refused.value.message and "已婚" not in refused.value.message


def test_withdrawing_consent_keeps_a_rejected_member_rejected(client):
    created = register(client, ZHENG_MARRIED)
    assert verify(client, created["member_id"]) == "rejected"

    response = client.delete("/api/v1/me/consent", headers={"X-CSRF-Token": created["csrf_token"]})

    assert response.json()["status"] == "rejected"
    assert [r["code"] for r in response.json()["reasons"]] == ["married", "consent_withdrawn"]
    assert member(client, created["member_id"]).status == "rejected"


def test_answers_arriving_after_consent_is_withdrawn_change_nothing(client):
    created = register(client, CHEN)
    for key in DEPARTMENTS:
        department(client, key).knobs.delay = 0.5  # on each request: answers after ≥ 1.5 s
    assert client.portal is not None
    in_flight = client.portal.start_task_soon(
        check_member, client.app.state.services.verification, created["member_id"]
    )
    time.sleep(0.3)

    response = client.delete("/api/v1/me/consent", headers={"X-CSRF-Token": created["csrf_token"]})
    assert response.status_code == 200
    in_flight.result(timeout=20)

    assert member(client, created["member_id"]).status == "pending"
    assert client.get("/api/v1/me/verification").json()["reasons"][0]["code"] == "consent_withdrawn"
    statuses = run(
        client,
        DepartmentCheck.filter(member_id=created["member_id"]).values_list,
        "status",
        flat=True,
    )
    assert set(statuses) == {CheckStatus.PENDING}
