"""Activities under load and races (issue #11, item 18): the day filter sees every activity
of that day, and an activity deleted between a check and its lock is a 404, not a crash."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.activities import registrations
from qingyuan.activities.activities import upcoming
from qingyuan.activities.models import Activity
from qingyuan.activities.settings import event_settings
from qingyuan.platform.errors import NotFound
from tests.conftest import run


def test_a_later_day_is_found_beyond_the_first_200_activities(client, create_activity):
    first = run(client, Activity.get, id=create_activity(starts_in=timedelta(days=3)))
    later = create_activity(starts_in=timedelta(days=4))

    async def crowd_the_first_day() -> None:
        await Activity.bulk_create([first.clone() for _ in range(200)])

    run(client, crowd_the_first_day)
    day = (now() + timedelta(days=4)).astimezone(first.starts_at.tzinfo).date()
    found = run(client, upcoming, at=now(), day=day, timezone="UTC")
    assert later in [a.id for a in found]


@pytest.mark.parametrize("action", [registrations.sign_up, registrations.cancel])
def test_an_activity_deleted_meanwhile_is_a_404_never_a_crash(
    client, members, create_activity, action
):
    """The deletion races the action, so which side wins varies by backend and load: the
    action may finish first (a normal answer), find the activity gone at its check, or pass
    the check and find no row to lock, which used to be an `assert` (a 500, and a TypeError
    under `python -O`). Several rounds, each either a normal answer or a NotFound."""
    member = members(1)[0]
    config = event_settings(client.app.state.kernel.settings)
    for _ in range(6):
        activity_id = create_activity()
        if action is registrations.cancel:  # something to cancel, so cancel takes the lock
            run(client, registrations.sign_up, config, member.user, activity_id)

        async def race(activity_id: int = activity_id) -> list:
            async def delete() -> None:
                await Activity.filter(id=activity_id).delete()

            return await asyncio.gather(
                action(config, member.user, activity_id), delete(), return_exceptions=True
            )

        outcome, deleted = run(client, race)
        assert deleted is None, repr(deleted)
        assert not isinstance(outcome, BaseException) or isinstance(outcome, NotFound), repr(
            outcome
        )
