import json
from pathlib import Path

import pytest

from qingyuan.verification.departments.registry import (
    BUNDLED_REGISTRY,
    Person,
    Registry,
    RegistryError,
    load_registry,
    parse_registry,
    write_registry,
)

CLEAN = {
    "id_number": "330106199603140012",
    "name": "陈志远",
    "marital_status": "unmarried",
    "degree": "bachelor",
    "employment": "employed",
    "criminal_record": False,
    "dishonest_debtor": False,
    "hukou_region": "330106",
}
OTHER = {**CLEAN, "id_number": "330102199807220027", "name": "林晓雯"}


def _line(**changes: object) -> str:
    return json.dumps({**CLEAN, **changes}, ensure_ascii=False)


def test_bundled_registry_loads() -> None:
    registry = load_registry()

    assert len(registry) == 16
    assert registry.get("330106199603140012") is not None
    assert registry.get("330106199704014998") is None  # the documented unknown person


def test_lines_become_people_and_blank_lines_are_skipped() -> None:
    registry = parse_registry([_line(), "\n", json.dumps(OTHER, ensure_ascii=False)])

    assert [person.name for person in registry] == ["陈志远", "林晓雯"]
    assert registry.get("330106199603140012") == Person(**CLEAN)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "JSON"),
        ("[1, 2]", "JSON object"),
        (
            json.dumps({k: v for k, v in CLEAN.items() if k != "degree"}),
            "missing fields ['degree']",
        ),
        (_line(religion="none"), "unknown fields ['religion']"),
        (_line(id_number="330106199603140013"), "id_number is invalid (checksum)"),
        (_line(id_number="33010619960314001"), "id_number is invalid (format)"),
        (_line(id_number="330106199603140012 "), "canonically"),
        (_line(id_number=330106199603140012), "id_number must be a string"),
        (_line(name=""), "name"),
        (_line(name=" 陈志远"), "name"),
        (_line(marital_status="engaged"), "marital_status must be one of"),
        (_line(degree="phd"), "degree must be one of"),
        (_line(employment="retired"), "employment must be one of"),
        (_line(criminal_record="false"), "criminal_record must be true or false"),
        (_line(dishonest_debtor=0), "dishonest_debtor must be true or false"),
        (_line(hukou_region="33010"), "hukou_region must be six digits"),
    ],
)
def test_a_bad_line_is_reported_with_its_number(line: str, problem: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry([json.dumps(OTHER, ensure_ascii=False), "", line], source="people.jsonl")

    assert caught.value.line == 3
    assert str(caught.value).startswith("people.jsonl, line 3: ")
    assert problem in str(caught.value)
    assert "330106199603140012" not in str(caught.value) and "陈志远" not in str(caught.value)


def test_a_duplicate_number_names_the_first_line() -> None:
    with pytest.raises(RegistryError, match=r"line 3: id_number already registered on line 1"):
        parse_registry([_line(), json.dumps(OTHER, ensure_ascii=False), _line(name="陈志圆")])


def test_registry_refuses_the_same_number_twice() -> None:
    with pytest.raises(ValueError):
        Registry([Person(**CLEAN), Person(**CLEAN)])


def test_written_registry_loads_back(tmp_path: Path) -> None:
    people = [Person(**CLEAN), Person(**OTHER)]
    write_registry(people, tmp_path / "registry.jsonl")

    assert list(load_registry(tmp_path / "registry.jsonl")) == people
    assert "陈志远" in (tmp_path / "registry.jsonl").read_text(encoding="utf-8")  # not \\u-escaped


def test_bundled_file_is_what_write_registry_produces(tmp_path: Path) -> None:
    write_registry(load_registry(), tmp_path / "copy.jsonl")

    assert (tmp_path / "copy.jsonl").read_text(encoding="utf-8") == BUNDLED_REGISTRY.read_text(
        encoding="utf-8"
    )


def test_person_repr_shows_no_personal_data() -> None:
    assert "陈志远" not in repr(Person(**CLEAN)) and "330106" not in repr(Person(**CLEAN))
