"""Passwords: argon2id, rehashed on login when the parameters change.

Hashing is deliberately slow (tens of milliseconds of CPU), so it runs in a worker thread:
argon2 releases the GIL, and the event loop keeps serving other requests meanwhile.

The cost is a setting (`QINGYUAN_PASSWORD_PROFILE`): production uses RFC 9106's low-memory
profile; the test suite and freshly seeded demo accounts use argon2's cheapest one, and a
login with the production profile rehashes such a hash (`needs_rehash`), so a cheap hash
never outlives its first use. `check --deploy` refuses the cheap profile in production.
"""

from __future__ import annotations

import os

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {
    "production": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "production"

# At most one hash per core at a time: a burst of logins queues here instead of starting
# forty threads of 64 MiB each that all slow down together.
_hashing = CapacityLimiter(os.cpu_count() or 1)


def hasher_for(profile: str) -> PasswordHasher:
    """The argon2id hasher of a named profile (KeyError for an unknown name)."""
    return PasswordHasher.from_parameters(PROFILES[profile])


class _Active:
    """The process's hasher. Settings choose it once at start-up (`use_profile`)."""

    hasher = hasher_for(DEFAULT_PROFILE)
    parameters = PROFILES[DEFAULT_PROFILE]
    # A hash to verify against when the account does not exist, so that a login for an
    # unknown phone number costs the same time as one for a known number (no enumeration).
    # Made on first need: at import it would cost every process start a production hash.
    dummy_hash: str | None = None


def use_profile(profile: str) -> None:
    """Hash and verify with `profile` from now on (called when the kernel is built)."""
    if PROFILES[profile] != _Active.parameters:
        _Active.hasher, _Active.parameters, _Active.dummy_hash = (
            hasher_for(profile),
            PROFILES[profile],
            None,
        )


def _dummy_hash() -> str:
    if _Active.dummy_hash is None:
        _Active.dummy_hash = _Active.hasher.hash("qingyuan-timing-equaliser")
    return _Active.dummy_hash


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_Active.hasher.hash, password, limiter=_hashing)


def hash_with_profile(profile: str, password: str) -> str:
    """A hash at another profile's cost (the demo seeds cheap hashes that login upgrades)."""
    return hasher_for(profile).hash(password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(_verify, stored_hash, password, limiter=_hashing)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        hasher = _Active.hasher
        return hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _Active.hasher.check_needs_rehash(stored_hash)
