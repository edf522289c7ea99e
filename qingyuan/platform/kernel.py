"""The kernel: the shared services one process needs, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from taskiq import AsyncBroker

from qingyuan.platform import passwords
from qingyuan.platform import redis as redis_client
from qingyuan.platform.crypto import PIICipher, cipher_for
from qingyuan.platform.jobs import RetryQueue, build_broker
from qingyuan.platform.sessions import SessionStore
from qingyuan.platform.settings import PlatformSettings


@dataclass
class Kernel:
    settings: PlatformSettings
    redis: Redis
    cipher: PIICipher
    sessions: SessionStore
    broker: AsyncBroker
    retries: RetryQueue
    # Per-part services built on first use (e.g. the department clients of verification),
    # closed with the kernel; the kernel itself knows none of the parts.
    extensions: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        for extension in self.extensions.values():
            if hasattr(extension, "aclose"):
                await extension.aclose()
        self.extensions.clear()
        await self.broker.shutdown()
        await self.redis.aclose()


def build_kernel(settings: PlatformSettings) -> Kernel:
    passwords.use_profile(settings.password_profile)
    redis = redis_client.connect(settings.redis_url)
    broker, retries = build_broker(settings, redis)
    kernel = Kernel(
        settings=settings,
        redis=redis,
        cipher=cipher_for(settings),
        sessions=SessionStore(
            redis,
            idle_seconds=settings.session_idle_seconds,
            absolute_seconds=settings.session_absolute_seconds,
        ),
        broker=broker,
        retries=retries,
    )
    broker.state.kernel = kernel
    return kernel
