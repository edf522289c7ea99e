"""Background jobs: the housekeeping schedule, delivery through the worker, retries, failures."""

from __future__ import annotations

import asyncio
import time

from taskiq.schedule_sources import LabelScheduleSource

from qingyuan.parts import build_kernel
from qingyuan.platform.housekeeping import LAST_RUN_KEY
from qingyuan.platform.jobs import RETRY_MAX_DELAY, job, kick
from qingyuan.platform.models import AuditEntry
from tests.conftest import run

ATTEMPTS: dict[str, int] = {}
RETRY_DELAY = 60.0  # the tests move the clock past it (`clock`), nobody waits a minute


@job("tests.flaky", retries=4, retry_delay=RETRY_DELAY)
async def flaky(key: str) -> None:
    """Fails twice, then succeeds: a department that recovers."""
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] < 3:
        raise ConnectionError("not yet")


@job("tests.broken", retries=2, retry_delay=RETRY_DELAY)
async def broken(key: str) -> None:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    raise ValueError("always")


def wait_for(condition, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_housekeeping_is_scheduled_by_cron(client):
    broker = client.app.state.kernel.broker
    source = LabelScheduleSource(broker)
    run(client, source.startup)
    schedules = run(client, source.get_schedules)
    housekeeping = [s for s in schedules if s.task_name == "platform.purge_expired_sessions"]
    assert housekeeping and housekeeping[0].cron == "*/10 * * * *"
    assert housekeeping[0].cron_offset == "Asia/Shanghai"


def test_kicked_job_runs_in_the_embedded_worker(make_client):
    client = make_client(run_worker=True)
    kernel = client.app.state.kernel
    run(client, kick, kernel.broker, "platform.purge_expired_sessions")
    assert wait_for(lambda: run(client, kernel.redis.get, LAST_RUN_KEY) is not None)


def retry_after_its_delay(client, clock, key: str, attempts: int) -> None:
    """Once attempt `attempts` has failed and its retry waits, move the clock past the
    longest backoff: the worker's next pump sends the retry."""
    kernel = client.app.state.kernel
    assert wait_for(
        lambda: ATTEMPTS.get(key) == attempts and run(client, kernel.retries.pending) == 1
    )
    assert ATTEMPTS[key] == attempts  # the retry waits for its delay
    clock.advance(RETRY_MAX_DELAY * 2)


def test_failing_job_is_retried_until_it_succeeds(make_client, request, clock):
    client = make_client(run_worker=True)
    kernel = client.app.state.kernel
    key = request.node.nodeid
    run(client, kick, kernel.broker, "tests.flaky", key)
    for attempts in (1, 2):
        retry_after_its_delay(client, clock, key, attempts)
    assert wait_for(lambda: ATTEMPTS.get(key) == 3)
    clock.advance(RETRY_MAX_DELAY * 2)
    assert run(client, kernel.retries.pump, kernel.broker) == 0  # nothing left to retry
    assert ATTEMPTS[key] == 3  # no further runs once it succeeded


def test_job_that_keeps_failing_is_visible_to_admins(make_client, request, clock):
    client = make_client(run_worker=True)
    key = request.node.nodeid
    run(client, kick, client.app.state.kernel.broker, "tests.broken", key)
    retry_after_its_delay(client, clock, key, 1)
    assert wait_for(lambda: run(client, AuditEntry.filter(action="job.failed").count) == 1)
    entry = run(client, AuditEntry.get, action="job.failed")
    assert entry.data == {"task": "tests.broken", "error": "ValueError"}
    assert ATTEMPTS[key] == 2


def test_due_retries_are_claimed_once_even_with_two_workers(client):
    """Two workers pumping the same retry queue: each due retry is sent exactly once."""
    from taskiq import TaskiqMessage

    kernel = client.app.state.kernel
    message = TaskiqMessage(task_id="t1", task_name="tests.flaky", labels={}, args=["k"], kwargs={})
    run(client, kernel.retries.push, message, 1, 0.0)
    run(
        client,
        kernel.retries.push,
        TaskiqMessage(task_id="t2", task_name="tests.flaky", labels={}, args=["k"], kwargs={}),
        1,
        3600,
    )

    async def two_pumps() -> list[int]:
        import asyncio

        return list(
            await asyncio.gather(
                kernel.retries.pump(kernel.broker), kernel.retries.pump(kernel.broker)
            )
        )

    assert sorted(run(client, two_pumps)) == [0, 1]
    assert run(client, kernel.retries.pending) == 1  # the one due in an hour waits


def test_backoff_grows_and_is_capped():
    from qingyuan.platform.jobs import RETRY_MAX_DELAY, backoff

    delays = [backoff(5, attempt) for attempt in range(1, 12)]
    assert 5 <= delays[0] <= 6.25 and 10 <= delays[1] <= 12.5
    assert max(delays) <= RETRY_MAX_DELAY * 1.25


def test_the_worker_recreates_its_group_after_redis_restarts_empty_and_runs_queued_jobs(
    make_client, caplog
):
    client = make_client(run_worker=True)
    kernel = client.app.state.kernel
    run(client, kick, kernel.broker, "platform.purge_expired_sessions")
    assert wait_for(lambda: run(client, kernel.redis.get, LAST_RUN_KEY) is not None)

    run(client, kernel.redis.flushdb)  # Redis restarted without its data
    run(client, kick, kernel.broker, "platform.purge_expired_sessions")  # queued meanwhile

    assert wait_for(lambda: run(client, kernel.redis.get, LAST_RUN_KEY) is not None, timeout=20)
    said = [r.getMessage() for r in caplog.records if r.name == "qingyuan.platform.jobs"]
    assert sum("group is gone" in line for line in said) == 1
    assert not [line for line in said if "crashed" in line]  # not once a second


def test_jobs_a_dead_worker_took_are_run_and_the_stream_and_consumers_are_cleaned_up(
    make_settings, make_client
):
    settings = make_settings(QINGYUAN_JOB_REDELIVER_SECONDS="1")
    stream, group = "qingyuan:jobs", "qingyuan"

    async def queue_and_take_as_a_worker_that_is_then_killed() -> None:
        kernel = build_kernel(settings)
        await kernel.broker.startup()
        for _ in range(250):  # more than one stream node, so approximate trimming can trim
            await kick(kernel.broker, "platform.purge_expired_sessions")
        await kernel.redis.xreadgroup(group, "killed-worker", {stream: ">"})
        await kernel.close()

    asyncio.run(queue_and_take_as_a_worker_that_is_then_killed())
    client = make_client(settings, run_worker=True)
    kernel = client.app.state.kernel

    assert wait_for(lambda: run(client, kernel.redis.get, LAST_RUN_KEY) is not None, timeout=20)

    def consumers() -> set[str]:
        return {c["name"] for c in run(client, kernel.redis.xinfo_consumers, stream, group)}

    assert wait_for(lambda: "killed-worker" not in consumers(), timeout=20)
    assert wait_for(lambda: run(client, kernel.redis.xlen, stream) < 150, timeout=20)
