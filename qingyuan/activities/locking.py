"""The one place where seats are locked (docs/brief.md §7: no overbooking, ever).

Every change of who holds a seat — sign-up, cancellation, promotion, an expired offer —
runs in one transaction that first calls `lock_seats`. Locks are always taken in the same
order (the activity row, then its quota rows by id), so two transactions never wait on each
other in a cycle.

- PostgreSQL: `SELECT … FOR UPDATE` on those rows; other sign-ups for the same activity wait,
  sign-ups for other activities do not.
- SQLite: the transaction's first statement is a write (bumping `lock_counter`), which takes
  the database's write lock at once, like `BEGIN IMMEDIATE`. Other processes wait on the busy
  timeout, and nothing can read stale counts and write after them.

Redis is never consulted for capacity.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from qingyuan.activities.models import Activity, Quota
from qingyuan.activities.seats import SeatPlan


async def lock_seats(
    connection: BaseDBAsyncClient, activity_id: int
) -> tuple[Activity, SeatPlan] | None:
    """Lock the activity's seats for the rest of `connection`'s transaction and return the
    activity with its seat plan (read under the lock); None if there is no such activity."""
    if connection.capabilities.dialect == "sqlite":
        bumped = (
            await Activity.filter(id=activity_id)
            .using_db(connection)
            .update(lock_counter=F("lock_counter") + 1)
        )
        if not bumped:
            return None
        activity = await Activity.get(id=activity_id, using_db=connection)
        quotas = await Quota.filter(activity_id=activity_id).using_db(connection)
    else:
        locked = (
            await Activity.filter(id=activity_id).select_for_update().using_db(connection).first()
        )
        if locked is None:
            return None
        activity = locked
        quotas = (
            await Quota.filter(activity_id=activity_id)
            .order_by("id")
            .select_for_update()
            .using_db(connection)
        )
    plan = SeatPlan(
        activity.capacity, {q.gender: q.seats for q in quotas}, activity.quota_tolerance
    )
    return activity, plan


async def lock_activity(connection: BaseDBAsyncClient, activity_id: int) -> Activity | None:
    """`lock_seats` for callers that need only the activity."""
    locked = await lock_seats(connection, activity_id)
    return locked[0] if locked else None
