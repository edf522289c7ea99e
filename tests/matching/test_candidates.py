import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qingyuan.matching import BehaviourPrior, ColdStartModel, Members
from qingyuan.matching.candidates import (
    CandidateGraph,
    CandidateSettings,
    ForbiddenPairs,
    HardFilters,
    candidate_graph,
    compatible,
    merge,
    pair_keys,
    pair_scores,
    region_partitions,
)
from qingyuan.matching.synthetic import synthetic_population
from tests.matching.populations import population

SCORER = ColdStartModel(BehaviourPrior(0.35, 0.5))
EVERYTHING = CandidateSettings(k=10_000, sample=10_000, max_listed=10_000)


def brute_force_compatible(members: Members, filters: HardFilters) -> set[tuple[int, int]]:
    """Every pair that passes docs/brief.md §6's hard filters, checked one pair at a time."""
    forbidden = {(int(k // filters.forbidden.size), int(k % filters.forbidden.size))
                 for k in filters.forbidden.keys}  # fmt: skip
    return {
        (a, b)
        for a in range(len(members))
        for b in range(a + 1, len(members))
        if (a, b) not in forbidden
        and wants(members, filters, a, b)
        and wants(members, filters, b, a)
    }


def wants(members: Members, filters: HardFilters, a: int, b: int) -> bool:
    prefs = members.preferences
    low, high, age = prefs.age_min[a], prefs.age_max[a], members.age[b]
    cities = [c for c in prefs.cities[a] if c]
    return bool(
        filters.eligible[a]
        and filters.eligible[b]
        and filters.seeks[a] & (1 << members.gender[b])
        and (math.isnan(low) or age >= low)
        and (math.isnan(high) or age <= high)
        and members.degree[b] >= prefs.min_degree[a]
        and (not cities or members.region[b] // 100 in cities)
    )


def small_population(seed: int, n: int) -> tuple[Members, HardFilters]:
    """A synthetic population with some unknown ages and regions and random forbidden pairs."""
    rng = np.random.default_rng(seed)
    synthetic = synthetic_population(n, seed=seed, provinces=(33,))
    members = synthetic.members
    age = np.where(rng.random(n) < 0.1, np.nan, members.age).astype(np.float32)
    region = np.where(rng.random(n) < 0.1, 0, members.region).astype(np.int32)
    members = replace(members, age=age, region=region)
    a, b = rng.integers(0, n, (2, n))
    forbidden = ForbiddenPairs.of(n, a[a != b], b[a != b])
    return members, replace(synthetic.filters, forbidden=forbidden)


def edge_set(graph: CandidateGraph) -> set[tuple[int, int]]:
    return set(zip(graph.a.tolist(), graph.b.tolist(), strict=True))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.integers(2, 90))
def test_no_candidate_edge_breaks_a_hard_filter(seed: int, n: int) -> None:
    members, filters = small_population(seed, n)
    allowed = brute_force_compatible(members, filters)
    capped = candidate_graph(members, filters, SCORER, CandidateSettings(k=3, sample=8))
    assert edge_set(capped) <= allowed
    # with nothing capped, the buckets miss no compatible pair
    assert edge_set(candidate_graph(members, filters, SCORER, EVERYTHING)) == allowed


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**16))
def test_compatible_agrees_with_the_pairwise_check(seed: int) -> None:
    members, filters = small_population(seed, 40)
    a, b = np.triu_indices(40, 1)
    ok = compatible(members, filters, a, b)
    found = set(zip(a[ok].tolist(), b[ok].tolist(), strict=True))
    assert found == brute_force_compatible(members, filters)


def test_edges_are_sorted_unique_with_a_below_b_and_reciprocal_scores() -> None:
    synthetic = synthetic_population(600, seed=5)
    graph = candidate_graph(synthetic.members, synthetic.filters, SCORER)
    keys = pair_keys(600, graph.a, graph.b)
    assert np.all(graph.a < graph.b) and np.all(np.diff(keys) > 0)
    rescored = pair_scores(synthetic.members, SCORER, graph.b, graph.a)
    np.testing.assert_allclose(graph.score, rescored, rtol=1e-6)


def test_each_member_keeps_at_most_k_and_is_listed_at_most_max_listed() -> None:
    synthetic = synthetic_population(800, seed=2)
    options = CandidateSettings(k=5, sample=40, max_listed=7)
    graph = candidate_graph(synthetic.members, synthetic.filters, SCORER, options)
    # a member's edges are its own list (<= k) plus the lists it is on (<= max_listed)
    degree = np.bincount(np.r_[graph.a, graph.b], minlength=800)
    assert degree.max() <= options.k + options.max_listed
    assert graph.stats["listed"] <= 800 * options.k
    assert graph.stats["drawn"] <= 800 * options.sample


def test_the_kept_candidates_are_the_best_scoring_ones() -> None:
    members, filters = small_population(3, 60)
    everything = candidate_graph(members, filters, SCORER, EVERYTHING)
    top = candidate_graph(members, filters, SCORER, replace(EVERYTHING, k=2))
    for member in range(60):
        mine = (everything.a == member) | (everything.b == member)
        kept = (top.a == member) | (top.b == member)
        if mine.sum() > 2:  # its own two best are kept (others may list it too)
            assert kept.sum() >= 2
            assert top.score[kept].max() == everything.score[mine].max()


def test_partitioned_generation_equals_the_whole_when_regions_are_independent() -> None:
    synthetic = synthetic_population(3000, seed=4, provinces=(32, 33, 34))
    members = synthetic.members
    # everyone names only their own city: no compatible pair crosses a province
    cities = np.zeros_like(members.preferences.cities)
    cities[:, 0] = members.region // 100
    members = replace(members, preferences=replace(members.preferences, cities=cities))
    options = CandidateSettings(k=6, sample=30, max_listed=15, seed=9)
    whole = candidate_graph(members, synthetic.filters, SCORER, options)
    partitions = region_partitions(members, synthetic.filters)
    parts = merge(
        [candidate_graph(members, synthetic.filters, SCORER, options, p) for p in partitions]
    )
    assert len(partitions) == 3
    assert edge_set(parts) == edge_set(whole)
    np.testing.assert_allclose(parts.score, whole.score, rtol=1e-6)


def test_a_new_seed_draws_other_candidates_from_a_large_pool() -> None:
    synthetic = synthetic_population(3000, seed=6)
    options = CandidateSettings(k=5, sample=10)
    monday = candidate_graph(synthetic.members, synthetic.filters, SCORER, options)
    tuesday = candidate_graph(
        synthetic.members, synthetic.filters, SCORER, replace(options, seed=1)
    )
    same = edge_set(monday) & edge_set(tuesday)
    assert len(same) < 0.5 * len(monday)


def test_forbidden_pairs_are_unordered_and_grow() -> None:
    forbidden = ForbiddenPairs.of(10, np.array([3, 7]), np.array([1, 2]))
    assert forbidden.contains(np.array([1, 3, 2, 1]), np.array([3, 1, 7, 2])).tolist() == [
        True,
        True,
        True,
        False,
    ]
    grown = forbidden.with_pairs(np.array([2]), np.array([1]))
    assert len(grown) == 3 and grown.contains(np.array([1]), np.array([2]))[0]
    assert not ForbiddenPairs.empty(10).contains(np.array([1]), np.array([2]))[0]


def test_unknown_facts_fail_stated_bounds_but_not_open_ones() -> None:
    members = population(
        4,
        age=[30, np.nan, 30, 30],
        gender=[0, 1, 1, 1],
        degree=[3, 3, 0, 3],
        region=[330106, 330106, 330106, 0],
        age_min=[25, np.nan, np.nan, np.nan],
        min_degree=[1, 0, 0, 0],
        cities=[[3301], [0], [0], [0]],
    )
    filters = HardFilters(
        eligible=np.ones(4, dtype=bool),
        seeks=np.array([2, 1, 1, 1], dtype=np.uint8),
        forbidden=ForbiddenPairs.empty(4),
    )
    # 1: unknown age against a minimum age; 2: unknown degree against a minimum degree;
    # 3: unknown region against a preferred city
    assert not compatible(members, filters, np.array([0, 0, 0]), np.array([1, 2, 3])).any()
    open_minded = replace(
        members,
        preferences=replace(
            members.preferences,
            age_min=np.full(4, np.nan, dtype=np.float32),
            min_degree=np.zeros(4, dtype=np.int8),
            cities=np.zeros((4, 1), dtype=np.int32),
        ),
    )
    assert compatible(open_minded, filters, np.array([0, 0, 0]), np.array([1, 2, 3])).all()


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_populations_give_empty_graphs(n: int) -> None:
    synthetic = synthetic_population(n)
    graph = candidate_graph(synthetic.members, synthetic.filters, SCORER)
    assert len(graph) == 0
