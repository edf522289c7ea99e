"""Must-show 2: every rule of sign-up — windows, deadlines, quotas with tolerance, offers that
expire through the job queue, and the no-show pause."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.activities import attendance, registrations, waitlist
from qingyuan.activities.models import Attendance, Registration
from qingyuan.activities.settings import event_settings
from qingyuan.platform.errors import Forbidden
from qingyuan.platform.jobs import kick
from qingyuan.platform.models import Role
from tests.activities.conftest import by_gender
from tests.activities.support import activity_body, staff_session, verified_members
from tests.activities.test_registrations import cancel, sign_up
from tests.conftest import add_user, run


def test_registration_window_opens_and_closes(client, members, create_activity):
    person = members(1)[0]
    later = create_activity(registration_opens_at=(now() + timedelta(hours=1)).isoformat())
    answer = sign_up(client, later, person)
    assert answer.status_code == 409 and "尚未开放" in answer.json()["error"]["message"]
    closed = create_activity(registration_closes_at=(now() - timedelta(minutes=1)).isoformat())
    answer = sign_up(client, closed, person)
    assert answer.status_code == 409 and "已截止" in answer.json()["error"]["message"]
    assert (
        client.get(f"/api/v1/activities/{closed}", headers=person.headers).json()["my_registration"]
        is None
    )


def test_cancellation_deadline_binds_seats_not_waitlist_places(client, members, create_activity):
    people = members(3)
    activity = create_activity(
        capacity=1, cancel_deadline=(now() - timedelta(minutes=1)).isoformat()
    )
    assert sign_up(client, activity, people[0]).json()["status"] == "confirmed"
    assert sign_up(client, activity, people[1]).json()["status"] == "waitlisted"
    late = cancel(client, activity, people[0])
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
    assert cancel(client, activity, people[1]).json() == {"status": "cancelled"}
    assert cancel(client, activity, people[2]).json() == {"status": "cancelled"}  # nothing to do


def test_quota_tolerance_lets_one_side_take_spare_seats(client, members, create_activity):
    people = members(16, seed=12)
    men, women = by_gender(people, "male"), by_gender(people, "female")
    activity = create_activity(capacity=4, quotas={"male": 2, "female": 2}, quota_tolerance=1)
    statuses = [sign_up(client, activity, m).json()["status"] for m in men[:4]]
    assert statuses == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert sign_up(client, activity, women[0]).json()["status"] == "confirmed"
    assert sign_up(client, activity, women[1]).json()["status"] == "waitlisted"  # full at 4


def test_invalid_activity_bodies_change_nothing(client, admin_headers, members):
    person = members(1)[0]
    bad = client.post(
        "/api/v1/admin/activities",
        json={"title": "", "kind": "rave", "capacity": 0, "quotas": {"male": 30, "female": 1}},
        headers=admin_headers,
    )
    assert bad.status_code == 422
    assert {"title", "kind", "capacity", "place", "starts_at"} <= set(bad.json()["error"]["fields"])
    assert client.get("/api/v1/activities", headers=person.headers).json() == {"activities": []}
    # members cannot reach the admin API at all
    assert (
        client.post("/api/v1/admin/activities", json={}, headers=person.headers).status_code == 404
    )


def test_an_expired_offer_passes_on_and_expiring_twice_changes_nothing(
    client, members, create_activity
):
    config = event_settings(client.app.state.kernel.settings)
    a, b, c = members(3, seed=13)
    activity = create_activity(capacity=1)
    for person in (a, b, c):
        sign_up(client, activity, person)
    cancel(client, activity, a)
    assert _status(client, activity, b) == "offered"
    later = now() + timedelta(hours=config.waitlist_offer_hours + 1)
    assert run(client, waitlist.expire_offers, config.waitlist_offer_hours, later) == 1
    assert run(client, waitlist.expire_offers, config.waitlist_offer_hours, later) == 0
    assert _status(client, activity, b) is None  # expired: no active registration
    assert _status(client, activity, c) == "offered"


@pytest.fixture
def quick_offers(make_settings, make_client):
    """An app whose waitlist offers last 36 seconds, with its job worker running."""
    return make_client(make_settings(QINGYUAN_WAITLIST_OFFER_HOURS="0.01"), run_worker=True)


def test_offers_expire_through_the_job_queue(quick_offers, clock):
    client = quick_offers
    kernel = client.app.state.kernel
    a, b, c = run(client, verified_members, kernel, 3, seed=14)
    admin = run(client, staff_session, kernel, add_user(client, "13800000001", Role.ADMIN))
    activity = client.post(
        "/api/v1/admin/activities", json=activity_body(capacity=1), headers=admin
    ).json()["id"]
    for person in (a, b, c):
        sign_up(client, activity, person)
    cancel(client, activity, a)
    assert _status(client, activity, b) == "offered"
    clock.advance(40)
    run(client, kick, kernel.broker, "events.expire_offers")
    deadline = time.monotonic() + 20
    while _status(client, activity, c) != "offered" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _status(client, activity, c) == "offered"
    assert _status(client, activity, b) is None


def test_repeated_no_shows_pause_sign_up(client, members, create_activity):
    config = event_settings(client.app.state.kernel.settings)
    person, other = members(2, seed=15)
    missed = [create_activity(starts_in=timedelta(days=d)) for d in (2, 3)]
    for activity in missed:
        assert sign_up(client, activity, person).json()["status"] == "confirmed"
    after = now() + timedelta(days=4)
    assert run(client, attendance.mark_no_shows, after) == 2
    assert run(client, attendance.mark_no_shows, after) == 0  # idempotent
    upcoming = create_activity(starts_in=timedelta(days=6))
    paused_until = run(client, attendance.paused_until, config, person.user.id, after)
    with pytest.raises(Forbidden) as refused:
        run(client, registrations.sign_up, config, person.user, upcoming, at=after)
    assert paused_until.date().isoformat() in refused.value.message
    run(client, registrations.sign_up, config, other.user, upcoming, at=after)  # others may
    resumed = paused_until + timedelta(minutes=1)
    assert run(client, attendance.paused_until, config, person.user.id, resumed) is None
    rows = run(client, _attendance_of, person.user.id)
    assert rows == [Attendance.NO_SHOW, Attendance.NO_SHOW]


async def _attendance_of(user_id: int) -> list[Attendance]:
    return list(await Registration.filter(user_id=user_id).values_list("attendance", flat=True))


def _status(client, activity, person):
    mine = client.get(f"/api/v1/activities/{activity}", headers=person.headers).json()[
        "my_registration"
    ]
    return mine["status"] if mine else None
