import time

import pytest

from qingyuan.verification.departments.knobs import Knobs


def test_update_changes_only_the_given_knobs() -> None:
    knobs = Knobs(delay=1.5)

    knobs.update({"down": True, "failure_rate": 0.25})

    assert knobs == Knobs(delay=1.5, failure_rate=0.25, down=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"delay": -1},
        {"delay": 61},
        {"delay": True},
        {"delay": "1"},
        {"failure_rate": 1.5},
        {"down": "yes"},
        {"down": True, "speed": 3},
        {"down": True, "failure_rate": 2},  # one bad value keeps the good one out too
    ],
)
def test_bad_updates_change_nothing(changes: dict[str, object]) -> None:
    knobs = Knobs()

    with pytest.raises(ValueError):
        knobs.update(changes)

    assert knobs == Knobs()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("knobs", "fails"),
    [
        (Knobs(), False),
        (Knobs(down=True), True),
        (Knobs(failure_rate=1.0), True),
        (Knobs(failure_rate=0.0), False),
    ],
)
async def test_interfere(knobs: Knobs, fails: bool) -> None:
    assert await knobs.interfere() is fails


@pytest.mark.asyncio
async def test_delay_slows_the_answer() -> None:
    started = time.monotonic()

    assert await Knobs(delay=0.05).interfere() is False
    assert time.monotonic() - started >= 0.05
