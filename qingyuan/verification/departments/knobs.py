"""Fault knobs of a mock department: slow it down, make it fail now and then, or take it down.

They exist so tests and demos can show that an outage leaves verification pending rather than
rejected.  Set them from Python (``department.knobs.delay = 2``) or over HTTP with
``PUT /{department}/_knobs`` and a JSON object of the fields to change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MAX_DELAY = 60.0


@dataclass
class Knobs:
    """``delay`` seconds before answering, ``failure_rate`` share of 503s, ``down`` = all 503."""

    delay: float = 0.0
    failure_rate: float = 0.0
    down: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial update from outside (JSON values of any type, which ``_check``
        judges); ``ValueError`` leaves every knob as it was."""
        unknown = changes.keys() - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown knobs: {sorted(unknown)}")
        dataclasses.replace(self, **changes)._check()
        for name, value in changes.items():
            setattr(self, name, value)

    async def interfere(self) -> bool:
        """Apply the knobs to one request; ``True`` means answer it with 503."""
        if self.down:
            return True
        if self.delay:
            await asyncio.sleep(self.delay)
        return random.random() < self.failure_rate

    def _check(self) -> None:
        if not (_is_number(self.delay) and 0 <= self.delay <= _MAX_DELAY):
            raise ValueError(f"delay must be a number of seconds within 0..{_MAX_DELAY:g}")
        if not (_is_number(self.failure_rate) and 0 <= self.failure_rate <= 1):
            raise ValueError("failure_rate must be a number within 0..1")
        if not isinstance(self.down, bool):
            raise ValueError("down must be true or false")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
