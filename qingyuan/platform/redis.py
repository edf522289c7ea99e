"""Redis through `redis.asyncio`; `memory://` gives an in-process fakeredis server.

The in-memory server is shared by every client created from the same URL in one process, so
the web app, the job worker and the rate limiter see the same data, as they would on Redis.
It exists in one process only, which is why `memory://` refuses more than one worker.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import fakeredis
from fakeredis.aioredis import FakeAsyncRedisConnection
from redis.asyncio import BlockingConnectionPool, Redis

MEMORY_SCHEME = "memory://"


@cache
def memory_server(url: str) -> fakeredis.FakeServer:
    """One fake server per `memory://name` URL (tests use distinct names to stay isolated)."""
    return fakeredis.FakeServer()


def connection_kwargs(url: str) -> dict[str, Any]:
    """What a redis-py pool needs to reach `url`, in-memory included (also used by taskiq)."""
    if url.startswith(MEMORY_SCHEME):
        return {"connection_class": FakeAsyncRedisConnection, "server": memory_server(url)}
    return {}


def pool_url(url: str) -> str:
    return "redis://memory" if url.startswith(MEMORY_SCHEME) else url


def as_text(reply: bytes | str) -> str:
    """A reply as text. Our clients decode (see `connect`); redis-py types every reply
    `bytes | str` whatever the client, and a raw client would hand over bytes."""
    return reply.decode() if isinstance(reply, bytes) else reply


def connect(url: str) -> Redis:
    """A client for `url`; decoded strings, since we store text only."""
    pool = BlockingConnectionPool.from_url(
        pool_url(url),
        decode_responses=True,
        max_connections=64,
        timeout=5,
        **connection_kwargs(url),
    )
    return Redis(connection_pool=pool)
