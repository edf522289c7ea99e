import pytest

from qingyuan.verification.protocol import (
    DEPARTMENT_CLAIMS,
    DEPARTMENTS,
    gate_failure,
    issuer_for,
    subject_for,
    validate_claims,
)

KEY = b"k" * 32
NUMBER = "11010519491231002X"


def test_six_departments_each_with_claims() -> None:
    assert set(DEPARTMENTS) == set(DEPARTMENT_CLAIMS)
    assert len(DEPARTMENTS) == 6


def test_issuer_is_the_department_under_the_base() -> None:
    assert issuer_for("https://gov.test/", "justice") == "https://gov.test/justice"


def test_subject_is_a_keyed_hash_of_the_canonical_number() -> None:
    subject = subject_for(KEY, NUMBER)

    assert subject == subject_for(KEY, " 110105 19491231 002x")
    assert subject != subject_for(b"another key", NUMBER)
    assert NUMBER not in subject and len(subject) == 64


@pytest.mark.parametrize(
    ("department", "claims"),
    [
        ("public_security", {"person": "known", "identity": "match", "hukou_region": "330106"}),
        ("public_security", {"person": "known", "identity": "mismatch"}),
        ("civil_affairs", {"person": "known", "marital_status": "divorced"}),
        ("education", {"person": "known", "degree": "doctorate"}),
        ("human_resources", {"person": "known", "employment": "self_employed"}),
        ("justice", {"person": "known", "disqualifying_record": False}),
        ("development_reform", {"person": "known", "dishonest_debtor": True}),
        ("justice", {"person": "unknown"}),
        ("civil_affairs", {"person": "known", "marital_status": "married", "iss": "x", "jti": "y"}),
    ],
)
def test_valid_claims(department: str, claims: dict[str, object]) -> None:
    validate_claims(department, claims)


@pytest.mark.parametrize(
    ("department", "claims"),
    [
        ("public_security", {"person": "known", "identity": "match"}),  # region missing
        ("public_security", {"person": "known", "identity": "match", "hukou_region": "3301"}),
        ("public_security", {"person": "known", "identity": "mismatch", "hukou_region": "330106"}),
        ("public_security", {"person": "known", "identity": "unknown"}),
        ("civil_affairs", {"person": "known", "marital_status": "engaged"}),
        ("civil_affairs", {"person": "known"}),
        ("education", {"person": "known", "degree": "bachelor", "name": "陈志远"}),  # more data
        ("justice", {"person": "known", "disqualifying_record": 0}),  # 0 == False, not a bool
        ("development_reform", {"person": "known", "dishonest_debtor": "false"}),
        ("justice", {"person": "unknown", "disqualifying_record": False}),
        ("justice", {"disqualifying_record": False}),
        ("justice", {"person": "maybe", "disqualifying_record": False}),
    ],
)
def test_invalid_claims(department: str, claims: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        validate_claims(department, claims)


@pytest.mark.parametrize(
    ("department", "claims", "failure"),
    [
        (
            "public_security",
            {"person": "known", "identity": "match", "hukou_region": "330106"},
            None,
        ),
        ("public_security", {"person": "known", "identity": "mismatch"}, "identity_mismatch"),
        ("civil_affairs", {"person": "known", "marital_status": "married"}, "married"),
        ("civil_affairs", {"person": "known", "marital_status": "divorced"}, None),
        ("civil_affairs", {"person": "known", "marital_status": "widowed"}, None),
        ("education", {"person": "known", "degree": "none"}, None),
        ("human_resources", {"person": "known", "employment": "unemployed"}, None),
        ("justice", {"person": "known", "disqualifying_record": True}, "disqualifying_record"),
        ("justice", {"person": "known", "disqualifying_record": False}, None),
        ("development_reform", {"person": "known", "dishonest_debtor": True}, "dishonest_debtor"),
        ("education", {"person": "unknown"}, "person_unknown"),
    ],
)
def test_gates(department: str, claims: dict[str, object], failure: str | None) -> None:
    assert gate_failure(department, claims) == failure
