"""Activities under load and races (issue #11, item 18): the day filter sees every activity
of that day, and an activity deleted between a check and its lock is a 404, not a crash."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.events import registrations
from qingyuan.events.activities import upcoming
from qingyuan.events.models import Activity
from qingyuan.events.settings import event_settings
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
def test_an_activity_deleted_meanwhile_is_a_404(client, members, create_activity, action):
    member = members(1)[0]
    activity_id = create_activity()
    config = event_settings(client.app.state.kernel.settings)

    async def race() -> list:
        async def delete() -> None:
            await Activity.filter(id=activity_id).delete()

        return await asyncio.gather(
            action(config, member.user, activity_id), delete(), return_exceptions=True
        )

    outcome, _deleted = run(client, race)
    assert isinstance(outcome, NotFound), repr(outcome)
