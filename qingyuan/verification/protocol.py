"""What the platform and the six departments agree on: names, algorithm, subject, claims.

Both sides import this module (the mock departments to sign, the platform to check), so the
contract lives in one place.

Every attestation is a JWT whose registered claims are ``iss`` (the department's issuer),
``aud`` (the platform), ``sub`` (:func:`subject_for` of the ID number — never the number),
``iat``/``nbf``/``exp`` and a random ``jti``.  Its own claims are minimal, true/false or enums:

* ``person``: ``"known"`` or ``"unknown"`` — in every attestation.  A number the department
  has no record of gets ``{"person": "unknown"}`` and nothing else, from every department
  (public security too: "unknown" is said once, the same way, not as a third ``identity``).
* for a known person, the department's claims (:data:`DEPARTMENT_CLAIMS`):

  ==================== ==================================================================
  public_security      ``identity``: ``"match"`` / ``"mismatch"`` (name and number belong
                       together or not); ``hukou_region``: six digits, only on ``"match"``
  civil_affairs        ``marital_status``: unmarried / divorced / widowed / married
  education            ``degree``: none / high_school / associate / bachelor / master / doctorate
  human_resources      ``employment``: employed / self_employed / unemployed / student
  justice              ``disqualifying_record``: bool (criminal record, community correction)
  development_reform   ``dishonest_debtor``: bool (on the dishonest-judgment-debtor list)
  ==================== ==================================================================

Only ``public_security`` looks at the name; the others answer for the number.  Any other claim
is refused by :func:`validate_claims`: the platform does not accept more personal data than it
asked for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from qingyuan.verification.idnumber import normalize_id_number

DEPARTMENTS: tuple[str, ...] = (
    "public_security",
    "civil_affairs",
    "education",
    "human_resources",
    "justice",
    "development_reform",
)

#: The one JWS algorithm every department signs with: EdDSA over Ed25519, named the fully
#: specified way of RFC 9864.  joserfc flags the older polymorphic name "EdDSA" as deprecated,
#: and this name also pins the curve, so an Ed448 key can never stand in.
ALGORITHM = "Ed25519"

MARITAL_STATUSES = ("unmarried", "divorced", "widowed", "married")
DEGREES = ("none", "high_school", "associate", "bachelor", "master", "doctorate")
EMPLOYMENTS = ("employed", "self_employed", "unemployed", "student")

#: Each department's claims about a known person and the values each may take.
DEPARTMENT_CLAIMS: Mapping[str, Mapping[str, tuple[object, ...]]] = {
    "public_security": {"identity": ("match", "mismatch")},
    "civil_affairs": {"marital_status": MARITAL_STATUSES},
    "education": {"degree": DEGREES},
    "human_resources": {"employment": EMPLOYMENTS},
    "justice": {"disqualifying_record": (True, False)},
    "development_reform": {"dishonest_debtor": (True, False)},
}

#: JWT registered claims every attestation carries.
REGISTERED_CLAIMS = frozenset({"iss", "aud", "sub", "iat", "nbf", "exp", "jti"})

_REGION = re.compile(r"[0-9]{6}")


def issuer_for(issuer_base: str, department: str) -> str:
    """The ``iss`` of a department: its key under a common base (``https://gov.example/justice``)."""
    return f"{issuer_base.rstrip('/')}/{department}"


def subject_for(subject_key: bytes, id_number: str) -> str:
    """The ``sub`` of an attestation: HMAC-SHA256 of the canonical number under a shared key.

    A plain hash of an ID number is not a secret (the space is small enough to enumerate), so
    the key is what keeps the number out of tokens while letting the platform check that an
    attestation is about the person it asked for.
    """
    canonical = normalize_id_number(id_number).encode()
    return hmac.new(subject_key, canonical, hashlib.sha256).hexdigest()


def validate_claims(department: str, claims: Mapping[str, object]) -> None:
    """Raise ``ValueError`` unless ``claims`` are what ``department`` may say.

    Registered JWT claims are ignored here; the verifier checks them.
    """
    own = {name: value for name, value in claims.items() if name not in REGISTERED_CLAIMS}
    person = own.pop("person", None)
    if person == "unknown":
        expected: dict[str, tuple[object, ...]] = {}
    elif person == "known":
        expected = dict(DEPARTMENT_CLAIMS[department])
        if own.get("identity") == "match":
            _check_region(own.pop("hukou_region", None))
    else:
        raise ValueError("person must be 'known' or 'unknown'")
    if own.keys() != expected.keys():
        raise ValueError(f"{department} attests exactly {sorted(expected)}")
    for name, value in own.items():
        if not _one_of(value, expected[name]):
            raise ValueError(f"{name} has a value outside its enumeration")


def _check_region(value: object) -> None:
    if not (isinstance(value, str) and _REGION.fullmatch(value)):
        raise ValueError("hukou_region must be six digits when identity matches")


def _one_of(value: object, allowed: tuple[object, ...]) -> bool:
    # Compare types too: in Python 1 == True, and a department answering 0 for a bool claim is
    # a broken department, not a clean record.
    return any(type(value) is type(choice) and value == choice for choice in allowed)


#: department → (claim, the value that fails the gate, failure code)
_GATES: Mapping[str, tuple[str, object, str]] = {
    "public_security": ("identity", "mismatch", "identity_mismatch"),
    "civil_affairs": ("marital_status", "married", "married"),
    "justice": ("disqualifying_record", True, "disqualifying_record"),
    "development_reform": ("dishonest_debtor", True, "dishonest_debtor"),
}


def gate_failure(department: str, claims: Mapping[str, object]) -> str | None:
    """Why validated ``claims`` keep a member out, as a stable code — or ``None`` if they pass.

    Codes: ``person_unknown``, ``identity_mismatch``, ``married``, ``disqualifying_record``,
    ``dishonest_debtor``.  Degree and employment never fail: they are recorded as badges.
    """
    if claims["person"] == "unknown":
        return "person_unknown"
    if department not in _GATES:
        return None
    claim, failing_value, code = _GATES[department]
    return code if _one_of(claims[claim], (failing_value,)) else None
