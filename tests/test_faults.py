"""Fault injection on real PostgreSQL and Redis: a match run killed with SIGKILL midway, and
Redis losing its data under a running job worker. Both must heal without an operator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest

from qingyuan.matching.models import MatchRun, Profile, Proposal
from qingyuan.parts import build_kernel
from qingyuan.platform.housekeeping import LAST_RUN_KEY
from qingyuan.platform.jobs import kick
from tests.conftest import run
from tests.matching.daily_support import build_population
from tests.platform.test_jobs import wait_for

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 27)


def _needs_services(settings) -> None:
    if settings.uses_memory_redis:
        pytest.skip("a second process needs PostgreSQL and a Redis server")


def _match_run(env: dict[str, str], **popen: object) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "qingyuan", "match", "run", "--date", DAY.isoformat()]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, **popen)


def test_a_match_run_killed_after_its_first_partition_is_finished_by_the_rerun(
    stack, settings, client
):
    _needs_services(settings)
    members = build_population(client, 24)
    guangdong = [user.id for user in members[::2]]
    run(client, Profile.filter(user_id__in=guangdong).update, city=4401)  # two partitions
    env = {**os.environ, **stack, "QINGYUAN_MATCH_LOCK_SECONDS": "3"}

    # pauses 5 s in each partition after taking it: room to kill it inside the second one
    doomed = _match_run({**env, "QINGYUAN_MATCH_PARTITION_DELAY": "5"})
    try:
        assert wait_for(
            lambda: (
                run(client, MatchRun.filter(day=DAY, finished_at__not_isnull=True).count) == 1
                and run(client, MatchRun.filter(day=DAY).count) == 2
            ),
            timeout=60,
        )
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
    assert run(client, MatchRun.filter(day=DAY, finished_at__isnull=True).count) == 1

    rerun = _match_run(env)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0
    figures = json.loads(output)

    assert run(client, MatchRun.filter(day=DAY, finished_at__isnull=True).count) == 0
    today = run(client, Proposal.filter(day=DAY).values_list, "a_id", "b_id")
    proposed = Counter(user_id for pair in today for user_id in pair)
    assert max(proposed.values()) == 1 and len(set(today)) == len(today)  # no duplicate
    assert figures["eligible"] == len(members)
    assert len(proposed) + figures["members_without_proposal"] == len(members)
    assert set(guangdong) & set(proposed) and set(proposed) - set(guangdong)  # both provinces


def test_a_running_worker_survives_redis_restarting_empty(stack, settings, tmp_path):
    _needs_services(settings)
    from qingyuan.parts import migrate

    asyncio.run(migrate(settings))
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "qingyuan", "worker"],
            env={**os.environ, **stack},
            stderr=sink,
            stdout=sink,
        )
    try:

        async def queue_and_wait(kernel) -> bool:
            await kick(kernel.broker, "platform.purge_expired_sessions")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if await kernel.redis.get(LAST_RUN_KEY) is not None:
                    return True
                await asyncio.sleep(0.2)
            return False

        async def restart_redis_empty_between_two_jobs() -> tuple[bool, bool]:
            kernel = build_kernel(settings)
            await kernel.broker.startup()
            try:
                before = await queue_and_wait(kernel)
                await kernel.redis.flushdb()  # what the worker sees of a restart without AOF
                return before, await queue_and_wait(kernel)
            finally:
                await kernel.close()

        assert asyncio.run(restart_redis_empty_between_two_jobs()) == (True, True)
    finally:
        worker.terminate()
        assert worker.wait(timeout=20) == 0
    said = log.read_text()
    assert said.count("group is gone") == 1 and "crashed" not in said  # logged once
