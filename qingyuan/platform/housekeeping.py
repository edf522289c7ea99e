"""Periodic housekeeping; also the proof that the job schedule runs."""

from __future__ import annotations

import logging

from taskiq import Context, TaskiqDepends

from qingyuan.platform.jobs import job

logger = logging.getLogger(__name__)
LAST_RUN_KEY = "housekeeping:last-run"


@job("platform.purge_expired_sessions", cron="*/10 * * * *")
async def purge_expired_sessions(context: Context = TaskiqDepends()) -> int:
    """Drop per-user index entries of sessions that Redis has expired (idempotent)."""
    kernel = context.state.kernel
    purged = await kernel.sessions.purge_expired()
    await kernel.redis.set(LAST_RUN_KEY, str(purged))
    logger.info("housekeeping purged %d expired session entries", purged)
    return purged
