import re
from datetime import date

import pytest

from qingyuan.verification.departments.claims import attested_claims
from qingyuan.verification.departments.personas import generate_personas
from qingyuan.verification.departments.registry import (
    BUNDLED_REGISTRY,
    Person,
    Registry,
    load_registry,
)
from qingyuan.verification.idnumber import IneligibleAge, age_on, check_age_window, parse_id_number
from qingyuan.verification.protocol import DEPARTMENTS, gate_failure

TODAY = date(2026, 11, 27)


def test_generation_is_deterministic() -> None:
    assert _facts(generate_personas(40, seed=7, today=TODAY)) == _facts(
        generate_personas(40, seed=7, today=TODAY)
    )
    assert _facts(generate_personas(40, seed=7, today=TODAY)) != _facts(
        generate_personas(40, seed=8, today=TODAY)
    )


def _facts(people: list[Person]) -> list[str]:
    return [person.to_json() for person in people]


@pytest.mark.parametrize("today", [TODAY, date(2028, 2, 29)])
def test_generated_people_are_clean_adults_of_both_genders(today: date) -> None:
    people = generate_personas(250, seed=1, today=today)
    numbers = [parse_id_number(person.id_number) for person in people]

    assert len({person.id_number for person in people}) == 250
    assert {number.gender for number in numbers} == {"male", "female"}
    assert all(22 <= age_on(number.birth_date, today) <= 38 for number in numbers)
    assert all(int(person.id_number[14:17]) >= 500 for person in people)
    assert len({person.degree for person in people}) >= 4
    assert len({person.id_number[:6] for person in people}) >= 10
    for person in people:
        assert _outcome(person, today) == "verified"


def test_generated_people_never_collide_with_the_bundled_ones() -> None:
    bundled = list(load_registry())

    assert all(int(person.id_number[14:17]) < 500 for person in bundled)
    assert (
        len(Registry([*bundled, *generate_personas(300, seed=3, today=TODAY)]))
        == len(bundled) + 300
    )


def _outcome(person: Person, today: date) -> str:
    """What verifying the person with their registered name would give, as PERSONAS.md says it."""
    try:
        check_age_window(parse_id_number(person.id_number), today=today, max_age=40)
    except IneligibleAge as refusal:
        return refusal.code
    failures = [gate_failure(key, attested_claims(key, person, person.name)) for key in DEPARTMENTS]
    return next((failure for failure in failures if failure), "verified")


def _documented() -> dict[str, tuple[str, str]]:
    """ID number → (name, outcome cell) from the table in PERSONAS.md."""
    text = BUNDLED_REGISTRY.with_name("PERSONAS.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+) \| (\d{17}[\dX]) \|.*\| ([^|]+) \|$", text, flags=re.MULTILINE)
    return {number: (name, outcome) for name, number, outcome in rows}


def test_personas_md_documents_every_bundled_persona_and_its_outcome() -> None:
    documented = _documented()
    registry = load_registry()

    assert set(documented) == {person.id_number for person in registry}
    for person in registry:
        name, outcome = documented[person.id_number]
        expected = _outcome(person, TODAY)
        assert name == person.name
        if expected == "verified":
            assert outcome.startswith("verified")
        elif expected == "too_young":
            assert outcome.startswith("refused") and "`too_young`" in outcome
        else:
            assert outcome.startswith(f"rejected (`{expected}`)")


def test_bundled_personas_cover_the_documented_cases() -> None:
    outcomes = [_outcome(person, TODAY) for person in load_registry()]

    assert outcomes.count("verified") >= 8
    assert {"married", "disqualifying_record", "dishonest_debtor", "too_young"} <= set(outcomes)
    assert {person.marital_status for person in load_registry()} == {
        "unmarried",
        "divorced",
        "widowed",
        "married",
    }
