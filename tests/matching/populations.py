"""Member populations for the matching tests: tiny hand-made ones and random ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np

from qingyuan.matching import Behaviour, Members, Preferences, Questionnaire


def _empty(columns: int, dtype: type) -> Callable[[int], np.ndarray]:
    return lambda n: np.zeros((n, columns), dtype=dtype)


def _filled(value: float, dtype: type) -> Callable[[int], np.ndarray]:
    return lambda n: np.full(n, value, dtype=dtype)


# field: (dtype, neutral default for n members): unknown facts, no stated preference, no history
_FIELDS: dict[str, tuple[type, Callable[[int], np.ndarray]]] = {
    "age": (np.float32, _filled(28, np.float32)),
    "gender": (np.int8, _filled(0, np.int8)),
    "degree": (np.int8, _filled(0, np.int8)),
    "region": (np.int32, _filled(0, np.int32)),
    "interests": (np.float32, _empty(0, np.float32)),
    "traits": (np.float32, _empty(0, np.float32)),
    "answers": (np.int8, _empty(0, np.int8)),
    "acceptable": (np.uint8, _empty(0, np.uint8)),
    "importance": (np.int8, _empty(0, np.int8)),
    "age_min": (np.float32, _filled(np.nan, np.float32)),
    "age_max": (np.float32, _filled(np.nan, np.float32)),
    "min_degree": (np.int8, _filled(0, np.int8)),
    "cities": (np.int32, _empty(0, np.int32)),
    "trait_weights": (np.float32, _empty(0, np.float32)),
    **{field.name: (np.float64, _filled(0, np.float64)) for field in fields(Behaviour)},
}


def population(n: int, **given: Any) -> Members:
    """n neutral members with the given fields (of any nested part) replaced."""
    unknown = set(given) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields {sorted(unknown)}")
    values = {
        name: np.asarray(given[name], dtype=dtype) if name in given else default(n)
        for name, (dtype, default) in _FIELDS.items()
    }
    parts = {"questionnaire": Questionnaire, "preferences": Preferences, "behaviour": Behaviour}
    return Members(
        **{field.name: values[field.name] for field in fields(Members) if field.name not in parts},
        **{name: _build(cls, values) for name, cls in parts.items()},
    )


def _build(cls: type, values: dict[str, np.ndarray]) -> Any:
    return cls(**{field.name: values[field.name] for field in fields(cls)})


def random_population(n: int, seed: int = 0) -> Members:
    """n members with every field filled at random, some facts unknown."""
    rng = np.random.default_rng(seed)
    seen = rng.poisson(8, n).astype(float)
    shown = rng.poisson(8, n).astype(float)
    chats = rng.poisson(3, n).astype(float)
    return population(
        n,
        age=np.where(rng.random(n) < 0.05, np.nan, rng.uniform(22, 40, n)),
        gender=rng.integers(0, 2, n),
        degree=rng.integers(0, 6, n),
        region=rng.choice([0, 330102, 330106, 330212, 330302, 110101], n),
        interests=rng.random((n, 12)) < 0.3,
        traits=rng.normal(size=(n, 3)),
        answers=rng.integers(-1, 4, (n, 11)),
        acceptable=rng.integers(0, 16, (n, 11)),
        importance=rng.integers(0, 5, (n, 11)),
        age_min=np.where(rng.random(n) < 0.5, np.nan, 24),
        age_max=np.where(rng.random(n) < 0.5, np.nan, 34),
        min_degree=rng.integers(0, 4, n),
        cities=rng.choice([0, 3301, 3302, 3303], (n, 2)),
        trait_weights=rng.random((n, 3)),
        likes_given=rng.binomial(seen.astype(int), 0.4),
        proposals_seen=seen,
        likes_received=rng.binomial(shown.astype(int), 0.4),
        proposals_received=shown,
        replies=rng.binomial(chats.astype(int), 0.6),
        chats=chats,
        days_inactive=rng.exponential(3, n),
    )
