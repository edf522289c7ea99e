from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qingyuan.verification.idnumber import (
    IdNumber,
    IneligibleAge,
    InvalidIdNumber,
    age_on,
    check_age_window,
    check_character,
    make_id_number,
    parse_id_number,
)

regions = st.sampled_from(["110105", "310101", "330102", "330106", "440305", "650102", "820000"])
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
valid_numbers = st.builds(make_id_number, regions, birth_dates, sequences)


def test_the_standards_example_is_valid() -> None:
    parsed = parse_id_number("11010519491231002X")

    assert parsed.value == "11010519491231002X"
    assert parsed.region == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"  # sequence 002 is even


def test_check_character_of_the_standards_example() -> None:
    assert check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "110105\t19491231002x",
        "１１０１０５１９４９１２３１００２ｘ",  # full-width, as Chinese input methods type it
    ],
)
def test_lowercase_x_and_spaces_are_accepted(raw: str) -> None:
    assert parse_id_number(raw).value == "11010519491231002X"


@given(regions, birth_dates, sequences)
def test_generated_numbers_parse_back(region: str, birth_date: date, sequence: int) -> None:
    parsed = parse_id_number(make_id_number(region, birth_date, sequence))

    assert (parsed.region, parsed.birth_date) == (region, birth_date)
    assert parsed.gender == ("male" if sequence % 2 else "female")


@given(valid_numbers, st.integers(min_value=0, max_value=17), st.data())
def test_any_single_changed_character_is_refused(
    number: str, position: int, data: st.DataObject
) -> None:
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != number[position]))
    changed = number[:position] + replacement + number[position + 1 :]

    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed)


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "format"),
        ("11010519491231002", "format"),  # 17 characters
        ("110105194912310021X", "format"),  # 19 characters
        ("1101051949123100X2", "format"),  # X not at the end
        ("11010519491231002Y", "format"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),  # Arabic-Indic digits are not ASCII digits
        ("11010519491231002A", "format"),
        ("110105194912310021", "checksum"),
        (_with_check("99010519491231002"), "region"),
        (_with_check("33010619990230001"), "birth_date"),  # 30 February
        (_with_check("33010619991301001"), "birth_date"),  # month 13
        (_with_check("33010619000229001"), "birth_date"),  # 1900 was not a leap year
        (_with_check("33010600000101001"), "birth_date"),  # year 0
    ],
)
def test_invalid_numbers_have_stable_codes(raw: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw)

    assert caught.value.code == code


def test_leap_day_births_are_real_dates() -> None:
    assert parse_id_number(_with_check("33010620000229001")).birth_date == date(2000, 2, 29)


def test_error_and_repr_never_show_the_number() -> None:
    number = "330106199603140012"
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number[:-1] + "3")
    parsed = parse_id_number(number)

    assert number[6:14] not in str(caught.value)
    assert repr(parsed) == "IdNumber(330106********0012)"
    assert parsed.masked == "330106********0012"


@pytest.mark.parametrize("first17", ["1101051949123100", "1101051949123100X", "110105194912310021"])
def test_check_character_needs_seventeen_digits(first17: str) -> None:
    with pytest.raises(ValueError):
        check_character(first17)


@pytest.mark.parametrize(
    ("region", "sequence"), [("33010", 1), ("33010a", 1), ("330106", 1000), ("330106", -1)]
)
def test_make_id_number_refuses_bad_parts(region: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_id_number(region, date(1996, 3, 14), sequence)


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1996, 3, 14), date(2026, 3, 13), 29),
        (date(1996, 3, 14), date(2026, 3, 14), 30),
        (date(2000, 2, 29), date(2022, 2, 28), 21),  # no 29 February in 2022: a year is
        (date(2000, 2, 29), date(2022, 3, 1), 22),  # completed on 1 March
        (date(2000, 2, 29), date(2024, 2, 29), 24),
    ],
)
def test_age_on_counts_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def _holder(gender: str, born: date) -> IdNumber:
    return parse_id_number(make_id_number("330106", born, 1 if gender == "male" else 2))


@pytest.mark.parametrize(
    ("gender", "born", "code"),
    [
        ("male", date(2004, 11, 28), "too_young"),  # 22 tomorrow
        ("male", date(2004, 11, 27), None),  # 22 today
        ("female", date(2006, 11, 28), "too_young"),  # 20 tomorrow
        ("female", date(2006, 11, 27), None),  # 20 today
        ("male", date(1986, 11, 27), None),  # 40 today: the maximum itself is allowed
        ("female", date(1986, 11, 26), None),  # still 40
        ("female", date(1985, 11, 27), "too_old"),  # 41 today
    ],
)
def test_age_window_boundaries(gender: str, born: date, code: str | None) -> None:
    holder = _holder(gender, born)
    if code is None:
        check_age_window(holder, today=date(2026, 11, 27), max_age=40)
        return
    with pytest.raises(IneligibleAge) as caught:
        check_age_window(holder, today=date(2026, 11, 27), max_age=40)
    assert caught.value.code == code


def test_age_window_error_carries_the_limit() -> None:
    with pytest.raises(IneligibleAge) as young:
        check_age_window(_holder("male", date(2006, 1, 1)), today=date(2026, 11, 27), max_age=40)
    with pytest.raises(IneligibleAge) as old:
        check_age_window(_holder("female", date(1970, 1, 1)), today=date(2026, 11, 27), max_age=45)

    assert (young.value.limit, old.value.limit) == (22, 45)
