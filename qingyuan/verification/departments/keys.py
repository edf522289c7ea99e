"""A department's Ed25519 signing key, its rotation, and the JWKS it publishes.

After a rotation the old public key stays in the JWKS for a grace period, so attestations
signed just before the rotation still verify; the platform learns the new key by refetching
the JWKS when it first meets the new ``kid``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from joserfc.jwk import KeyParameters, OKPKey

from qingyuan.verification.protocol import ALGORITHM


class SigningKeys:
    """The current key and the retired ones still published until their grace ends."""

    def __init__(self, *, grace: float, clock: Callable[[], float] = time.time) -> None:
        self._grace = grace
        self._clock = clock
        self._current = _new_key()
        self._retired: list[tuple[OKPKey, float]] = []

    @property
    def current(self) -> OKPKey:
        return self._current

    def rotate(self) -> str:
        """Start signing with a new key; returns its ``kid``."""
        self._retired.append((self._current, self._clock() + self._grace))
        self._current = _new_key()
        return self._current.kid or ""

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set: the current key first, then retired keys still in grace."""
        now = self._clock()
        self._retired = [(key, until) for key, until in self._retired if until > now]
        keys = [self._current, *(key for key, _ in self._retired)]
        return {"keys": [key.as_dict(private=False) for key in keys]}


def _new_key() -> OKPKey:
    # auto_kid sets the RFC 7638 thumbprint as kid, so a kid always names exactly one key.
    parameters: KeyParameters = {"use": "sig", "alg": ALGORITHM}
    return OKPKey.generate_key("Ed25519", parameters=parameters, auto_kid=True)
