"""Today's matching population, read from the database into the arrays the matcher needs.

Index i of every array is one member; `user_ids[i]` maps it back. Only verified, consenting
members with a profile who opted in are loaded (verification.facts decides the first two).
A member who switched off personalised ranking is loaded without their own decision history,
so their likes and passes do not steer what they are shown (PIPL art. 24).

`Population.decisions` are exactly the decisions inside the behaviour counts, each counted on
both sides (the chooser's likes given, the chosen's likes received): training takes them as
labels and subtracts each from the counts (leave-one-out), so a decision the counts do not
hold (a private member's, or one made on `day` itself) is never subtracted into -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from tortoise.expressions import Q
from tortoise.timezone import now

from qingyuan.connections.pairs import connected_and_blocked_pairs
from qingyuan.matching.candidates import ForbiddenPairs, HardFilters
from qingyuan.matching.features import Behaviour, Members, Preferences
from qingyuan.matching.models import Answer, Decision, Profile, Proposal
from qingyuan.matching.questionnaire import Questionnaire
from qingyuan.matching.questions import DEGREE_LEVEL, INTEREST_TAGS, QUESTION_KEYS
from qingyuan.platform.models import User
from qingyuan.verification.facts import verified_facts

GENDER_CODE = {"female": 0, "male": 1}
SEEK_BITS = {"female": 1, "male": 2}
PROPOSAL_MEMORY_DAYS = 90
_TAGS = tuple(INTEREST_TAGS)


@dataclass(frozen=True)
class Decisions:
    """Decided proposal sides as member rows: `chooser` liked (1) or passed (0) `chosen`."""

    chooser: np.ndarray
    chosen: np.ndarray
    liked: np.ndarray
    day: np.ndarray  # date ordinals

    def __len__(self) -> int:
        return len(self.liked)


@dataclass(frozen=True)
class Population:
    user_ids: np.ndarray
    members: Members
    filters: HardFilters
    profiles: list[Profile]
    decisions: Decisions

    def __len__(self) -> int:
        return len(self.user_ids)

    def index_of(self, user_ids: np.ndarray) -> np.ndarray:
        """Row of each user id; -1 for users outside the population."""
        return _rows_of(self.user_ids, user_ids)


def _rows_of(population_ids: np.ndarray, user_ids: np.ndarray) -> np.ndarray:
    """Row of each of `user_ids` in the sorted `population_ids`, -1 where absent."""
    if not len(population_ids):
        return np.full(len(user_ids), -1)
    rows = np.searchsorted(population_ids, user_ids).clip(max=len(population_ids) - 1)
    return np.where(population_ids[rows] == user_ids, rows, -1)


async def load_population(day: date, skip_provinces: Sequence[int] = ()) -> Population:
    """Everyone who may be matched on `day`, except in `skip_provinces` (already run)."""
    # No `user_id IN (…)` with every member: PostgreSQL takes at most 32,767 parameters.
    query = Profile.filter(opted_in=True)
    for province in skip_provinces:  # city codes are 4 digits: province * 100 + city
        # One Q: Tortoise negates each keyword of `exclude(a=…, b=…)` on its own, which
        # excluded every city (NOT >= lo AND NOT < hi) and left a rerun nothing to match.
        query = query.exclude(Q(city__gte=province * 100, city__lt=(province + 1) * 100))
    profiles = await query.order_by("user_id")
    facts = await verified_facts() if profiles else {}
    profiles = [p for p in profiles if p.user_id in facts]
    user_ids = np.array([p.user_id for p in profiles], dtype=np.int64)
    behaviour, decisions = await _behaviour(user_ids, profiles, day)
    members = Members(
        age=np.array([facts[p.user_id].age(day) for p in profiles], dtype=np.float32),
        gender=np.array([GENDER_CODE[facts[p.user_id].gender] for p in profiles], dtype=np.int8),
        degree=np.array([DEGREE_LEVEL[facts[p.user_id].degree] for p in profiles], np.int8),
        region=np.array([p.city * 100 for p in profiles], dtype=np.int32),
        interests=_interests(profiles),
        traits=np.zeros((len(profiles), 0), dtype=np.float32),
        questionnaire=await _questionnaire(user_ids),
        preferences=_preferences(profiles),
        behaviour=behaviour,
    )
    population = Population(
        user_ids,
        members,
        HardFilters(
            eligible=np.ones(len(profiles), dtype=bool),
            seeks=np.array([SEEK_BITS[p.seek_gender] for p in profiles], dtype=np.uint8),
            forbidden=ForbiddenPairs.empty(len(profiles)),
        ),
        profiles,
        decisions,
    )
    return await _with_forbidden(population, day)


def _interests(profiles: list[Profile]) -> np.ndarray:
    matrix = np.zeros((len(profiles), len(_TAGS)), dtype=np.float32)
    column = {tag: j for j, tag in enumerate(_TAGS)}
    for i, profile in enumerate(profiles):
        matrix[i, [column[t] for t in profile.interests if t in column]] = 1
    return matrix


def _preferences(profiles: list[Profile]) -> Preferences:
    width = max([len(p.cities) for p in profiles] + [1])
    cities = np.zeros((len(profiles), width), dtype=np.int32)
    for i, profile in enumerate(profiles):
        cities[i, : len(profile.cities)] = profile.cities
    return Preferences(
        age_min=np.array([p.age_min for p in profiles], dtype=np.float32),
        age_max=np.array([p.age_max for p in profiles], dtype=np.float32),
        min_degree=np.array([p.min_degree for p in profiles], dtype=np.int8),
        cities=cities,
        trait_weights=np.zeros((len(profiles), 0), dtype=np.float32),
    )


async def _questionnaire(user_ids: np.ndarray) -> Questionnaire:
    n, q = len(user_ids), len(QUESTION_KEYS)
    answers = np.full((n, q), -1, dtype=np.int8)
    acceptable = np.zeros((n, q), dtype=np.uint8)
    importance = np.zeros((n, q), dtype=np.int8)
    row = {int(uid): i for i, uid in enumerate(user_ids)}
    column = {key: j for j, key in enumerate(QUESTION_KEYS)}
    rows = (
        await Answer.all().values_list("user_id", "question", "answer", "acceptable", "importance")
        if n
        else []  # every partition finished: a second run of the day reads nothing
    )
    for user_id, question, answer, accepted, level in rows:
        i, j = row.get(user_id), column.get(question)
        if i is not None and j is not None:
            answers[i, j], acceptable[i, j], importance[i, j] = answer, accepted, level
    return Questionnaire(answers=answers, acceptable=acceptable, importance=importance)


async def _behaviour(
    user_ids: np.ndarray, profiles: list[Profile], day: date
) -> tuple[Behaviour, Decisions]:
    """Decision counts from every proposal before `day`; none of a member's own if not
    personalised. Also the decisions counted on both sides (the training labels)."""
    n = len(user_ids)
    rows = (
        await Proposal.filter(day__lt=day).values_list(
            "a_id", "b_id", "a_decision", "b_decision", "day"
        )
        if n
        else []
    )
    sides = [
        (chooser, chosen, decision == Decision.LIKE, when.toordinal())
        for a, b, a_decision, b_decision, when in rows
        for chooser, chosen, decision in ((a, b, a_decision), (b, a, b_decision))
        if decision is not None
    ]
    chooser_ids, chosen_ids, liked, days = (
        (np.array(column) for column in zip(*sides, strict=True))
        if sides
        else (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 2
    )
    chooser = _rows_of(user_ids, chooser_ids.astype(np.int64))
    chosen = _rows_of(user_ids, chosen_ids.astype(np.int64))
    personalised = np.array([p.personalised for p in profiles] + [False], dtype=bool)
    counted = (chooser >= 0) & personalised[chooser]  # row -1 reads the False at the end
    liked, days = liked.astype(np.float64), days.astype(np.float64)
    shown = chosen >= 0
    last_login = (
        dict(await User.filter(last_login_at__not_isnull=True).values_list("id", "last_login_at"))
        if n
        else {}
    )
    today = now()
    inactive = np.array(
        [(today - last_login[int(u)]).days if last_login.get(int(u)) else 30 for u in user_ids],
        dtype=np.float64,
    )
    zeros = np.zeros(n)
    behaviour = Behaviour(
        likes_given=np.bincount(chooser[counted], liked[counted], minlength=n),
        proposals_seen=np.bincount(chooser[counted], minlength=n).astype(np.float64),
        likes_received=np.bincount(chosen[shown], liked[shown], minlength=n),
        proposals_received=np.bincount(chosen[shown], minlength=n).astype(np.float64),
        replies=zeros,
        chats=zeros,
        days_inactive=inactive,
    )
    labelled = counted & shown
    decisions = Decisions(chooser[labelled], chosen[labelled], liked[labelled], days[labelled])
    return behaviour, decisions


async def _with_forbidden(population: Population, day: date) -> Population:
    """Blocked either way, connected, proposed in the last 90 days, or ever passed."""
    if not len(population):
        return population
    since = day - timedelta(days=PROPOSAL_MEMORY_DAYS)
    pairs = [
        *await connected_and_blocked_pairs(),
        *await Proposal.filter(day__gte=since).values_list("a_id", "b_id"),
        *await Proposal.filter(a_decision=Decision.PASS).values_list("a_id", "b_id"),
        *await Proposal.filter(b_decision=Decision.PASS).values_list("a_id", "b_id"),
    ]
    if not pairs:
        return population
    ids = np.array(pairs, dtype=np.int64)
    a, b = population.index_of(ids[:, 0]), population.index_of(ids[:, 1])
    inside = (a >= 0) & (b >= 0)
    forbidden = ForbiddenPairs.of(len(population), a[inside], b[inside])
    filters = HardFilters(population.filters.eligible, population.filters.seeks, forbidden)
    return Population(
        population.user_ids, population.members, filters, population.profiles, population.decisions
    )
