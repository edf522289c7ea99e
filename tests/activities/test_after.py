"""After the activity: feedback, mutual "meet again" picks → connections, figures, and the
volunteers' shifts and the matchmakers' consultation slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.activities import feedback, figures
from qingyuan.activities.models import Activity
from qingyuan.matching.decisions import connections_of
from qingyuan.matching.models import Proposal
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.models import Role
from tests.activities.test_checkin import scan, soon, ticket
from tests.activities.test_registrations import sign_up
from tests.conftest import add_user, run
from tests.connections.chat_support import block


@pytest.fixture
def attended(client, members, create_activity, volunteer_headers, on_shift):
    """An activity where three members attended and a fourth did not come."""
    people = members(4, seed=17)
    activity = create_activity(**soon())
    on_shift(activity)
    for person in people:
        sign_up(client, activity, person)
    for person in people[:3]:
        assert (
            scan(client, volunteer_headers, ticket(client, activity, person)["qr"]).status_code
            == 200
        )
    ended = run(client, Activity.get, id=activity).ends_at + timedelta(hours=1)
    return activity, people, ended


def test_mutual_picks_become_one_connection(client, attended):
    activity, (a, b, c, absent), ended = attended
    assert run(client, feedback.pick, a.user.id, activity, b.user.id, at=ended) is None
    assert run(client, feedback.pick, a.user.id, activity, c.user.id, at=ended) is None
    connection = run(client, feedback.pick, b.user.id, activity, a.user.id, at=ended)
    assert connection is not None and connection.source.value == "activity"
    again = run(client, feedback.pick, b.user.id, activity, a.user.id, at=ended)
    assert again.id == connection.id
    assert [x.id for x in run(client, connections_of, a.user.id)] == [connection.id]
    assert run(client, connections_of, c.user.id) == []  # one-sided: nothing
    with pytest.raises(ValidationFailed):  # not an attendee
        run(client, feedback.pick, a.user.id, activity, absent.user.id, at=ended)
    with pytest.raises(NotFound):  # did not attend: may not pick at all
        run(client, feedback.pick, absent.user.id, activity, a.user.id, at=ended)
    numbers = run(client, figures.activity_figures, activity, "Asia/Shanghai")
    assert numbers["attended"] == 3 and numbers["pairs"] == 1
    assert numbers["conversion_rate"] == round(2 / 3, 3)
    assert numbers["signups"] == 4 and numbers["confirmed"] == 4


def test_mutual_picks_never_reconnect_a_blocked_pair(client, attended):
    activity, (a, b, _c, _absent), ended = attended
    low, high = sorted((a.user.id, b.user.id))  # matched once before, then b blocked a
    run(client, Proposal.create, day=ended.date(), a_id=low, b_id=high, score=0.5, expires_at=ended)
    block(client, b.user.id, a.user.id)
    assert run(client, feedback.pick, a.user.id, activity, b.user.id, at=ended) is None
    assert run(client, feedback.pick, b.user.id, activity, a.user.id, at=ended) is None
    assert run(client, connections_of, a.user.id) == []


def test_picks_and_feedback_wait_for_the_end(client, attended):
    activity, (a, b, _c, _absent), ended = attended
    early = client.post(
        f"/api/v1/activities/{activity}/picks", json={"member_id": b.user.id}, headers=a.headers
    )
    assert early.status_code == 409
    with pytest.raises(Conflict):
        run(client, feedback.pick, a.user.id, activity, b.user.id, at=ended + timedelta(days=15))
    saved = run(client, feedback.leave_feedback, a.user.id, activity, 5, "很好玩", at=ended)
    assert saved.rating == 5
    with pytest.raises(ValidationFailed):
        run(client, feedback.leave_feedback, a.user.id, activity, 6, "", at=ended)


def test_shifts_show_staffing_gaps(client, create_activity, admin_headers):
    activity = create_activity()
    volunteer = add_user(client, "13800000009", Role.MATCHMAKER, "红娘")
    start = run(client, Activity.get, id=activity).starts_at
    body = {
        "role": "签到",
        "starts_at": (start - timedelta(minutes=30)).isoformat(),
        "ends_at": start.isoformat(),
        "needed": 2,
    }
    shift = client.post(
        f"/api/v1/admin/activities/{activity}/shifts", json=body, headers=admin_headers
    ).json()["id"]
    for _ in range(2):  # assigning twice is harmless
        done = client.post(
            f"/api/v1/admin/shifts/{shift}/assignments",
            json={"volunteer_id": volunteer.id},
            headers=admin_headers,
        )
        assert done.status_code == 200
    staffing = client.get(
        f"/api/v1/admin/activities/{activity}/staffing", headers=admin_headers
    ).json()["shifts"]
    assert staffing[0]["volunteer_ids"] == [volunteer.id] and staffing[0]["gap"] == 1
    member_as_volunteer = client.post(
        f"/api/v1/admin/shifts/{shift}/assignments",
        json={"volunteer_id": 999999},
        headers=admin_headers,
    )
    assert member_as_volunteer.status_code == 422


def test_a_consultation_slot_goes_to_one_member(client, members, volunteer_headers):
    a, b = members(2, seed=18)
    when = now() + timedelta(days=2)
    slot = client.post(
        "/api/v1/staff/consultation-slots",
        json={
            "starts_at": when.isoformat(),
            "ends_at": (when + timedelta(minutes=30)).isoformat(),
            "place": "团委二楼咨询室",
        },
        headers=volunteer_headers,
    ).json()["id"]
    listed = client.get("/api/v1/consultation-slots", headers=a.headers).json()["slots"]
    assert [s["id"] for s in listed] == [slot]
    assert (
        client.post(f"/api/v1/consultation-slots/{slot}/booking", headers=a.headers).status_code
        == 200
    )
    taken = client.post(f"/api/v1/consultation-slots/{slot}/booking", headers=b.headers)
    assert taken.status_code == 409
    assert client.get("/api/v1/consultation-slots", headers=b.headers).json()["slots"] == []
    client.delete(f"/api/v1/consultation-slots/{slot}/booking", headers=a.headers)
    assert (
        client.post(f"/api/v1/consultation-slots/{slot}/booking", headers=b.headers).status_code
        == 200
    )
