"""Forged and broken attestations, built by hand and fed to the verifier."""

import base64
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime

import fakeredis
import pytest
from joserfc import jws, jwt
from joserfc.jwk import OctKey, OKPKey

from qingyuan.verification.attestations import Attestation, AttestationInvalid, AttestationVerifier
from qingyuan.verification.protocol import subject_for

pytestmark = pytest.mark.asyncio

NOW = 1_800_000_000
AUDIENCE = "https://qingyuan.test"
ISSUER = "https://departments.gov.test/civil_affairs"
SUBJECT_KEY = b"test subject key, 32 bytes long!"
NUMBER = "330106199603140012"
KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "current"})
IMPOSTOR = OKPKey.generate_key("Ed25519", parameters={"kid": "current"})


def _claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject_for(SUBJECT_KEY, NUMBER),
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 600,
        "jti": "jti-1",
        "person": "known",
        "marital_status": "unmarried",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _signed(claims: dict[str, object], key: OKPKey | OctKey = KEY, alg: str = "Ed25519") -> str:
    with warnings.catch_warnings():  # joserfc warns when asked for the deprecated "EdDSA"
        warnings.simplefilter("ignore")
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, object]) -> str:
    header = _b64(json.dumps({"alg": "none", "kid": "current"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_the_public_key() -> str:
    # The classic confusion: the public key's bytes, public to all, used as an HMAC secret.
    public_bytes = base64.urlsafe_b64decode(KEY.as_dict(private=False)["x"] + "==")
    return _signed(
        _claims(), OctKey.import_key(public_bytes, parameters={"kid": "current"}), "HS256"
    )


async def _key_for(kid: str) -> OKPKey:
    if kid != KEY.kid:
        raise AttestationInvalid("unknown_kid")
    return OKPKey.import_key(KEY.as_dict(private=False))


@pytest.fixture
def redis() -> fakeredis.FakeAsyncRedis:
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


@pytest.fixture
def verifier(redis: fakeredis.FakeAsyncRedis) -> AttestationVerifier:
    return AttestationVerifier(
        audience=AUDIENCE, subject_key=SUBJECT_KEY, redis=redis, clock=lambda: NOW
    )


async def _verify(
    verifier: AttestationVerifier, token: str, id_number: str = NUMBER
) -> Attestation:
    return await verifier.verify(
        token, department="civil_affairs", issuer=ISSUER, key_for=_key_for, id_number=id_number
    )


async def test_a_genuine_attestation_is_believed(verifier: AttestationVerifier) -> None:
    token = _signed(_claims())
    attestation = await _verify(verifier, token)

    assert attestation.department == "civil_affairs"
    assert dict(attestation.claims) == {"person": "known", "marital_status": "unmarried"}
    assert attestation.jti == "jti-1"
    assert attestation.issued_at == datetime.fromtimestamp(NOW, UTC)
    assert attestation.expires_at == datetime.fromtimestamp(NOW + 600, UTC)
    assert attestation.gate_failure is None
    assert attestation.token == token and token not in repr(attestation)


async def test_a_believed_attestation_can_still_fail_its_gate(
    verifier: AttestationVerifier,
) -> None:
    attestation = await _verify(verifier, _signed(_claims(marital_status="married")))

    assert attestation.gate_failure == "married"


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"aud": [AUDIENCE, "https://other.test"]}, "audience list naming us"),
        ({"exp": NOW - 29}, "expired within the leeway"),
        ({"nbf": NOW + 29, "iat": NOW + 29}, "not yet valid within the leeway"),
    ],
)
async def test_tolerated_variations(
    verifier: AttestationVerifier, changes: dict[str, object], label: str
) -> None:
    await _verify(verifier, _signed(_claims(**changes)))


FORGERIES: list[tuple[str, Callable[[], str], str]] = [
    ("signed with another key", lambda: _signed(_claims(), IMPOSTOR), "signature"),
    ("alg none", lambda: _unsigned(_claims()), "algorithm"),
    ("HS256 keyed with the public key", _hs256_with_the_public_key, "algorithm"),
    ("EdDSA, not the one algorithm", lambda: _signed(_claims(), alg="EdDSA"), "algorithm"),
    ("another audience", lambda: _signed(_claims(aud="https://elsewhere.test")), "audience"),
    (
        "audience list without us",
        lambda: _signed(_claims(aud=["https://elsewhere.test"])),
        "audience",
    ),
    (
        "another issuer",
        lambda: _signed(_claims(iss="https://departments.gov.test/justice")),
        "issuer",
    ),
    ("expired", lambda: _signed(_claims(exp=NOW - 31)), "expired"),
    ("not yet valid", lambda: _signed(_claims(nbf=NOW + 31)), "not_yet_valid"),
    ("issued in the future", lambda: _signed(_claims(iat=NOW + 31, nbf=NOW)), "not_yet_valid"),
    (
        "about someone else",
        lambda: _signed(_claims(sub=subject_for(SUBJECT_KEY, "11010519491231002X"))),
        "subject",
    ),
    ("the bare number as subject", lambda: _signed(_claims(sub=NUMBER)), "subject"),
    ("no jti", lambda: _signed(_claims(jti=None)), "malformed"),
    ("no exp", lambda: _signed(_claims(exp=None)), "malformed"),
    ("no nbf", lambda: _signed(_claims(nbf=None)), "malformed"),
    ("no sub", lambda: _signed(_claims(sub=None)), "malformed"),
    ("exp not a number", lambda: _signed(_claims(exp="tomorrow")), "malformed"),
    ("a claim it may not make", lambda: _signed(_claims(name="陈志远")), "claims"),
    (
        "a value outside the enumeration",
        lambda: _signed(_claims(marital_status="engaged")),
        "claims",
    ),
    ("no person claim", lambda: _signed(_claims(person=None)), "claims"),
    ("not a JWS", lambda: "not-a-token", "malformed"),
    ("three empty parts", lambda: "..", "malformed"),
    ("not ASCII", lambda: "ü.ü.ü", "malformed"),
    (
        "payload not JSON",
        lambda: jws.serialize_compact({"alg": "Ed25519", "kid": "current"}, b"[", KEY, ["Ed25519"]),
        "malformed",
    ),
]


@pytest.mark.parametrize(
    ("token_of", "reason"), [f[1:] for f in FORGERIES], ids=[f[0] for f in FORGERIES]
)
async def test_forged_or_broken_attestations_are_refused(
    verifier: AttestationVerifier, token_of: Callable[[], str], reason: str
) -> None:
    with pytest.raises(AttestationInvalid) as caught:
        await _verify(verifier, token_of())

    assert caught.value.reason == reason


async def test_a_token_without_kid_is_malformed(verifier: AttestationVerifier) -> None:
    token = jwt.encode({"alg": "Ed25519"}, _claims(), KEY, algorithms=["Ed25519"])

    with pytest.raises(AttestationInvalid, match="malformed"):
        await _verify(verifier, token)


async def test_an_unknown_kid_is_refused_by_the_resolver(verifier: AttestationVerifier) -> None:
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "stranger"})

    with pytest.raises(AttestationInvalid, match="unknown_kid"):
        await _verify(verifier, _signed(_claims(), stranger))


async def test_a_replayed_jti_is_refused(verifier: AttestationVerifier) -> None:
    token = _signed(_claims())
    await _verify(verifier, token)

    with pytest.raises(AttestationInvalid, match="replayed"):
        await _verify(verifier, token)


async def test_replay_is_refused_across_workers(redis: fakeredis.FakeAsyncRedis) -> None:
    workers = [
        AttestationVerifier(
            audience=AUDIENCE, subject_key=SUBJECT_KEY, redis=redis, clock=lambda: NOW
        )
        for _ in "ab"
    ]
    token = _signed(_claims())
    await _verify(workers[0], token)

    with pytest.raises(AttestationInvalid, match="replayed"):
        await _verify(workers[1], token)


async def test_the_replay_mark_lasts_until_expiry_plus_leeway(
    verifier: AttestationVerifier, redis: fakeredis.FakeAsyncRedis
) -> None:
    await _verify(verifier, _signed(_claims(jti="short-lived")))

    (key,) = await redis.keys("*short-lived*")
    assert await redis.ttl(key) == 600 + 30


async def test_a_refused_token_does_not_use_up_its_jti(verifier: AttestationVerifier) -> None:
    token = _signed(_claims())
    with pytest.raises(AttestationInvalid, match="subject"):
        await _verify(verifier, token, id_number="11010519491231002X")

    assert (await _verify(verifier, token)).jti == "jti-1"
