"""The register of fictitious citizens the mock departments answer from.

A JSON-lines file (``QINGYUAN_MOCK_REGISTRY``; the bundled ``personas.jsonl`` by default), one
person a line::

    {"id_number": "330106199603140012", "name": "陈志远", "marital_status": "unmarried",
     "degree": "bachelor", "employment": "employed", "criminal_record": false,
     "dishonest_debtor": false, "hukou_region": "330106"}

Every line is checked on load, and a bad one stops the load with its line number: a mock that
silently skipped a persona would make a test pass or fail for the wrong reason.  Messages name
the field, never its value, because the values are ID numbers and names.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qingyuan.verification.idnumber import InvalidIdNumber, parse_id_number
from qingyuan.verification.protocol import DEGREES, EMPLOYMENTS, MARITAL_STATUSES

BUNDLED_REGISTRY = Path(__file__).with_name("personas.jsonl")

#: Longest name a department accepts (Chinese names are short; transliterations are not).
NAME_MAX_LENGTH = 64


@dataclass(frozen=True, repr=False)
class Person:
    """One registered citizen.  ``repr`` is the default object one: no name or number in logs."""

    id_number: str
    name: str
    marital_status: str
    degree: str
    employment: str
    criminal_record: bool
    dishonest_debtor: bool
    hukou_region: str

    def to_json(self) -> str:
        """The person as one registry line (without the newline)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)


_FIELDS = tuple(field.name for field in dataclasses.fields(Person))


class RegistryError(ValueError):
    """A registry line is not a valid person; ``line`` is its 1-based number."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.line = line


class Registry:
    """The people a department knows, by canonical ID number."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._people: dict[str, Person] = {}
        for person in people:
            if person.id_number in self._people:
                raise ValueError("the same id_number is registered twice")
            self._people[person.id_number] = person

    def get(self, id_number: str) -> Person | None:
        return self._people.get(id_number)

    def amend(self, person: Person) -> None:
        """Replace a registered person's record (a marriage registered, a conviction)."""
        if person.id_number not in self._people:
            raise KeyError("no such person is registered")
        self._people[person.id_number] = person

    def __len__(self) -> int:
        return len(self._people)

    def __iter__(self) -> Iterator[Person]:
        return iter(self._people.values())


def load_registry(path: str | Path = BUNDLED_REGISTRY) -> Registry:
    """Read and check a registry file."""
    path = Path(path)
    with path.open(encoding="utf-8") as lines:
        return parse_registry(lines, source=path.name)


def parse_registry(lines: Iterable[str], *, source: str = "registry") -> Registry:
    """Check registry lines (blank ones are skipped) and build the registry."""
    people: list[Person] = []
    first_seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            person = _person_on(line)
        except ValueError as error:
            raise RegistryError(source, number, str(error)) from None
        if person.id_number in first_seen:
            problem = f"id_number already registered on line {first_seen[person.id_number]}"
            raise RegistryError(source, number, problem)
        first_seen[person.id_number] = number
        people.append(person)
    return Registry(people)


def write_registry(people: Iterable[Person], path: str | Path) -> None:
    """Write people as a registry file, e.g. the demo's generated members."""
    text = "".join(person.to_json() + "\n" for person in people)
    Path(path).write_text(text, encoding="utf-8")


def _person_on(line: str) -> Person:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    return person_from_json(data)


def person_from_json(data: object) -> Person:
    """Check one decoded registry object; ``ValueError`` names the first bad field."""
    if not isinstance(data, dict):
        raise ValueError("a line must be a JSON object")
    missing = sorted(set(_FIELDS) - data.keys())
    unknown = sorted(data.keys() - set(_FIELDS))
    if missing or unknown:
        raise ValueError(f"missing fields {missing}, unknown fields {unknown}")
    _check_id_number(data["id_number"])
    _check_name(data["name"])
    _check_choice(data, "marital_status", MARITAL_STATUSES)
    _check_choice(data, "degree", DEGREES)
    _check_choice(data, "employment", EMPLOYMENTS)
    for flag in ("criminal_record", "dishonest_debtor"):
        if not isinstance(data[flag], bool):
            raise ValueError(f"{flag} must be true or false")
    region = data["hukou_region"]
    if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
        raise ValueError("hukou_region must be six digits")
    return Person(**data)


def _check_id_number(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError("id_number must be a string")
    try:
        canonical = parse_id_number(value).value
    except InvalidIdNumber as error:
        raise ValueError(f"id_number is invalid ({error.code})") from None
    if canonical != value:
        raise ValueError("id_number must be written canonically (no spaces, upper-case X)")


def _check_name(value: object) -> None:
    if not (
        isinstance(value, str) and value.strip() == value and 0 < len(value) <= NAME_MAX_LENGTH
    ):
        raise ValueError(f"name must be 1–{NAME_MAX_LENGTH} characters without outer spaces")


def _check_choice(data: dict[str, object], field: str, choices: tuple[str, ...]) -> None:
    if data[field] not in choices:
        raise ValueError(f"{field} must be one of {', '.join(choices)}")
