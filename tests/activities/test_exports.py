"""Must-show 2: the attendee CSV is masked and audit-logged; reminders go out once each."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tortoise.timezone import now

from qingyuan.activities import reminders
from qingyuan.activities.models import Activity
from qingyuan.platform.models import AuditEntry, Notification
from tests.activities.test_registrations import sign_up
from tests.conftest import run


def test_attendee_csv_is_masked_and_audited(client, members, create_activity, admin_headers):
    people = members(3, seed=19)
    activity = create_activity()
    for person in people:
        sign_up(client, activity, person)
    refused = client.post(
        f"/api/v1/admin/activities/{activity}/export", json={"reason": ""}, headers=admin_headers
    )
    assert refused.status_code == 422
    answer = client.post(
        f"/api/v1/admin/activities/{activity}/export",
        json={"reason": "签到名单"},
        headers=admin_headers,
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert len(rows) == 3
    for row, person in zip(rows, people, strict=False):
        assert "*" in row["name"] and len(row["name"]) >= 2
        assert row["phone"].count("*") == 4 and row["phone"] != person.phone
        assert row["ticket"].endswith("****")
    for person in people:
        assert person.phone not in answer.text
    entries = run(client, _exports_logged, activity)
    assert entries == [("签到名单", 3)]
    # a member cannot export
    member = client.post(
        f"/api/v1/admin/activities/{activity}/export",
        json={"reason": "x"},
        headers=people[0].headers,
    )
    assert member.status_code == 404


async def _exports_logged(activity_id: int) -> list[tuple[str, int]]:
    entries = await AuditEntry.filter(
        action="activity.attendees_exported", target_id=str(activity_id)
    )
    return [(e.reason, e.data["rows"]) for e in entries]


def test_reminders_24h_and_2h_each_once(client, members, create_activity):
    a, b = members(2, seed=20)
    activity = create_activity(starts_in=timedelta(days=2))
    sign_up(client, activity, a)
    start = run(client, Activity.get, id=activity).starts_at
    assert run(client, reminders.send_reminders, start - timedelta(hours=30)) == 0
    day_before = start - timedelta(hours=23)
    assert run(client, reminders.send_reminders, day_before) == 1
    assert run(client, reminders.send_reminders, day_before + timedelta(minutes=5)) == 0
    sign_up(client, activity, b)  # a late sign-up still hears about tomorrow
    assert run(client, reminders.send_reminders, day_before + timedelta(minutes=10)) == 1
    two_before = start - timedelta(hours=1, minutes=50)
    assert run(client, reminders.send_reminders, two_before) == 2
    assert run(client, reminders.send_reminders, two_before) == 0
    sent = run(client, _reminders_of, [a.user.id, b.user.id])
    assert sorted(sent) == [2, 2, 24, 24]


async def _reminders_of(user_ids: list[int]) -> list[int]:
    notes = await Notification.filter(user_id__in=user_ids, kind="activity.reminder")
    return [n.data["hours"] for n in notes]


def test_no_reminder_for_an_activity_in_the_past(client, members, create_activity):
    person = members(1, seed=21)[0]
    activity = create_activity(starts_in=timedelta(hours=5))
    sign_up(client, activity, person)
    assert run(client, reminders.send_reminders, now() + timedelta(hours=6)) == 0
