"""`qingyuan worker` as its own process on a real Redis: it picks up jobs the web app queues."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from qingyuan.parts import build_kernel
from qingyuan.platform.housekeeping import LAST_RUN_KEY
from qingyuan.platform.jobs import kick
from tests.conftest import install_migrated

pytestmark = pytest.mark.integration


def test_a_separate_worker_process_runs_queued_jobs(stack, settings):
    if settings.uses_memory_redis:
        pytest.skip("a separate worker needs a Redis server")
    install_migrated(settings)
    env = {**os.environ, **stack}
    worker = subprocess.Popen([sys.executable, "-m", "qingyuan", "worker"], env=env)
    try:

        async def queue_and_wait() -> str | None:
            kernel = build_kernel(settings)
            await kernel.broker.startup()
            try:
                await kick(kernel.broker, "platform.purge_expired_sessions")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if (value := await kernel.redis.get(LAST_RUN_KEY)) is not None:
                        return value
                    await asyncio.sleep(0.2)
                return None
            finally:
                await kernel.close()

        assert asyncio.run(queue_and_wait()) == "0"
    finally:
        worker.terminate()
        assert worker.wait(timeout=20) == 0  # SIGTERM is a clean shutdown
