"""Background jobs: taskiq on a Redis stream, retried with backoff, scheduled by cron labels.

Jobs are declared with `@job(...)` at import time without a broker; `build_broker()` binds
them to the broker of the configured Redis (in-memory included). Every job must be
idempotent: a retry, a duplicate cron tick from a second worker, or a re-delivery after a
crash must change nothing twice. A job that keeps failing is written to the audit log
(`job.failed`), which admins see, never silently dropped.

`Worker` runs the receiver and the scheduler in the current event loop, which is how the
embedded mode (`qingyuan serve` / `demo`) and `qingyuan worker` both run them.

The queue is a Redis stream read by one consumer group (`JobStream`). It lives only as long as
Redis keeps its data: without AOF persistence a Redis restart loses every queued job, every
pending retry and the group itself (README, "Operations").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import (
    AckableMessage,
    AsyncBroker,
    TaskiqMessage,
    TaskiqMiddleware,
    TaskiqResult,
    TaskiqScheduler,
)
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.kicker import AsyncKicker
from taskiq.receiver import Receiver
from taskiq.schedule_sources import LabelScheduleSource
from taskiq_redis import RedisStreamBroker

from qingyuan.platform import audit
from qingyuan.platform import redis as redis_urls
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.settings import PlatformSettings

logger = logging.getLogger(__name__)

DEFAULT_RETRIES = 6
RETRY_BASE_DELAY = 5.0
RETRY_MAX_DELAY = 600.0
QUEUE = "qingyuan:jobs"
GROUP = "qingyuan"


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Awaitable[Any]]
    cron: str | None
    retries: int
    retry_delay: float


# Jobs declared so far (by importing the modules that declare them: the composition root,
# `qingyuan.parts.build_kernel`, imports every part's).
_registry: dict[str, JobSpec] = {}


def job(
    name: str,
    *,
    cron: str | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = RETRY_BASE_DELAY,
) -> Callable:
    """Declare a background job; `cron` (local time zone) schedules it periodically.

    A failed run is retried until `retries` attempts are used, after `retry_delay` · 2^n
    seconds (capped at RETRY_MAX_DELAY, with jitter).
    """

    def register(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        _registry[name] = JobSpec(name, func, cron, retries, retry_delay)
        return func

    return register


class RetryQueue:
    """Failed jobs waiting for their next attempt, in a Redis sorted set scored by due time.

    Durable (it lives in Redis, not in a worker's memory), and safe with several workers: a
    due retry is claimed with ZREM, which only one of them can win. Taskiq's own delayed
    schedule source lost retries when the machine was loaded (seen on CI), so this small,
    testable piece is ours.
    """

    KEY = "qingyuan:jobs:retries"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def push(self, message: TaskiqMessage, attempt: int, delay: float) -> None:
        entry = json.dumps(
            {
                "id": message.task_id,
                "task": message.task_name,
                "args": message.args,
                "kwargs": message.kwargs,
                "labels": {**message.labels, "_retries": attempt},
            }
        )
        await self._redis.zadd(self.KEY, {entry: time.time() + delay})

    async def pump(self, broker: AsyncBroker) -> int:
        """Send every due retry back to the queue; returns how many this worker claimed."""
        due = await self._redis.zrangebyscore(self.KEY, 0, time.time(), start=0, num=100)
        sent = 0
        # Without withscores the reply is a list of members, never (member, score) pairs.
        for entry in cast(list[bytes | str], due):
            if await self._redis.zrem(self.KEY, entry):
                retry = json.loads(entry)
                kicker: AsyncKicker[..., Any] = AsyncKicker(retry["task"], broker, retry["labels"])
                await kicker.kiq(*retry["args"], **retry["kwargs"])
                sent += 1
        return sent

    async def pending(self) -> int:
        return await self._redis.zcard(self.KEY)


def backoff(base: float, attempt: int) -> float:
    """`base` · 2^(attempt-1), capped, with up to 25 % jitter so retries do not stampede."""
    return min(base * 2 ** (attempt - 1), RETRY_MAX_DELAY) * (1 + random.random() / 4)


class Retries(TaskiqMiddleware):
    """Retries a failed job with exponential backoff; one that has used up its retries is
    written to the audit log (`job.failed`) for admins to see, never silently dropped."""

    def __init__(self, queue: RetryQueue) -> None:
        super().__init__()
        self._queue = queue

    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        attempt = int(message.labels.get("_retries", 0)) + 1
        if attempt < int(message.labels.get("max_retries", DEFAULT_RETRIES)):
            delay = backoff(float(message.labels.get("delay", RETRY_BASE_DELAY)), attempt)
            logger.info(
                "job %s failed (%s), retry %d in %.1f s",
                message.task_name,
                type(exception).__name__,
                attempt,
                delay,
            )
            await self._queue.push(message, attempt, delay)
            return
        logger.error("job %s failed for good: %s", message.task_name, type(exception).__name__)
        await audit.record(
            None,
            AuditAction.JOB_FAILED,
            target_type="job",
            target_id=message.task_id,
            task=message.task_name,
            error=type(exception).__name__,
        )


_Entry = tuple[bytes, dict[bytes, bytes]]  # a stream entry as the undecoded client reads it


class JobStream(RedisStreamBroker):
    """taskiq-redis's stream broker, made to survive Redis restarts, dead workers and time.

    What taskiq-redis 1.2 does not do, and this does:
    - the group is created at `0`, not `$`, so jobs queued while no group existed (a fresh
      Redis, or one restarted empty) are read instead of skipped;
    - when XREADGROUP fails because the group is gone (Redis restarted empty), the group is
      recreated, logged once, instead of failing every second forever; XREADGROUP recreates
      this worker's consumer by itself;
    - every `upkeep_seconds`, not only after a batch of new jobs: entries pending longer than
      `redeliver_after` (a worker died holding them) are claimed (XAUTOCLAIM) and run here,
      consumers silent that long with nothing pending are deleted, and the stream is trimmed
      up to the oldest entry not yet acknowledged (MINID ~), so a job is never trimmed before
      it ran. Stream trimming by MAXLEN could drop a backlog of unread jobs; MINID cannot.
    A job running longer than `redeliver_after` is taken for abandoned and runs again
    elsewhere; jobs are idempotent, and the longest (the match run) is locked.
    """

    def __init__(self, url: str, redeliver_after: float, **connection_kwargs: Any) -> None:
        super().__init__(
            url,
            queue_name=QUEUE,
            consumer_group_name=GROUP,
            consumer_id="0",
            mkstream=True,
            xread_block=1000,
            idle_timeout=int(redeliver_after * 1000),
            **connection_kwargs,
        )
        self.redeliver_after = redeliver_after
        self.upkeep_seconds = min(60.0, redeliver_after / 4)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        next_upkeep = 0.0
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                try:
                    fetched = await redis.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        {self.queue_name: ">"},
                        block=self.block,
                        count=self.count,
                    )
                except ResponseError as error:
                    if await self._group_exists(redis):
                        raise
                    logger.warning(
                        "job queue group is gone (Redis restarted without its data?): %s; "
                        "recreating it, queued jobs since the restart will run",
                        error,
                    )
                    await self._declare_consumer_group()
                    continue
                batches = cast(list[tuple[bytes, list[_Entry]]], fetched or [])
                for _stream, entries in batches:
                    for entry_id, entry in entries:
                        yield self._message(entry_id, entry)
                if time.monotonic() >= next_upkeep:
                    next_upkeep = time.monotonic() + self.upkeep_seconds
                    for entry_id, entry in await self._upkeep(redis):
                        yield self._message(entry_id, entry)

    def _message(self, entry_id: bytes, entry: dict[bytes, bytes]) -> AckableMessage:
        return AckableMessage(
            data=entry[b"data"],
            ack=self._ack_generator(id=entry_id.decode(), queue_name=self.queue_name),
        )

    async def _upkeep(self, redis: Redis) -> list[_Entry]:
        """Reclaim abandoned entries, forget dead consumers, trim. The stream or its group may
        vanish between two commands (Redis restarted empty): upkeep then has nothing to do,
        and the next read recreates the group instead of the loop crashing."""
        claimed: list[_Entry] = []
        try:
            claimed = await self._claim_abandoned(redis)
            await self._forget_dead_consumers(redis)
            await self._trim(redis)
        except ResponseError:
            if await self._group_exists(redis):
                raise
        return claimed

    async def _group_exists(self, redis: Redis) -> bool:
        try:
            groups = await redis.xinfo_groups(self.queue_name)
        except ResponseError:  # no stream at all
            return False
        return any(g["name"] == self.consumer_group_name.encode() for g in groups)

    async def _claim_abandoned(self, redis: Redis) -> list[_Entry]:
        claimed = await redis.xautoclaim(
            self.queue_name,
            self.consumer_group_name,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            count=self.unacknowledged_batch_size,
        )
        if claimed[1]:
            logger.warning("re-running %d jobs a dead worker had taken", len(claimed[1]))
        return [(entry_id, entry) for entry_id, entry in claimed[1] if entry]

    async def _forget_dead_consumers(self, redis: Redis) -> None:
        for consumer in await redis.xinfo_consumers(self.queue_name, self.consumer_group_name):
            if consumer["pending"] == 0 and consumer["idle"] > self.idle_timeout:
                await redis.xgroup_delconsumer(
                    self.queue_name, self.consumer_group_name, consumer["name"]
                )

    async def _trim(self, redis: Redis) -> None:
        """Drop entries every consumer is done with: before the oldest pending one, or up to
        the last delivered one when nothing is pending."""
        pending = await redis.xpending(self.queue_name, self.consumer_group_name)
        if pending["pending"]:
            oldest = pending["min"]
        else:
            groups = await redis.xinfo_groups(self.queue_name)
            mine = [g for g in groups if g["name"] == self.consumer_group_name.encode()]
            oldest = mine[0]["last-delivered-id"] if mine else b"0-0"
        await redis.xtrim(self.queue_name, minid=oldest, approximate=True)


def build_broker(settings: PlatformSettings, redis: Redis) -> tuple[AsyncBroker, RetryQueue]:
    """The broker with every declared job, and the queue (on `redis`) of delayed retries."""
    url = redis_urls.pool_url(settings.redis_url)
    extra = redis_urls.connection_kwargs(settings.redis_url)
    retries = RetryQueue(redis)
    broker = JobStream(url, settings.job_redeliver_seconds, **extra)
    broker = broker.with_middlewares(Retries(retries))
    for spec in _registry.values():
        schedule = [{"cron": spec.cron, "cron_offset": settings.timezone}] if spec.cron else []
        broker.register_task(
            spec.func,
            task_name=spec.name,
            schedule=schedule,
            max_retries=spec.retries,
            delay=spec.retry_delay,
        )
    return broker, retries


async def kick(broker: AsyncBroker, name: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue job `name` with its retry labels; services call this, not the job function."""
    task = broker.find_task(name)
    if task is None:
        raise LookupError(f"no job named {name!r}")
    await task.kiq(*args, **kwargs)


class Worker:
    """Receives jobs, runs the cron scheduler and re-queues due retries, in the current loop.

    Each of the three loops is supervised: one that crashes is logged and restarted, so a
    worker never goes on running without its scheduler.
    """

    PUMP_SECONDS = 0.5

    def __init__(self, broker: AsyncBroker, retries: RetryQueue) -> None:
        self._broker = broker
        self._retries = retries
        self._scheduler = TaskiqScheduler(broker, [LabelScheduleSource(broker)])
        self._finished = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for source in self._scheduler.sources:
            await source.startup()
        receiver = Receiver(self._broker, run_startup=False, max_async_tasks=20)
        self._tasks = [
            asyncio.create_task(
                self._supervise("receiver", lambda: receiver.listen(self._finished))
            ),
            asyncio.create_task(
                self._supervise(
                    "scheduler", lambda: SchedulerLoop(self._scheduler).run(skip_first_run=True)
                )
            ),
            asyncio.create_task(self._supervise("retries", self._pump_retries)),
        ]

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        while not self._finished.is_set():
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("job worker's %s loop crashed; restarting it", name)
                await asyncio.sleep(1)

    async def _pump_retries(self) -> None:
        while not self._finished.is_set():
            await self._retries.pump(self._broker)
            await asyncio.sleep(self.PUMP_SECONDS)

    async def stop(self) -> None:
        self._finished.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for source in self._scheduler.sources:
            with contextlib.suppress(Exception):
                await source.shutdown()
