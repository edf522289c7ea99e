"""Synthetic populations with planted preferences, for simulating the daily matcher.

A live platform never learns whether a *would* have liked b; a simulation has to. Every member
gets hidden qualities and the probability that a likes b is planted::

    logit p(a→b) = BASE + ATTRACTION·α_b + OPENNESS·ρ_a + TASTE·(z_a·z_b)/√d
                   + TRAIT_FIT·(w_a·t_b) − AGE_MISMATCH·|age_b − age_a − gap_a|

α (attractiveness), ρ (openness) and z (a taste vector) are hidden. The profile shows part of
the picture, the way a real one does: interest tags and questionnaire answers are noisy readings
of z; traits t, trait weights w and age are observed exactly; α and ρ show only through
behaviour (likes received and given). So scoring on the profile alone beats random pairing,
and a model retrained on decisions, which learns desirability and pickiness, beats both.

Members are made in fixed-size chunks, each from its own seeded generator, so a million
members take seconds and temporaries stay bounded (the questionnaire draws (n, q, options)
noise); the same seed always gives the same population.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from qingyuan.matching.candidates import ForbiddenPairs, HardFilters
from qingyuan.matching.features import Behaviour, Members, Preferences
from qingyuan.matching.questionnaire import Questionnaire

# planted model (module docstring); BASE puts the like rate near 0.33 between members within 4
# years of the age gap they prefer (0.25 between random members)
BASE = -0.8
ATTRACTION = 1.0
OPENNESS = 0.8
TASTE = 0.8
TRAIT_FIT = 0.6
AGE_MISMATCH = 0.15

TASTE_DIMENSIONS = 4
INTEREST_TAGS = 16
QUESTIONS = 16
ANSWER_OPTIONS = 4
TRAITS = 3
PREFERRED_CITIES = 3
CITIES_PER_PROVINCE = {31: 1, 32: 13, 33: 11, 34: 16}  # 上海, 江苏, 浙江, 安徽
DISTRICTS_PER_CITY = 6
_CHUNK = 1 << 16


@dataclass(frozen=True)
class PlantedPreferences:
    """The hidden truth of a synthetic population: who would like whom.

    Holds its own copies of the observed arrays it needs (age, traits, trait weights) so the
    truth stays fixed while a simulation replaces ``Members`` day after day.
    """

    attractiveness: np.ndarray
    openness: np.ndarray
    taste: np.ndarray
    preferred_gap: np.ndarray
    age: np.ndarray
    traits: np.ndarray
    trait_weights: np.ndarray

    def probability(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """p(a likes b) for index arrays ``a`` and ``b``, float64."""
        taste = np.einsum("ij,ij->i", self.taste[a], self.taste[b]) / np.sqrt(TASTE_DIMENSIONS)
        fit = np.einsum("ij,ij->i", self.trait_weights[a], self.traits[b])
        mismatch = np.abs(self.age[b] - self.age[a] - self.preferred_gap[a])
        logit = (
            BASE
            + ATTRACTION * self.attractiveness[b]
            + OPENNESS * self.openness[a]
            + TASTE * taste
            + TRAIT_FIT * fit
            - AGE_MISMATCH * mismatch
        )
        return 1.0 / (1.0 + np.exp(-logit.astype(np.float64)))

    def decide(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a's like (True) or pass on each b from the planted probability."""
        return rng.random(len(a)) < self.probability(a, b)


@dataclass(frozen=True)
class SyntheticPopulation:
    """Members as the matcher sees them, their hard-filter data, and the hidden truth."""

    members: Members
    filters: HardFilters
    truth: PlantedPreferences


@dataclass(frozen=True)
class _World:
    """Population-wide parameters: how taste shows in tags and answers, where people live."""

    tag_loadings: np.ndarray
    tag_offsets: np.ndarray
    answer_loadings: np.ndarray
    cities: np.ndarray
    city_weights: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, provinces: Sequence[int]) -> _World:
        unknown = set(provinces) - set(CITIES_PER_PROVINCE)
        if unknown:
            raise ValueError(f"no city table for provinces {sorted(unknown)}")
        cities = np.array(
            [p * 100 + c for p in provinces for c in range(1, CITIES_PER_PROVINCE[p] + 1)]
        )
        # the first cities of a province (the capital) are the largest, as they are in life
        rank = np.concatenate([np.arange(1, CITIES_PER_PROVINCE[p] + 1) for p in provinces])
        weights = 1.0 / rank
        return cls(
            tag_loadings=rng.normal(size=(TASTE_DIMENSIONS, INTEREST_TAGS)),
            tag_offsets=rng.normal(-0.8, 0.5, INTEREST_TAGS),
            answer_loadings=rng.normal(size=(TASTE_DIMENSIONS, QUESTIONS, ANSWER_OPTIONS)),
            cities=cities,
            city_weights=weights / weights.sum(),
        )


def synthetic_population(
    n: int, seed: int = 0, provinces: Sequence[int] = (33,)
) -> SyntheticPopulation:
    """n fresh members (no history yet) living in ``provinces`` (GB/T 2260 two-digit codes).

    96 % seek the other gender, 3 % their own, 1 % both; 95 % are eligible today. Ages are
    22–38; stated age ranges lean older for women and younger for men; 55 % want their own
    city only, 25 % also a second city of their province, 20 % anywhere; 40 % ask for a
    minimum degree.
    """
    world = _World.draw(np.random.default_rng([seed, 0]), provinces)
    chunks = [
        _chunk(world, np.random.default_rng([seed, 1, start]), min(_CHUNK, n - start))
        for start in range(0, max(n, 1), _CHUNK)
    ]
    return _assemble({name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}, n)


def _chunk(world: _World, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Every per-member array of ``n`` members, drawn in one fixed order from ``rng``."""
    gender = rng.integers(0, 2, n).astype(np.int8)
    age = rng.uniform(22, 38, n).astype(np.float32)
    taste = rng.normal(size=(n, TASTE_DIMENSIONS)).astype(np.float32)
    city = rng.choice(world.cities, n, p=world.city_weights)
    degree = rng.choice(np.arange(1, 6), n, p=[0.15, 0.25, 0.40, 0.15, 0.05]).astype(np.int8)
    return {
        "gender": gender,
        "age": age,
        "degree": degree,
        "region": (city * 100 + rng.integers(2, 2 + DISTRICTS_PER_CITY, n)).astype(np.int32),
        "taste": taste,
        "attractiveness": rng.normal(size=n).astype(np.float32),
        "openness": rng.normal(size=n).astype(np.float32),
        "traits": rng.normal(size=(n, TRAITS)).astype(np.float32),
        "trait_weights": rng.dirichlet(np.ones(TRAITS), n).astype(np.float32),
        "interests": _interests(world, rng, taste),
        **_answers(world, rng, taste),
        **_stated_preferences(world, rng, gender, age, city, degree),
        **_eligibility(rng, gender),
    }


def _interests(world: _World, rng: np.random.Generator, taste: np.ndarray) -> np.ndarray:
    """Tags whose odds rise with the matching direction of taste, plus noise."""
    logit = taste @ world.tag_loadings + world.tag_offsets
    noise = rng.logistic(size=logit.shape)
    return (logit > noise).astype(np.float32)


def _answers(world: _World, rng: np.random.Generator, taste: np.ndarray) -> dict[str, np.ndarray]:
    """Answers follow taste (plus Gumbel noise, a softmax choice); a partner is accepted on
    their own answer and, with probability 0.3, each other answer; 10 % of questions blank."""
    n = len(taste)
    utility = np.einsum("nd,dqo->nqo", taste, world.answer_loadings)
    answers = np.argmax(utility + rng.gumbel(size=utility.shape), axis=2)
    extra = rng.random((n, QUESTIONS, ANSWER_OPTIONS)) < 0.3
    acceptable = (extra * (1 << np.arange(ANSWER_OPTIONS))).sum(axis=2) | (1 << answers)
    blank = rng.random((n, QUESTIONS)) < 0.1
    return {
        "answers": np.where(blank, -1, answers).astype(np.int8),
        "acceptable": acceptable.astype(np.uint8),
        "importance": rng.choice(5, (n, QUESTIONS), p=[0.1, 0.2, 0.35, 0.3, 0.05]).astype(np.int8),
    }


def _stated_preferences(
    world: _World,
    rng: np.random.Generator,
    gender: np.ndarray,
    age: np.ndarray,
    city: np.ndarray,
    degree: np.ndarray,
) -> dict[str, np.ndarray]:
    n = len(gender)
    lean = np.where(gender == 0, 2.0, -2.0)  # women prefer older partners, men younger
    span = rng.uniform(3, 7, n)
    open_ended = rng.random((2, n)) < 0.15
    asks_degree = rng.random(n) < 0.4
    return {
        "preferred_gap": (lean + rng.normal(0, 1.5, n)).astype(np.float32),
        "age_min": np.where(open_ended[0], np.nan, age + lean - span).astype(np.float32),
        "age_max": np.where(open_ended[1], np.nan, age + lean + span).astype(np.float32),
        "min_degree": np.where(asks_degree, rng.integers(1, degree + 1), 0).astype(np.int8),
        "cities": _preferred_cities(world, rng, city),
    }


def _preferred_cities(world: _World, rng: np.random.Generator, city: np.ndarray) -> np.ndarray:
    """Own city only (55 %), own and another of the same province (25 %), anywhere (20 %)."""
    n = len(city)
    cities = np.zeros((n, PREFERRED_CITIES), dtype=np.int32)
    choice = rng.random(n)
    cities[:, 0] = np.where(choice < 0.8, city, 0)
    second = world.cities[rng.integers(0, len(world.cities), n)]
    same_province = second // 100 == city // 100
    cities[:, 1] = np.where((choice >= 0.55) & (choice < 0.8) & same_province, second, 0)
    return cities


def _eligibility(rng: np.random.Generator, gender: np.ndarray) -> dict[str, np.ndarray]:
    n = len(gender)
    orientation = rng.choice(3, n, p=[0.96, 0.03, 0.01])  # other gender, own, both
    other, own = 1 << (1 - gender.astype(np.int64)), 1 << gender.astype(np.int64)
    seeks = np.choose(orientation, [other, own, other | own]).astype(np.uint8)
    return {"seeks": seeks, "eligible": rng.random(n) < 0.95}


def _assemble(parts: dict[str, np.ndarray], n: int) -> SyntheticPopulation:
    members = Members(
        age=parts["age"],
        gender=parts["gender"],
        degree=parts["degree"],
        region=parts["region"],
        interests=parts["interests"],
        traits=parts["traits"],
        questionnaire=Questionnaire(parts["answers"], parts["acceptable"], parts["importance"]),
        preferences=Preferences(
            age_min=parts["age_min"],
            age_max=parts["age_max"],
            min_degree=parts["min_degree"],
            cities=parts["cities"],
            trait_weights=parts["trait_weights"],
        ),
        behaviour=Behaviour(*(np.zeros(n) for _ in fields(Behaviour))),
    )
    truth = PlantedPreferences(
        attractiveness=parts["attractiveness"],
        openness=parts["openness"],
        taste=parts["taste"],
        preferred_gap=parts["preferred_gap"],
        age=parts["age"].copy(),
        traits=parts["traits"].copy(),
        trait_weights=parts["trait_weights"].copy(),
    )
    filters = HardFilters(parts["eligible"], parts["seeks"], ForbiddenPairs.empty(n))
    return SyntheticPopulation(members, filters, truth)
