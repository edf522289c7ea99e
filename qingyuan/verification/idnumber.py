"""Resident identity card numbers (公民身份号码, GB 11643-1999) and the marriage-age window.

An 18-character number reads ``RRRRRR YYYYMMDD SSS C``: the six-digit administrative region of
first registration (GB/T 2260), the birth date, a three-digit sequence whose parity gives the
gender (odd = male) and a check character computed with ISO 7064 MOD 11-2 over the first 17
digits.  Birth date and gender are read from the number, never from a form, so the number is
the single source for both.

Errors carry a stable ``code`` and no text: the web layer maps codes to localised messages,
and no error message ever repeats the number itself (it must not reach logs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

Gender = Literal["male", "female"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

# Province-level prefixes of GB/T 2260 (the first two region digits).  A number whose prefix is
# not a province cannot have been issued, even if its check character happens to fit.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

#: Legal minimum marriage age by gender (Civil Code art. 1047).
MARRIAGE_AGE: dict[Gender, int] = {"male": 22, "female": 20}


class InvalidIdNumber(ValueError):
    """The text is not a resident ID number.

    ``code`` is one of ``"format"`` (not 17 digits + digit/X), ``"region"`` (no such
    province), ``"birth_date"`` (not a real calendar date) or ``"checksum"``.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class IneligibleAge(ValueError):
    """The holder is outside the age window; ``code`` is ``"too_young"`` or ``"too_old"``.

    ``limit`` is the bound that was crossed (minimum or maximum age, in years), so the web
    layer can say "you must be at least 22".
    """

    def __init__(self, code: str, limit: int) -> None:
        super().__init__(code)
        self.code = code
        self.limit = limit


@dataclass(frozen=True, repr=False)
class IdNumber:
    """A checked ID number and what it tells.  ``repr`` is masked so it is safe in tracebacks."""

    value: str
    region: str
    birth_date: date
    gender: Gender

    @property
    def masked(self) -> str:
        """The display form of docs/brief.md §4: ``330106********1234``."""
        return f"{self.value[:6]}{'*' * 8}{self.value[-4:]}"

    def __repr__(self) -> str:
        return f"IdNumber({self.masked})"


def normalize_id_number(raw: str) -> str:
    """Canonical text of a typed number: full-width forms folded, whitespace removed, ``X`` upper.

    People type numbers in groups (``330106 19960314 0012``) and Chinese input methods often
    produce full-width digits (``３３０１０６…``).  The canonical form is what is hashed and
    compared, so every side must normalise the same way.
    """
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_id_number(raw: str) -> IdNumber:
    """Validate a typed ID number and read its region, birth date and gender."""
    value = normalize_id_number(raw)
    if not _SHAPE.fullmatch(value):
        raise InvalidIdNumber("format")
    if value[:2] not in _PROVINCES:
        raise InvalidIdNumber("region")
    birth_date = _birth_date(value[6:14])
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("checksum")
    gender: Gender = "male" if int(value[16]) % 2 else "female"
    return IdNumber(value=value, region=value[:6], birth_date=birth_date, gender=gender)


def _birth_date(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``.

    Someone born on 29 February completes a year on 1 March in common years, which is how a
    birthday that does not exist that year is counted for legal age.
    """
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def check_age_window(id_number: IdNumber, *, today: date, max_age: int) -> None:
    """Refuse holders below the legal marriage age for their gender or above ``max_age``."""
    age = age_on(id_number.birth_date, today)
    minimum = MARRIAGE_AGE[id_number.gender]
    if age < minimum:
        raise IneligibleAge("too_young", minimum)
    if age > max_age:
        raise IneligibleAge("too_old", max_age)


def make_id_number(region: str, birth_date: date, sequence: int) -> str:
    """Build a valid number (for personas, tests and the demo); odd ``sequence`` = male."""
    if not (len(region) == 6 and region.isascii() and region.isdigit()):
        raise ValueError("region must be six ASCII digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be within 0..999")
    first17 = (
        f"{region}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{sequence:03d}"
    )
    return first17 + check_character(first17)
