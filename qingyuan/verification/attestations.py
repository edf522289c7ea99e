"""Checking a department's attestation before the platform believes it.

An attestation is believed only if all of these hold, checked in this order:

1. its header names the one algorithm departments sign with (:data:`protocol.ALGORITHM`) and
   a ``kid`` — anything else (``none``, ``HS256`` keyed with the public key, ``RS256``…) is
   refused before a key is even looked up, which closes algorithm-confusion attacks;
2. the signature verifies with the department's published key for that ``kid``;
3. ``iss`` is the department, ``aud`` is the platform, ``exp``/``nbf``/``iat`` hold (with a
   small leeway for clock skew), ``sub`` is the keyed hash of the number that was asked about;
4. its own claims are exactly what the department may say (:func:`protocol.validate_claims`);
5. its ``jti`` was never seen before — recorded in Redis with ``SET NX`` until the token
   expires, so a captured attestation cannot be played back, even to another worker.

The replay mark is set last, so a token refused for another reason does not use up its ``jti``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import OKPKey
from redis.asyncio import Redis

from qingyuan.verification.protocol import (
    ALGORITHM,
    REGISTERED_CLAIMS,
    gate_failure,
    subject_for,
    validate_claims,
)

#: Resolves a ``kid`` to the department's public key (see ``client.JwksCache``).
KeyResolver = Callable[[str], Awaitable[OKPKey]]

_REASON_BY_CLAIM = {
    "iss": "issuer",
    "aud": "audience",
    "sub": "subject",
    "nbf": "not_yet_valid",
    "iat": "not_yet_valid",
}


class AttestationInvalid(Exception):
    """An attestation that must not be believed.

    ``reason`` is one of ``malformed``, ``algorithm``, ``unknown_kid``, ``signature``,
    ``issuer``, ``audience``, ``expired``, ``not_yet_valid``, ``subject``, ``claims``,
    ``replayed``.  None of them is the member's doing, so the pipeline should not reject a
    member for it: it is a department (or an attacker) misbehaving.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attestation:
    """A believed attestation: who said it, what it said (``person`` + department claims), when.

    ``token`` is the signed JWT itself, worth keeping as evidence for an appeal: it holds no
    name or number, and its signature can be checked again later against the department's key.
    """

    department: str
    claims: Mapping[str, object]
    jti: str
    issued_at: datetime
    expires_at: datetime
    token: str = field(repr=False)

    @property
    def gate_failure(self) -> str | None:
        """The stable code of the gate this attestation fails, or ``None``; see ``protocol``."""
        return gate_failure(self.department, self.claims)


class AttestationVerifier:
    """Checks attestations for one platform (``audience``); shared by all department clients."""

    def __init__(
        self,
        *,
        audience: str,
        subject_key: bytes,
        redis: Redis,
        leeway: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audience = audience
        self._subject_key = subject_key
        self._redis = redis
        self._leeway = leeway
        self._clock = clock

    async def verify(
        self, token: str, *, department: str, issuer: str, key_for: KeyResolver, id_number: str
    ) -> Attestation:
        """Believe ``token`` as ``department``'s answer about ``id_number``, or raise."""
        key = await key_for(_signed_kid(token))
        claims = _signature_checked(token, key)
        self._check_registered(claims, issuer=issuer, id_number=id_number)
        try:
            validate_claims(department, claims)
        except ValueError:
            raise AttestationInvalid("claims") from None
        await self._mark_used(issuer, claims)
        return Attestation(
            department=department,
            claims=MappingProxyType(
                {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}
            ),
            jti=claims["jti"],
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            token=token,
        )

    def _check_registered(self, claims: dict[str, Any], *, issuer: str, id_number: str) -> None:
        expected = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self._audience},
            sub={"essential": True, "value": subject_for(self._subject_key, id_number)},
            iat={"essential": True},
            nbf={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            expected.validate(claims)
        except ExpiredTokenError:
            raise AttestationInvalid("expired") from None
        except MissingClaimError:
            raise AttestationInvalid("malformed") from None
        except InvalidClaimError as error:
            raise AttestationInvalid(_REASON_BY_CLAIM.get(error.claim, "malformed")) from None

    async def _mark_used(self, issuer: str, claims: dict[str, Any]) -> None:
        # Kept until the token would be refused as expired anyway, and no longer.
        ttl = max(1, int(claims["exp"] - self._clock()) + self._leeway)
        first = await self._redis.set(
            f"qingyuan:attestation-jti:{issuer}:{claims['jti']}", 1, nx=True, ex=ttl
        )
        if not first:
            raise AttestationInvalid("replayed")


def _signed_kid(token: str) -> str:
    """The ``kid`` of a token whose header names our one algorithm; nothing is verified yet."""
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError):
        raise AttestationInvalid("malformed") from None
    if header.get("alg") != ALGORITHM:
        raise AttestationInvalid("algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AttestationInvalid("malformed")
    return kid


def _signature_checked(token: str, key: OKPKey) -> dict[str, Any]:
    try:
        return jwt.decode(token, key, algorithms=[ALGORITHM]).claims
    except BadSignatureError:
        raise AttestationInvalid("signature") from None
    except (JoseError, ValueError):
        raise AttestationInvalid("malformed") from None
