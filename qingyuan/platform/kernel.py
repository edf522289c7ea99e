"""The kernel: the shared services one process needs, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

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
    # The kernel knows none of the parts: their typed services (verification's department
    # clients, the chat's hub, …) are `qingyuan.parts.Services`, built from the kernel.

    async def close(self) -> None:
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
