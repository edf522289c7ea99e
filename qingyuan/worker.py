"""`qingyuan worker`: the job receiver and scheduler as their own process (scale mode)."""

from __future__ import annotations

import asyncio
import logging
import signal

from qingyuan.parts import build_kernel, build_services, connected
from qingyuan.platform.jobs import Worker
from qingyuan.settings import Settings

logger = logging.getLogger(__name__)


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (by default: until SIGINT or SIGTERM)."""
    stop = stop or _stop_on_signals()
    services = build_services(build_kernel(settings))
    kernel = services.kernel
    async with connected(settings):
        await kernel.broker.startup()
        worker = Worker(kernel.broker, kernel.retries)
        await worker.start()
        logger.info("worker started")
        try:
            await stop.wait()
        finally:
            await worker.stop()
            await services.aclose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
