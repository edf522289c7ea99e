from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qingyuan.matching import BehaviourPrior, ColdStartModel
from qingyuan.matching.assignment import (
    assign,
    exact_matching,
    exposure_discount,
    greedy_matching,
    max_weight_matching,
)
from qingyuan.matching.candidates import (
    CandidateGraph,
    CandidateSettings,
    candidate_graph,
    pair_keys,
)
from qingyuan.matching.synthetic import synthetic_population

SCORER = ColdStartModel(BehaviourPrior(0.35, 0.5))
SOLVERS = (greedy_matching, max_weight_matching, exact_matching)


def random_graph(seed: int, n: int, degree: float) -> tuple[np.ndarray, ...]:
    """A random simple graph with uniform weights."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, (2, int(n * degree / 2) + 1))
    keys = np.unique(pair_keys(n, a[a != b], b[a != b]))
    return keys // n, keys % n, rng.random(len(keys))


def candidates(seed: int, n: int, bipartite: bool = False) -> CandidateGraph:
    """The candidate graph of a small synthetic population: graphs shaped like production's."""
    synthetic = synthetic_population(n, seed=seed)
    filters = synthetic.filters
    if bipartite:
        other = (1 << (1 - synthetic.members.gender.astype(np.int64))).astype(np.uint8)
        filters = type(filters)(filters.eligible, other, filters.forbidden)
    options = CandidateSettings(k=8, sample=30)
    return candidate_graph(synthetic.members, filters, SCORER, options)


def loads(a: np.ndarray, b: np.ndarray, chosen: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(a[chosen], minlength=n) + np.bincount(b[chosen], minlength=n)


def brute_force_optimum(a: np.ndarray, b: np.ndarray, w: np.ndarray, capacity: int) -> float:
    n = int(max(a.max(initial=0), b.max(initial=0))) + 1  # a random graph may have no edge
    best = 0.0
    for size in range(len(a) + 1):
        for subset in combinations(range(len(a)), size):
            chosen = np.zeros(len(a), dtype=bool)
            chosen[list(subset)] = True
            if loads(a, b, chosen, n).max(initial=0) <= capacity:
                best = max(best, float(w[chosen].sum()))
    return best


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30), st.sampled_from([1, 2, 3]))
def test_no_member_exceeds_k(seed: int, n: int, capacity: int) -> None:
    a, b, w = random_graph(seed, n, 5)
    for solve in SOLVERS:
        assert loads(a, b, solve(a, b, w, capacity), n).max(initial=0) <= capacity


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 25))
def test_per_member_capacities_are_respected(seed: int, n: int) -> None:
    a, b, w = random_graph(seed, n, 6)
    capacity = np.random.default_rng(seed).integers(0, 3, n)
    for solve in SOLVERS:
        assert np.all(loads(a, b, solve(a, b, w, capacity), n) <= capacity)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 40), st.sampled_from([1, 2]))
def test_greedy_is_the_sorted_greedy(seed: int, n: int, capacity: int) -> None:
    a, b, w = random_graph(seed, n, 6)
    w = np.round(w, 1)  # ties, broken by position
    room, expected = np.full(n, capacity), np.zeros(len(a), dtype=bool)
    for edge in np.argsort(-w, kind="stable"):
        if room[a[edge]] and room[b[edge]]:
            expected[edge], room[a[edge]], room[b[edge]] = (
                True,
                room[a[edge]] - 1,
                room[b[edge]] - 1,
            )
    np.testing.assert_array_equal(greedy_matching(a, b, w, capacity), expected)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.sampled_from([1, 2]))
@example(seed=31, n=2, capacity=1)  # a graph without edges
def test_exact_is_the_brute_force_optimum(seed: int, n: int, capacity: int) -> None:
    a, b, w = random_graph(seed, n, 3)
    chosen = exact_matching(a, b, w, capacity)
    assert w[chosen].sum() == pytest.approx(brute_force_optimum(a, b, w, capacity), rel=1e-7)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 60))
def test_exact_agrees_with_networkx(seed: int, n: int) -> None:
    networkx = pytest.importorskip("networkx")
    a, b, w = random_graph(seed, n, 4)
    graph = networkx.Graph()
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    reference = sum(graph[x][y]["weight"] for x, y in networkx.max_weight_matching(graph))
    assert w[exact_matching(a, b, w)].sum() == pytest.approx(reference, rel=1e-7)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.integers(80, 300), st.sampled_from([1, 2]), st.booleans())
@example(seed=674, n=87, capacity=1, bipartite=False)  # 0.979: drawn once, failed at 0.98
@example(seed=812, n=87, capacity=1, bipartite=False)  # 0.976, the worst of 480 graphs of 87
def test_production_reaches_97_percent_of_exact_and_never_more(
    seed: int, n: int, capacity: int, bipartite: bool
) -> None:
    graph = candidates(seed, n, bipartite)
    w = graph.score.astype(np.float64)
    sides = synthetic_population(n, seed=seed).members.gender
    optimum = w[exact_matching(graph.a, graph.b, w, capacity, sides)].sum()
    production = w[max_weight_matching(graph.a, graph.b, w, capacity)].sum()
    assert production <= optimum * (1 + 1e-7)
    # A floor, not the typical figure: on graphs of 80-300 members the local search has little
    # room, and of 480 graphs of 87 members the worst reached 0.976 (most are above 0.99;
    # bench/matcher.py measures 0.990-0.996 on 2,000 members).
    assert production >= 0.97 * optimum
    assert production >= w[greedy_matching(graph.a, graph.b, w, capacity)].sum() - 1e-9


def test_bipartite_and_general_exact_solvers_agree() -> None:
    graph = candidates(1, 300, bipartite=True)
    w = graph.score.astype(np.float64)
    sides = synthetic_population(300, seed=1).members.gender
    assert np.all(sides[graph.a] != sides[graph.b])
    bipartite = w[exact_matching(graph.a, graph.b, w, 1, sides)].sum()
    general = w[exact_matching(graph.a, graph.b, w, 1)].sum()
    assert bipartite == pytest.approx(general, rel=1e-7)


def test_assignment_uses_only_candidate_edges_so_never_a_forbidden_pair() -> None:
    synthetic = synthetic_population(500, seed=8)
    members, filters = synthetic.members, synthetic.filters
    first = assign(candidate_graph(members, filters, SCORER))
    filters = type(filters)(
        filters.eligible, filters.seeks, filters.forbidden.with_pairs(first.a, first.b)
    )
    graph = candidate_graph(members, filters, SCORER)
    second = assign(graph, capacity=2)
    assert not filters.forbidden.contains(second.a, second.b).any()
    assert set(pair_keys(500, second.a, second.b)) <= set(pair_keys(500, graph.a, graph.b))
    assert loads(second.a, second.b, np.ones(len(second), dtype=bool), 500).max() <= 2
    assert second.total == pytest.approx(float(second.score.sum()))


def test_exposure_shifts_proposals_to_members_not_proposed_lately() -> None:
    # 0 is member 1's best candidate, but 0 has been proposed every day of the week
    graph = CandidateGraph(np.array([0, 1]), np.array([1, 2]), np.array([0.6, 0.5]))
    exposure = np.array([7.0, 0.0, 0.0])
    discounted = exposure_discount(graph.a, graph.b, graph.score, exposure)
    np.testing.assert_allclose(discounted, [0.6 / 8**0.5, 0.5])
    assert (assign(graph).a.tolist(), assign(graph).b.tolist()) == ([0], [1])
    rested = assign(graph, exposure=exposure)
    assert (rested.a.tolist(), rested.b.tolist()) == ([1], [2])
    assert rested.total == pytest.approx(0.5)  # the total is of scores, not discounted ones


def test_empty_graphs_assign_nothing() -> None:
    empty = np.zeros(0, dtype=np.int64)
    for solve in SOLVERS:
        assert len(solve(empty, empty, np.zeros(0), np.zeros(3, dtype=int))) == 0
