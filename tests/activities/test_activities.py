"""Admins edit and cancel activities; attendance corrections; verification requirement."""

from __future__ import annotations

from datetime import timedelta

from qingyuan.activities import attendance
from qingyuan.activities.models import Registration
from qingyuan.activities.settings import event_settings
from qingyuan.platform.models import Notification
from tests.activities.support import activity_body
from tests.activities.test_registrations import sign_up
from tests.conftest import run
from tests.verification.platform_support import CHEN, register


def test_cancelling_an_activity_notifies_everyone_registered(
    client, members, create_activity, admin_headers
):
    people = members(3, seed=23)
    activity = create_activity(capacity=2)
    for person in people:
        sign_up(client, activity, person)
    path = f"/api/v1/admin/activities/{activity}/cancellation"
    assert client.post(path, json={"reason": ""}, headers=admin_headers).status_code == 422
    for _ in range(2):  # twice: harmless
        done = client.post(path, json={"reason": "暴雨预警"}, headers=admin_headers)
        assert done.status_code == 200 and done.json() == {"status": "cancelled"}
    notified = run(client, _notified, "activity.cancelled")
    assert sorted(notified) == sorted(p.user.id for p in people)
    detail = client.get(f"/api/v1/activities/{activity}", headers=people[0].headers).json()
    assert detail["status"] == "cancelled" and detail["my_registration"] is None
    assert sign_up(client, activity, people[0]).status_code == 409
    listed = client.get("/api/v1/activities", headers=people[0].headers).json()["activities"]
    assert activity not in [a["id"] for a in listed]


async def _notified(kind: str) -> list[int]:
    return list(await Notification.filter(kind=kind).values_list("user_id", flat=True))


def test_capacity_cannot_drop_below_the_seats_taken(
    client, members, create_activity, admin_headers
):
    people = members(3, seed=24)
    activity = create_activity(capacity=3)
    for person in people:
        sign_up(client, activity, person)
    smaller = client.put(
        f"/api/v1/admin/activities/{activity}",
        json=activity_body(capacity=2),
        headers=admin_headers,
    )
    assert smaller.status_code == 422 and "capacity" in smaller.json()["error"]["fields"]
    larger = client.put(
        f"/api/v1/admin/activities/{activity}",
        json=activity_body(capacity=5),
        headers=admin_headers,
    )
    assert larger.status_code == 200


def test_an_excused_absence_does_not_count_towards_the_pause(
    client, members, create_activity, admin_headers
):
    config = event_settings(client.app.state.kernel.settings)
    person = members(1, seed=25)[0]
    missed = [create_activity(starts_in=timedelta(days=d)) for d in (2, 3)]
    for activity in missed:
        sign_up(client, activity, person)
    after = run(client, _end_of_last, person.user.id) + timedelta(hours=1)
    run(client, attendance.mark_no_shows, after)
    assert run(client, attendance.paused_until, config, person.user.id, after) is not None
    first = run(client, _registration_ids, person.user.id)[0]
    excused = client.put(
        f"/api/v1/admin/registrations/{first}/attendance",
        json={"attendance": "excused", "reason": "病假条"},
        headers=admin_headers,
    )
    assert excused.status_code == 200
    assert run(client, attendance.paused_until, config, person.user.id, after) is None
    bad = client.put(
        f"/api/v1/admin/registrations/{first}/attendance",
        json={"attendance": "maybe"},
        headers=admin_headers,
    )
    assert bad.status_code == 422


async def _registration_ids(user_id: int) -> list[int]:
    return list(
        await Registration.filter(user_id=user_id).order_by("id").values_list("id", flat=True)
    )


async def _end_of_last(user_id: int):
    ends = await Registration.filter(user_id=user_id).values_list("activity__ends_at", flat=True)
    return max(ends)


def test_pending_members_may_join_only_activities_without_required_verification(
    client, create_activity
):
    strict = create_activity()
    open_lecture = create_activity(kind="lecture", requires_verification=False)
    # registered and logged in (the client keeps the cookie); the checks have not run yet
    headers = {"X-CSRF-Token": register(client, CHEN, phone="13912340001")["csrf_token"]}
    refused = client.post(f"/api/v1/activities/{strict}/registration", headers=headers)
    assert refused.status_code == 403
    admitted = client.post(f"/api/v1/activities/{open_lecture}/registration", headers=headers)
    assert admitted.status_code == 201 and admitted.json()["status"] == "confirmed"
