"""`qingyuan demo` seeds a realistic month of activities, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from qingyuan import demo
from qingyuan.activities.models import Activity, Quota, Registration, Shift
from qingyuan.activities.volunteers import staffing
from qingyuan.matchmakers.models import ConsultationSlot
from qingyuan.parts import connected
from tests.conftest import install_migrated


async def _month(settings) -> dict:
    async with connected(settings):
        starts = sorted(await Activity.all().values_list("starts_at", flat=True))
        gaps = [s["gap"] for a in await Activity.all() for s in await staffing(a.id)]
        return {
            "activities": len(starts),
            "span": starts[-1] - starts[0],
            "kinds": set(await Activity.all().values_list("kind", flat=True)),
            "with_quotas": await Quota.all().count() // 2,
            "registrations": await Registration.all().count(),
            "shifts": await Shift.all().count(),
            "gaps": sum(gaps),
            "slots": await ConsultationSlot.all().count(),
        }


def test_demo_seeds_a_month_of_activities_once(settings):
    install_migrated(settings)
    asyncio.run(demo.seed(settings, members=6))
    first = asyncio.run(_month(settings))
    assert first["activities"] >= 15 and first["span"] >= timedelta(days=25)
    assert len(first["kinds"]) >= 5 and first["with_quotas"] >= 8
    assert first["registrations"] > 0 and first["shifts"] == first["activities"]
    assert 0 < first["gaps"] < 2 * first["shifts"] and first["slots"] > 0
    asyncio.run(demo.seed(settings, members=6))
    assert asyncio.run(_month(settings)) == first
