"""Passwords: argon2id, rehashed on login when the parameters change.

Hashing is deliberately slow (tens of milliseconds of CPU), so it runs in a worker thread:
argon2 releases the GIL, and the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import os

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# At most one hash per core at a time: a burst of logins queues here instead of starting
# forty threads of 64 MiB each that all slow down together.
_hashing = CapacityLimiter(os.cpu_count() or 1)
# A hash to verify against when the account does not exist, so that a login for an unknown
# phone number costs the same time as one for a known number (no account enumeration).
_DUMMY_HASH = _hasher.hash("qingyuan-timing-equaliser")


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hasher.hash, password, limiter=_hashing)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(_verify, stored_hash, password, limiter=_hashing)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
