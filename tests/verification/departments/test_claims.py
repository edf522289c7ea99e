import pytest

from qingyuan.verification.departments.claims import attested_claims
from qingyuan.verification.departments.registry import Person
from qingyuan.verification.protocol import DEPARTMENTS, validate_claims

ALICE = Person(
    id_number="330106199603140012",
    name="Alice Wang",
    marital_status="divorced",
    degree="master",
    employment="student",
    criminal_record=True,
    dishonest_debtor=False,
    hukou_region="330108",
)


@pytest.mark.parametrize(
    ("department", "claims"),
    [
        ("public_security", {"person": "known", "identity": "match", "hukou_region": "330108"}),
        ("civil_affairs", {"person": "known", "marital_status": "divorced"}),
        ("education", {"person": "known", "degree": "master"}),
        ("human_resources", {"person": "known", "employment": "student"}),
        ("justice", {"person": "known", "disqualifying_record": True}),
        ("development_reform", {"person": "known", "dishonest_debtor": False}),
    ],
)
def test_each_department_says_its_own_minimal_claims(
    department: str, claims: dict[str, object]
) -> None:
    said = attested_claims(department, ALICE, "Alice Wang")

    assert said == claims
    validate_claims(department, said)


def test_only_public_security_checks_the_name() -> None:
    assert attested_claims("public_security", ALICE, "Alice Li") == {
        "person": "known",
        "identity": "mismatch",
    }
    assert attested_claims("education", ALICE, "Alice Li") == {
        "person": "known",
        "degree": "master",
    }


def test_names_compare_after_unicode_folding() -> None:
    said = attested_claims("public_security", ALICE, "Ａｌｉｃｅ Ｗａｎｇ")

    assert said["identity"] == "match"


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_an_unknown_person_is_only_unknown(department: str) -> None:
    assert attested_claims(department, None, "Anyone") == {"person": "unknown"}
