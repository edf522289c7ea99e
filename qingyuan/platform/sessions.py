"""Server-side sessions in Redis.

The browser holds only an opaque 256-bit id; Redis holds the session under a SHA-256 of that
id, so a copy of Redis does not hand out live cookies. Logging in always creates a new id
(no fixation); logging out or disabling an account deletes the session on the server. The
idle timeout is the key's TTL, refreshed on use; the absolute timeout is checked on load.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from qingyuan.platform.redis import as_text


@dataclass(frozen=True)
class Session:
    id: str
    user_id: int
    role: str
    csrf_token: str
    created_at: float


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def _user_key(user_id: int) -> str:
    return f"user-sessions:{user_id}"


class SessionStore:
    def __init__(self, redis: Redis, *, idle_seconds: int, absolute_seconds: int) -> None:
        self._redis = redis
        self._idle = idle_seconds
        self._absolute = absolute_seconds

    async def create(self, user_id: int, role: str) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            role=role,
            csrf_token=secrets.token_urlsafe(32),
            created_at=time.time(),
        )
        key = _key(session.id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "user_id": user_id,
                    "role": role,
                    "csrf": session.csrf_token,
                    "created_at": session.created_at,
                },
            )
            pipe.expire(key, self._idle)
            pipe.sadd(_user_key(user_id), key)
            pipe.expire(_user_key(user_id), self._absolute)
            await pipe.execute()
        return session

    async def load(self, session_id: str) -> Session | None:
        """The live session for `session_id`, its idle timer restarted; None when gone."""
        key = _key(session_id)
        # One round trip on every request: restarting the timer of a key that is gone does
        # nothing, and one past its absolute timeout is deleted just below.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.expire(key, self._idle)
            data, _restarted = await pipe.execute()
        if not data:
            return None
        created_at = float(data["created_at"])
        if time.time() - created_at > self._absolute:
            await self._forget(key, int(data["user_id"]))
            return None
        role, csrf = as_text(data["role"]), as_text(data["csrf"])
        return Session(session_id, int(data["user_id"]), role, csrf, created_at)

    async def alive(self, session_id: str) -> bool:
        """Whether the session still exists, without restarting its idle timer (an open chat
        socket checks this; only the member's own requests keep a session alive)."""
        created_at = await self._redis.hget(_key(session_id), "created_at")
        return created_at is not None and time.time() - float(created_at) <= self._absolute

    async def delete(self, session: Session) -> None:
        await self._forget(_key(session.id), session.user_id)

    async def delete_all_for_user(self, user_id: int) -> int:
        """End every session of a user (account disabled, password changed)."""
        keys = await self._redis.smembers(_user_key(user_id))
        if keys:
            await self._redis.delete(*keys)
        await self._redis.delete(_user_key(user_id))
        return len(keys)

    async def purge_expired(self) -> int:
        """Drop index entries of sessions Redis has already expired; returns how many."""
        purged = 0
        async for user_key in self._redis.scan_iter(match="user-sessions:*", count=500):
            for key in await self._redis.smembers(user_key):
                if not await self._redis.exists(key):
                    purged += await self._redis.srem(user_key, key)
        return purged

    async def _forget(self, key: str, user_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.srem(_user_key(user_id), key)
            await pipe.execute()
