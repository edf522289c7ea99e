"""The activities' models: what the document says is what the routes do (issue 12).

Where the old hand-written document and the old validator disagreed, the behaviour won:
`quotas` is optional, a title has 1–80 characters and the capacity is 1–2000.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from tortoise.timezone import now

from qingyuan.activities import feedback
from qingyuan.activities.models import ActivityKind
from qingyuan.activities.schemas import Kind
from qingyuan.platform.errors import ValidationFailed
from tests.activities.support import activity_body
from tests.activities.test_pages import _csrf
from tests.conftest import run

ADMIN_API = "/api/v1/admin/activities"


def _activity_body_schema(client) -> dict:
    document = client.get("/api/v1/openapi.json").json()
    return document["components"]["schemas"]["ActivityBody"]


def test_the_kinds_of_the_model_are_the_kinds_of_the_table():
    assert set(get_args(Kind)) == {kind.value for kind in ActivityKind}


def test_the_document_says_what_the_validator_does(client, admin_headers):
    schema = _activity_body_schema(client)
    assert "quotas" not in schema["required"]
    title, capacity = schema["properties"]["title"], schema["properties"]["capacity"]
    assert (title["minLength"], title["maxLength"]) == (1, 80)
    assert (capacity["minimum"], capacity["maximum"]) == (1, 2000)
    body = activity_body()
    del body["quotas"]
    assert client.post(ADMIN_API, json=body, headers=admin_headers).status_code == 201
    for field, value in (("title", "x" * 81), ("capacity", 2001), ("capacity", 0)):
        refused = client.post(ADMIN_API, json={**body, field: value}, headers=admin_headers)
        assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {field}


@pytest.mark.parametrize("title", ["   ", "\u3000", "\t\n"])
def test_a_title_of_blanks_is_refused(client, admin_headers, title):
    refused = client.post(ADMIN_API, json=activity_body(title=title), headers=admin_headers)
    assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {"title"}


def test_a_time_without_offset_is_local_time(client, admin_headers):
    start = (now() + timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)

    def naive(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M")

    body = activity_body(
        starts_at=naive(start),
        ends_at=naive(start + timedelta(hours=2)),
        registration_closes_at=naive(start - timedelta(hours=3)),
        cancel_deadline=naive(start - timedelta(hours=24)),
    )
    created = client.post(ADMIN_API, json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    detail = client.get(f"/api/v1/activities/{created.json()['id']}", headers=admin_headers)
    stored = datetime.fromisoformat(detail.json()["starts_at"])
    typed = datetime.fromisoformat(naive(start)).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert stored == typed  # QINGYUAN_TIMEZONE's clock, not UTC's


@pytest.mark.parametrize("moment", ["2027-02-29T10:00", "2026-04-31T10:00", "1700000000", "0"])
def test_impossible_times_are_refused(client, admin_headers, moment):
    refused = client.post(ADMIN_API, json=activity_body(starts_at=moment), headers=admin_headers)
    assert refused.status_code == 422 and "starts_at" in refused.json()["error"]["fields"]


def test_times_out_of_order_are_the_services_check(client, admin_headers):
    body = activity_body()
    refused = client.post(
        ADMIN_API, json={**body, "ends_at": body["starts_at"]}, headers=admin_headers
    )
    assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {"ends_at"}
    crowded = client.post(
        ADMIN_API,
        json={**body, "capacity": 10, "quotas": {"male": 6, "female": 6}},
        headers=admin_headers,
    )
    assert set(crowded.json()["error"]["fields"]) == {"quotas"}


def test_feedback_from_outside_the_web_layer_is_checked_by_the_same_model(client):
    with pytest.raises(ValidationFailed) as refused:
        run(client, feedback.leave_feedback, 1, 1, 5, "长" * 501)
    assert set(refused.value.fields) == {"comment"}


def test_the_checkin_page_says_what_the_model_refuses(client, volunteer_headers):
    cookie = {"Cookie": volunteer_headers["Cookie"]}
    page = client.get("/staff/checkin", headers=cookie)
    refused = client.post(
        "/staff/checkin", data={"csrf_token": _csrf(page.text), "code": "  "}, headers=cookie
    )
    assert refused.status_code == 422 and "请扫描二维码或输入签到码。" in refused.text


def test_the_admin_form_and_the_api_share_the_model(client, admin_headers):
    cookie = {"Cookie": admin_headers["Cookie"]}
    page = client.get("/admin/activities/new", headers=cookie)
    body = activity_body()
    form = {k: str(v) for k, v in body.items() if k != "quotas"}
    form |= {"csrf_token": _csrf(page.text), "title": "\u3000", "quota_male": "3"}
    refused = client.post("/admin/activities", data=form, headers=cookie)
    assert refused.status_code == 422
    assert 'id="title-error"' in refused.text and 'id="quotas-error"' in refused.text
