"""Who may take a seat: capacity, gender quotas and their tolerance.

With quotas (say 10 + 10, tolerance k, capacity 20) each gender may hold up to its quota plus
k seats, plus any seats the quotas leave unassigned, and never more than the capacity in all.
Tolerance 0 keeps an exact balance; a small k lets an activity fill when one side is short.
Offered seats count as taken: they are held for the member they were offered to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count

from qingyuan.activities.models import SEAT_STATUSES, Activity, Quota, Registration


@dataclass(frozen=True)
class SeatPlan:
    capacity: int
    quotas: dict[str, int]
    tolerance: int

    def limit(self, gender: str) -> int:
        if not self.quotas:
            return self.capacity
        unassigned = self.capacity - sum(self.quotas.values())
        return min(self.capacity, self.quotas.get(gender, 0) + self.tolerance + unassigned)

    def has_seat(self, taken: Counter[str], gender: str) -> bool:
        return sum(taken.values()) < self.capacity and taken[gender] < self.limit(gender)

    def queue_of(self, gender: str) -> str | None:
        """The waitlist a member joins: one per gender with quotas, one for all without."""
        return gender if self.quotas else None


async def seat_plan(activity: Activity, connection: BaseDBAsyncClient | None = None) -> SeatPlan:
    rows = (
        await Quota.filter(activity_id=activity.id)
        .using_db(connection)
        .values_list("gender", "seats")
    )
    return SeatPlan(activity.capacity, dict(rows), activity.quota_tolerance)


async def seats_taken(
    activity_id: int, connection: BaseDBAsyncClient | None = None
) -> Counter[str]:
    """Seats held (confirmed or offered) by gender; exact only under the activity's lock."""
    rows = (
        await Registration.filter(activity_id=activity_id, status__in=SEAT_STATUSES)
        .using_db(connection)
        .annotate(n=Count("id"))
        .group_by("gender")
        .values_list("gender", "n")
    )
    return Counter(dict(rows))
