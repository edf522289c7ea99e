"""Background jobs: taskiq on a Redis stream, retried with backoff, scheduled by cron labels.

Jobs are declared with `@job(...)` at import time without a broker; `build_broker()` binds
them to the broker of the configured Redis (in-memory included). Every job must be
idempotent: a retry, a duplicate cron tick from a second worker, or a re-delivery after a
crash must change nothing twice. A job that keeps failing is written to the audit log
(`job.failed`), which admins see, never silently dropped.

`Worker` runs the receiver and the scheduler in the current event loop, which is how the
embedded mode (`qingyuan serve` / `demo`) and `qingyuan worker` both run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from taskiq import AsyncBroker, TaskiqMessage, TaskiqMiddleware, TaskiqResult, TaskiqScheduler
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.middlewares import SmartRetryMiddleware
from taskiq.receiver import Receiver
from taskiq.schedule_sources import LabelScheduleSource
from taskiq_redis import ListRedisScheduleSource, RedisStreamBroker

from qingyuan.platform import redis as redis_urls
from qingyuan.platform.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_RETRIES = 6
RETRY_BASE_DELAY = 5.0
RETRY_MAX_DELAY = 600.0


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Awaitable[Any]]
    cron: str | None
    retries: int
    retry_delay: float


_registry: dict[str, JobSpec] = {}

# Modules that declare jobs; each part of Qingyuan adds its own here.
JOB_MODULES = (
    "qingyuan.platform.housekeeping",
    "qingyuan.verification.pipeline",
    "qingyuan.matching.daily",
)


def job(
    name: str,
    *,
    cron: str | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = RETRY_BASE_DELAY,
) -> Callable:
    """Declare a background job; `cron` (local time zone) schedules it periodically.

    A failed run is retried up to `retries` times, after `retry_delay` × attempt seconds
    (capped at RETRY_MAX_DELAY, with jitter).
    """

    def register(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        _registry[name] = JobSpec(name, func, cron, retries, retry_delay)
        return func

    return register


def registered_jobs() -> dict[str, JobSpec]:
    return dict(_registry)


class FailureLog(TaskiqMiddleware):
    """Writes a job that has used up its retries to the audit log for admins to see."""

    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        retries = int(message.labels.get("_retries", 0)) + 1
        if retries < int(message.labels.get("max_retries", DEFAULT_RETRIES)):
            return
        from qingyuan.platform import audit  # the audit log needs the ORM, loaded by now

        logger.error("job %s failed for good: %s", message.task_name, type(exception).__name__)
        await audit.record(
            None,
            "job.failed",
            target_type="job",
            target_id=message.task_id,
            task=message.task_name,
            error=type(exception).__name__,
        )


def build_broker(settings: Settings) -> tuple[AsyncBroker, ListRedisScheduleSource]:
    """The broker with every registered job, and the source that holds delayed retries."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    url = redis_urls.pool_url(settings.redis_url)
    extra = redis_urls.connection_kwargs(settings.redis_url)
    delayed = ListRedisScheduleSource(url, prefix="qingyuan:schedule", **extra)
    retry = SmartRetryMiddleware(
        default_retry_count=DEFAULT_RETRIES,
        default_delay=RETRY_BASE_DELAY,
        use_delay_exponent=True,
        max_delay_exponent=RETRY_MAX_DELAY,
        use_jitter=True,
        schedule_source=delayed,
    )
    broker = RedisStreamBroker(
        url,
        queue_name="qingyuan:jobs",
        consumer_group_name="qingyuan",
        xread_block=1000,
        **extra,
    ).with_middlewares(retry, FailureLog())
    for spec in _registry.values():
        schedule = [{"cron": spec.cron, "cron_offset": settings.timezone}] if spec.cron else []
        broker.register_task(
            spec.func,
            task_name=spec.name,
            schedule=schedule,
            retry_on_error=True,
            max_retries=spec.retries,
            delay=spec.retry_delay,
        )
    return broker, delayed


async def kick(broker: AsyncBroker, name: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue job `name` with its retry labels; services call this, not the job function."""
    task = broker.find_task(name)
    if task is None:
        raise LookupError(f"no job named {name!r}")
    await task.kiq(*args, **kwargs)


class Worker:
    """Receives jobs and runs the cron scheduler inside the current event loop."""

    def __init__(self, broker: AsyncBroker, delayed: ListRedisScheduleSource) -> None:
        self._broker = broker
        self._scheduler = TaskiqScheduler(broker, [LabelScheduleSource(broker), delayed])
        self._finished = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for source in self._scheduler.sources:
            await source.startup()
        receiver = Receiver(self._broker, run_startup=False, max_async_tasks=20)
        loop = SchedulerLoop(self._scheduler)
        self._tasks = [
            asyncio.create_task(receiver.listen(self._finished), name="qingyuan-receiver"),
            asyncio.create_task(
                # Schedules are re-read every few seconds so delayed retries start on time.
                loop.run(update_interval=timedelta(seconds=5), skip_first_run=True),
                name="qingyuan-scheduler",
            ),
        ]

    async def stop(self) -> None:
        self._finished.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for source in self._scheduler.sources:
            with contextlib.suppress(Exception):
                await source.shutdown()
