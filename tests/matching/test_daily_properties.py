"""Properties of the daily run against the database, over random populations (hypothesis).

Thirty verified members are registered once; each example gives them random preferences,
cities and opt-ins, and a random history (blocks, passes, recent proposals, connections),
then runs the day twice. Whatever the draw: no proposal breaks a hard filter, nobody gets
more than K, no forbidden pair comes back, and the second run adds nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise.timezone import now

from qingyuan.connections import Block, Connection, ConnectionSource
from qingyuan.connections.pairs import open_connection
from qingyuan.matching import Decision, Profile, Proposal
from qingyuan.matching.daily import run_day
from qingyuan.matching.models import MatchRun
from qingyuan.matching.population import PROPOSAL_MEMORY_DAYS
from qingyuan.matching.questions import DEGREE_LEVEL
from qingyuan.platform.models import Notification
from qingyuan.verification.facts import verified_facts
from tests.conftest import run
from tests.matching.daily_support import build_population

DAY = date(2026, 11, 27)
K = 2
SIZE = 30
CITIES = (3301, 3302, 3201)  # two in Zhejiang, one in Jiangsu: two partitions

preference = st.fixed_dictionaries(
    {
        "seek_other_gender": st.sampled_from([True, True, True, True, False]),
        "age_min": st.integers(18, 32),
        "age_span": st.integers(0, 40),
        "city": st.sampled_from(CITIES),
        "cities": st.lists(st.sampled_from(CITIES), max_size=2, unique=True),
        "min_degree": st.sampled_from([0, 0, 0, 2, 3, 5]),
        "opted_in": st.sampled_from([True, True, True, False]),
    }
)
pair = st.tuples(st.integers(0, SIZE - 1), st.integers(0, SIZE - 1)).filter(lambda p: p[0] != p[1])
history = st.fixed_dictionaries(
    {
        "blocks": st.lists(pair, max_size=6),
        "passes": st.lists(st.tuples(pair, st.integers(1, 400)), max_size=6),
        "recent": st.lists(st.tuples(pair, st.integers(1, PROPOSAL_MEMORY_DAYS - 1)), max_size=6),
        "connections": st.lists(pair, max_size=4),
    }
)


@pytest.fixture
def members(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_MATCHES_PER_DAY=str(K)))
    return client, build_population(client, SIZE)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prefs=st.lists(preference, min_size=SIZE, max_size=SIZE), past=history)
def test_random_populations_never_break_the_rules(members, prefs, past):
    client, users = members
    ids = [u.id for u in users]
    forbidden = run(client, _prepare, ids, prefs, past)
    first = run(client, run_day, client.app.state.kernel, DAY)
    today = run(client, Proposal.filter(day=DAY).values_list, "a_id", "b_id")

    facts = run(client, verified_facts)
    profile = {p.user_id: p for p in run(client, Profile.all)}
    for a, b in today:
        assert tuple(sorted((a, b))) not in forbidden
        assert profile[a].city // 100 == profile[b].city // 100  # one partition
        for me, other in ((a, b), (b, a)):
            assert _accepts(profile[me], profile[other], facts[other])
    counts = Counter(uid for pair in today for uid in pair)
    assert not counts or max(counts.values()) <= K
    assert first["proposed_pairs"] == len(today)

    second = run(client, run_day, client.app.state.kernel, DAY)
    assert second["proposed_pairs"] == 0
    assert run(client, Proposal.filter(day=DAY).count) == len(today)
    assert second["eligible"] == first["eligible"]
    assert second["members_without_proposal"] == first["members_without_proposal"]


def _accepts(me: Profile, other: Profile, facts) -> bool:
    return (
        me.opted_in
        and other.opted_in
        and me.seek_gender == facts.gender
        and me.age_min <= facts.age(DAY) <= me.age_max
        and (not me.cities or other.city in me.cities)
        and me.min_degree <= DEGREE_LEVEL[facts.degree]
    )


async def _prepare(ids: list[int], prefs: list[dict], past: dict) -> set[tuple[int, int]]:
    """Reset the previous example, write this one; the pairs that must never be proposed."""
    for model in (Proposal, MatchRun, Block, Connection, Notification):
        await model.all().delete()
    facts = await verified_facts(ids)
    other = {"male": "female", "female": "male"}
    for user_id, p in zip(ids, prefs, strict=True):
        gender = facts[user_id].gender
        await Profile.filter(user_id=user_id).update(
            seek_gender=other[gender] if p["seek_other_gender"] else gender,
            age_min=p["age_min"],
            age_max=p["age_min"] + p["age_span"],
            city=p["city"],
            cities=p["cities"],
            min_degree=p["min_degree"],
            opted_in=p["opted_in"],
        )
    forbidden: set[tuple[int, int]] = set()

    def key(i: int, j: int) -> tuple[int, int]:
        pair = tuple(sorted((ids[i], ids[j])))
        forbidden.add(pair)
        return pair

    for i, j in past["blocks"]:
        key(i, j)
        await Block.get_or_create(blocker_id=ids[i], blocked_id=ids[j])
    for i, j in past["connections"]:
        await open_connection(*key(i, j), ConnectionSource.MATCH)
    for (i, j), days_ago in past["passes"]:
        await _past_proposal(*key(i, j), days_ago, Decision.PASS)
    for (i, j), days_ago in past["recent"]:
        await _past_proposal(*key(i, j), days_ago, None)
    return forbidden


async def _past_proposal(a: int, b: int, days_ago: int, decision: Decision | None) -> None:
    await Proposal.get_or_create(
        day=DAY - timedelta(days=days_ago),
        a_id=a,
        b_id=b,
        defaults={"score": 0.5, "expires_at": now(), "b_decision": decision},
    )
