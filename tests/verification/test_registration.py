"""Registration over HTTP: every validation rule, duplicates, consent, rate limit."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from qingyuan.platform.jobs import build_broker
from qingyuan.platform.models import User
from qingyuan.verification.models import Consent, DepartmentCheck
from qingyuan.verification.pipeline import sweep_job
from tests.conftest import free_port, run
from tests.verification.platform_support import (
    CHEN,
    LIN,
    YANG_TOO_YOUNG,
    body,
    member,
    register,
)


def test_registration_creates_a_logged_in_pending_member(client):
    created = register(client, CHEN)
    assert set(created) == {"member_id", "csrf_token", "verification"}
    verification = created["verification"]
    assert verification["status"] == "pending" and verification["reasons"] == []
    assert {d["status"] for d in verification["departments"].values()} == {"pending"}
    assert len(verification["departments"]) == 6
    me = client.get("/api/v1/me").json()
    assert me["role"] == "member"
    assert client.get("/api/v1/me/verification").json()["status"] == "pending"
    assert run(client, DepartmentCheck.filter(member_id=created["member_id"]).count) == 6


def test_consent_is_recorded_with_the_policy_version(client):
    created = register(client, CHEN)
    consents = run(client, Consent.filter(member_id=created["member_id"]).all)
    assert {c.purpose for c in consents} == {"sensitive_personal_information", "matching"}
    assert all(c.policy_version and c.granted_at and c.withdrawn_at is None for c in consents)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "1391234"}, "phone"),
        ({"phone": "23912340001"}, "phone"),
        ({"password": "short1"}, "password"),
        ({"password": "onlyletters"}, "password"),
        ({"password": "1234567890"}, "password"),
        ({"real_name": "Chen Zhiyuan"}, "real_name"),
        ({"real_name": "陈1"}, "real_name"),
        ({"id_number": "33010619960314001"}, "id_number"),  # 17 characters
        ({"id_number": "330106199603140013"}, "id_number"),  # check character
        ({"id_number": "330106199902300012"}, "id_number"),  # 30 February (checksum is wrong too)
        ({"id_number": "000000199603140012"}, "id_number"),  # region
        ({"consents": {"sensitive_personal_information": True, "matching": False}}, "consents"),
        ({"consents": {"sensitive_personal_information": "yes", "matching": True}}, "consents"),
        ({"consents": None}, "consents"),
    ],
)
def test_each_invalid_field_is_named_and_nothing_is_written(client, change, field):
    response = client.post("/api/v1/registrations", json=body(CHEN, **change))
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert run(client, User.all().count) == 0


def test_a_real_date_with_a_valid_check_character_is_still_checked():
    from qingyuan.verification.idnumber import InvalidIdNumber, check_character, parse_id_number

    first17 = "33010619990230001"
    with pytest.raises(InvalidIdNumber) as raised:
        parse_id_number(first17 + check_character(first17))
    assert raised.value.code == "birth_date"


def test_under_marriage_age_is_refused_before_any_department_is_asked(client):
    response = client.post("/api/v1/registrations", json=body(YANG_TOO_YOUNG))
    assert response.status_code == 422
    assert "22" in response.json()["error"]["fields"]["id_number"]


def test_upper_age_bound_is_a_setting(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_MAX_MEMBER_AGE="25"))
    response = client.post("/api/v1/registrations", json=body(CHEN))  # born 1996
    assert response.status_code == 422
    assert "25" in response.json()["error"]["fields"]["id_number"]


def test_all_problems_are_reported_at_once_in_english(client):
    response = client.post("/api/v1/registrations", json={}, headers={"Accept-Language": "en"})
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"phone", "password", "real_name", "id_number", "consents"}
    assert fields["phone"] == "This field is required."


def test_wrong_json_types_are_field_errors_not_crashes(client):
    response = client.post(
        "/api/v1/registrations",
        json={"phone": 1, "id_number": ["x"], "real_name": None, "consents": []},
    )
    assert response.status_code == 422


def test_duplicate_phone_and_duplicate_id_number_get_the_same_answer(client):
    register(client, CHEN, phone="13912340001")
    client.cookies.clear()
    same_phone = client.post("/api/v1/registrations", json=body(LIN, phone="13912340001"))
    same_id = client.post("/api/v1/registrations", json=body(CHEN, phone="13912340002"))
    assert same_phone.status_code == same_id.status_code == 409
    assert same_phone.json() == same_id.json()
    assert run(client, User.all().count) == 1


def test_registration_is_rate_limited_per_address(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_REGISTRATION_IP="2/3600"))
    for index in range(2):
        client.post(
            "/api/v1/registrations", json=body(CHEN, phone=f"1391234000{index}", password="x")
        )
    response = client.post("/api/v1/registrations", json=body(CHEN))
    assert response.status_code == 429
    assert run(client, User.all().count) == 0


def test_registration_form_keeps_entries_and_shows_errors(client):
    page = client.get("/register")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "real_name": "陈志远",
            "id_number": "330106199603140013",
            "phone": "13912340001",
            "password": "register-2026",
            "sensitive_personal_information": "yes",
            "matching": "yes",
        },
    )
    assert response.status_code == 422
    assert 'value="陈志远"' in response.text and 'id="id_number-error"' in response.text
    assert "330106199603140013" not in response.text  # the ID number is never echoed back


def test_registration_form_logs_in_and_shows_the_status_page(client):
    token = client.get("/register").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "real_name": "林晓雯",
            "id_number": "330102199807220027",
            "phone": "13912340003",
            "password": "register-2026",
            "sensitive_personal_information": "yes",
            "matching": "yes",
        },
    )
    assert response.status_code == 200 and "我的核验" in response.text


def test_a_registration_the_job_queue_cannot_take_is_still_created_and_swept_up(
    make_settings, make_client
):
    client = make_client(run_worker=True)
    kernel = client.app.state.kernel
    queue = kernel.broker
    # The job queue's Redis is gone (nothing listens on that port); the app's own still answers.
    unreachable = make_settings(QINGYUAN_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    kernel.broker, _ = build_broker(unreachable, kernel.redis)

    response = client.post("/api/v1/registrations", json=body(CHEN))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["verification"]["status"] == "pending"
    kernel.broker = queue
    assert run(client, sweep_job, SimpleNamespace(state=SimpleNamespace(kernel=kernel))) == 1
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and member(client, created["member_id"]).status == "pending":
        time.sleep(0.2)
    assert member(client, created["member_id"]).status == "verified"
