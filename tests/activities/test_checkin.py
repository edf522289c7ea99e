"""Must-show 2: check-in by signed QR or typed code — window, one entry, forged or foreign
codes, seats that are not confirmed, and who may check people in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.activities import checkin
from qingyuan.activities.models import Activity
from qingyuan.activities.settings import event_settings
from qingyuan.platform.errors import RateLimited
from qingyuan.platform.models import Role, User
from qingyuan.platform.settings import RateLimit
from tests.activities.test_registrations import sign_up
from tests.conftest import add_user, run


def soon(**changes):
    """An activity starting in 20 minutes: check-in is open, sign-up still open."""
    start = now() + timedelta(minutes=20)
    return {
        "starts_in": timedelta(minutes=20),
        "registration_closes_at": (start - timedelta(minutes=5)).isoformat(),
        "cancel_deadline": (start - timedelta(minutes=5)).isoformat(),
        **changes,
    }


def ticket(client, activity, person):
    answer = client.get(f"/api/v1/activities/{activity}/ticket", headers=person.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def scan(client, headers, code, activity_id=None):
    body = {"code": code} if activity_id is None else {"code": code, "activity_id": activity_id}
    return client.post("/api/v1/staff/checkins", json=body, headers=headers)


def test_qr_checks_in_once_and_holds_no_personal_data(
    client, members, create_activity, volunteer_headers, on_shift
):
    person = members(1)[0]
    activity = create_activity(**soon())
    on_shift(activity)
    sign_up(client, activity, person)
    mine = ticket(client, activity, person)
    assert re.fullmatch(r"QY1\.\d+\.[A-Za-z0-9_-]{22}", mine["qr"])
    assert person.phone not in mine["qr"]
    first = scan(client, volunteer_headers, mine["qr"], activity)
    assert first.status_code == 200 and first.json()["status"] == "checked_in"
    again = scan(client, volunteer_headers, mine["qr"], activity)
    assert again.status_code == 409 and again.json()["error"]["code"] == "checkin_already"
    assert ticket(client, activity, person)["checked_in"] is True


def test_typed_code_is_forgiving_about_case_and_dash(
    client, members, create_activity, volunteer_headers, on_shift
):
    person = members(1)[0]
    activity = create_activity(**soon())
    on_shift(activity)
    sign_up(client, activity, person)
    code = ticket(client, activity, person)["code"]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    answer = scan(client, volunteer_headers, f" {code.lower()} ")
    assert answer.status_code == 200 and answer.json()["activity_id"] == activity


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "forged"),
        (lambda token: token.replace("QY1.", "QY1.9", 1), "forged"),
        (lambda token: "QY1.x.y", "forged"),
        (lambda token: "HELLO-WORLD", "unknown"),
        (lambda token: "ABCD-EFGH", "unknown"),
    ],
)
def test_forged_or_unknown_codes_are_refused(
    client, members, create_activity, volunteer_headers, on_shift, mangle, reason
):
    person = members(1)[0]
    activity = create_activity(**soon())
    on_shift(activity)
    sign_up(client, activity, person)
    answer = scan(client, volunteer_headers, mangle(ticket(client, activity, person)["qr"]))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == f"checkin_{reason}"
    assert ticket(client, activity, person)["checked_in"] is False


def test_a_qr_signed_with_another_key_is_forged(
    client, make_settings, members, create_activity, volunteer_headers
):
    person = members(1)[0]
    activity = create_activity(**soon())
    sign_up(client, activity, person)
    registration_id = int(ticket(client, activity, person)["qr"].split(".")[1])
    other = event_settings(make_settings(QINGYUAN_CHECKIN_KEY="another-deployment"))
    answer = scan(client, volunteer_headers, checkin.qr_token(other, registration_id))
    assert answer.json()["error"]["code"] == "checkin_forged"


def test_a_ticket_for_another_activity_is_refused(
    client, members, create_activity, volunteer_headers, on_shift
):
    person = members(1)[0]
    mine, elsewhere = create_activity(**soon()), create_activity(**soon())
    on_shift(elsewhere)
    sign_up(client, mine, person)
    answer = scan(client, volunteer_headers, ticket(client, mine, person)["qr"], elsewhere)
    assert answer.json()["error"]["code"] == "checkin_other_activity"


def test_window_opens_30_minutes_before_and_closes_at_the_end(client, members, create_activity):
    config = event_settings(client.app.state.kernel.settings)
    person = members(1)[0]
    activity_id = create_activity()  # starts in 3 days
    sign_up(client, activity_id, person)
    token = ticket(client, activity_id, person)["qr"]
    activity = run(client, Activity.get, id=activity_id)
    staff = run(client, User.get, role=Role.ADMIN)
    redis = client.app.state.kernel.redis

    def at(moment):
        return run(client, checkin.check_in, config, redis, staff, token, at=moment)

    for moment, reason in [
        (activity.starts_at - timedelta(minutes=31), "too_early"),
        (activity.ends_at + timedelta(seconds=1), "too_late"),
    ]:
        with pytest.raises(checkin.CheckInRefused) as refused:
            at(moment)
        assert refused.value.reason == reason
        assert reason != "too_early" or "30 分钟" in refused.value.message
    entry = at(activity.starts_at - timedelta(minutes=29))
    assert entry.registration.checked_in_at is not None

    wider = config.model_copy(
        update={"checkin_opens_minutes": 60}
    )  # the window is a setting, and says so
    with pytest.raises(checkin.CheckInRefused) as refused:
        run(client, checkin.check_window, wider, activity, activity.starts_at - timedelta(hours=2))
    assert "60 分钟" in refused.value.message


def test_waitlisted_and_cancelled_codes_do_not_enter(
    client, members, create_activity, volunteer_headers, on_shift
):
    people = members(2, seed=16)
    activity = create_activity(**soon(capacity=1))
    on_shift(activity)
    sign_up(client, activity, people[0])
    assert sign_up(client, activity, people[1]).json()["status"] == "waitlisted"
    # the waitlisted member has no ticket at all
    missing = client.get(f"/api/v1/activities/{activity}/ticket", headers=people[1].headers)
    assert missing.status_code == 404
    code = ticket(client, activity, people[0])["code"]
    client.delete(f"/api/v1/activities/{activity}/registration", headers=people[0].headers)
    refused = scan(client, volunteer_headers, code)
    assert refused.json()["error"]["code"] == "checkin_not_confirmed"


def test_members_cannot_check_anyone_in(client, members, create_activity):
    person = members(1)[0]
    activity = create_activity(**soon())
    sign_up(client, activity, person)
    answer = scan(client, person.headers, ticket(client, activity, person)["qr"])
    assert answer.status_code == 404
    assert ticket(client, activity, person)["checked_in"] is False


def test_only_admins_and_volunteers_on_a_shift_there_check_in(
    client, members, create_activity, volunteer_headers, admin_headers, on_shift
):
    person, other = members(2, seed=16)
    activity = create_activity(**soon())
    sign_up(client, activity, person)
    mine = ticket(client, activity, person)
    for code in (mine["qr"], mine["code"]):
        refused = scan(client, volunteer_headers, code)
        assert refused.status_code == 409
    assert scan(client, volunteer_headers, mine["qr"]).json()["error"]["code"] == (
        "checkin_not_staffed"
    )
    chosen = scan(client, volunteer_headers, mine["code"], activity)  # picked, but no shift
    assert chosen.json()["error"]["code"] == "checkin_not_staffed"
    assert ticket(client, activity, person)["checked_in"] is False
    on_shift(activity)
    assert scan(client, volunteer_headers, mine["code"]).status_code == 200
    sign_up(client, activity, other)
    assert scan(client, admin_headers, ticket(client, activity, other)["code"]).status_code == 200


def test_a_refused_typed_code_does_not_reveal_that_it_exists(
    client, members, create_activity, volunteer_headers, on_shift
):
    """A typed code of another activity (or one the volunteer has no shift at) is refused
    exactly like a code that was never issued: guessing cannot find live tickets."""
    person = members(1)[0]
    mine, elsewhere = create_activity(**soon()), create_activity(**soon())
    on_shift(mine)
    sign_up(client, elsewhere, person)
    code = ticket(client, elsewhere, person)["code"]
    never_issued = scan(client, volunteer_headers, "ABCD-EFGH", mine).json()["error"]
    for answer in (
        scan(client, volunteer_headers, code, mine),
        scan(client, volunteer_headers, code),
    ):
        assert answer.status_code == 409 and answer.json()["error"] == never_issued


def test_wrong_typed_codes_are_limited_per_staff_member(client, members, create_activity):
    config = event_settings(client.app.state.kernel.settings).model_copy(
        update={"rate_checkin_code": RateLimit(3, 900)}
    )
    redis = client.app.state.kernel.redis
    person = members(1)[0]
    activity = create_activity(**soon())
    sign_up(client, activity, person)
    mine = ticket(client, activity, person)
    guesser, colleague = (
        run(client, User.get, role=Role.ADMIN),
        add_user(client, "13800000003", Role.ADMIN),
    )

    def typed(staff, code):
        return run(client, checkin.check_in, config, redis, staff, code)

    for guess in ("ABCD-EFGH", "ABCD-EFGJ", "ABCD-EFGK"):
        with pytest.raises(checkin.CheckInRefused):
            typed(guesser, guess)
    with pytest.raises(RateLimited) as limited:
        typed(guesser, mine["code"])  # even a right code, until the window passes
    assert limited.value.retry_after > 0 and "签到码" in limited.value.message
    assert run(client, checkin.check_in, config, redis, guesser, mine["qr"]).registration.id
    assert ticket(client, activity, person)["checked_in"] is True
    with pytest.raises(checkin.CheckInRefused):  # a colleague has their own allowance
        typed(colleague, "ABCD-EFGH")
