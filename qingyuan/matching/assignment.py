"""The daily assignment (DESIGN §6): at most K proposals per member, maximum total score.

Choosing the day's proposals from the candidate graph is a maximum-weight b-matching: pick
edges so that member v is in at most ``capacity[v]`` of them (K = 1: a matching) and the sum
of their weights is largest. Exact solvers are far too slow for a million members, so the
production path is greedy plus local search, checked against exact references on small
graphs (≥ 0.98 of the optimum is the bar; ``bench/matcher.py`` measures it).

**Congestion.** Today's K caps a member's proposals for the day, but not over days: the
members everybody scores highly would be proposed every single day while others never are.
:func:`exposure_discount` scales an edge's weight by ``(1 + exposure)^-strength`` at both
ends, exposure being the proposals a member received recently, so a member proposed all week
yields to comparable partners who were not. (Candidate generation also caps how many lists
one member appears on; see :mod:`qingyuan.matching.candidates`.)

**Greedy.** Sorting edges by weight and taking each whose ends both have room is a
1/2-approximation that in practice reaches ~0.95–0.99. It is sequential as written, so it runs
as rounds of *locally dominant* edges instead: an edge that is among the ``room[v]`` heaviest
remaining edges at both of its ends is taken by the sorted greedy whatever happens before it,
so all such edges are taken at once, saturated members drop out, and the round repeats. With
ties broken by position this gives exactly the sorted greedy's result, in a few vectorised
passes per round.

**Local search.** Then rounds of improving moves, each a short augmenting path or cycle:

- *add* an unused edge (x, y), each end dropping its lightest proposal if full — gain
  ``w − price(x) − price(y)``, price being that lightest weight (0 with room to spare);
- *swap* a used edge (u, v) for (x, u) and (v, y) — gain
  ``offer(u) + offer(v) − w(u, v)``, offer(u) being the best ``w(x, u) − price(x)`` over x;
  when x and y are partners this is a swap of partners between two pairs.

Moves are chosen by gain, at most one per member per round (each member keeps the best move
touching it), so gains add up exactly and every round strictly improves the total; rounds
stop when nothing improves or after ``rounds``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from qingyuan.matching.candidates import CandidateGraph

_NONE = -1
_TOLERANCE = 1e-9  # gains below this are rounding, not improvement


@dataclass(frozen=True)
class Assignment:
    """The chosen pairs (a[i], b[i]) and their reciprocal scores."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    @property
    def total(self) -> float:
        return float(np.sum(self.score, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.a)


def assign(
    graph: CandidateGraph,
    capacity: int | np.ndarray = 1,
    exposure: np.ndarray | None = None,
    strength: float = 0.5,
    rounds: int = 20,
) -> Assignment:
    """Today's proposals: greedy plus local search on the exposure-discounted scores.

    ``capacity`` is K for everyone or one K per member; ``exposure`` (optional, per member)
    is recent proposals received, see :func:`exposure_discount`.
    """
    weight = graph.score.astype(np.float64)
    if exposure is not None:
        weight = exposure_discount(graph.a, graph.b, weight, exposure, strength)
    chosen = max_weight_matching(graph.a, graph.b, weight, capacity, rounds)
    return Assignment(graph.a[chosen], graph.b[chosen], graph.score[chosen])


def exposure_discount(
    a: np.ndarray, b: np.ndarray, score: np.ndarray, exposure: np.ndarray, strength: float = 0.5
) -> np.ndarray:
    """``score · ((1 + exposure[a]) · (1 + exposure[b]))^-strength``: a member proposed to
    every day of the window weighs (1 + 7)^-0.5 ≈ 0.35 of one proposed to nobody."""
    scale = (1.0 + exposure[a]) * (1.0 + exposure[b])
    return score * scale**-strength


def greedy_matching(
    a: np.ndarray, b: np.ndarray, weight: np.ndarray, capacity: int | np.ndarray = 1
) -> np.ndarray:
    """Mask of the edges the sorted greedy takes (heaviest first, ties by position)."""
    graph = _Graph.of(a, b, weight, capacity)
    return graph.in_input_order(_greedy(graph))


def max_weight_matching(
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    capacity: int | np.ndarray = 1,
    rounds: int = 20,
    depth: int = 3,
) -> np.ndarray:
    """Mask of the production b-matching: greedy, then up to ``rounds`` of local search with
    paths of up to ``depth`` added edges."""
    graph = _Graph.of(a, b, weight, capacity)
    return graph.in_input_order(_local_search(graph, _greedy(graph), rounds, depth))


def exact_matching(
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    capacity: int | np.ndarray = 1,
    sides: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of a maximum-weight b-matching, for measuring the production path.

    With K = 1 and ``sides`` (e.g. gender) separating every edge, the graph is bipartite
    and scipy's ``min_weight_full_bipartite_matching`` solves it; otherwise an integer
    program (HiGHS via ``scipy.optimize.milp``), which is exact for general graphs and any
    K but only practical up to a few tens of thousands of edges.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    room = _capacities(capacity, a, b)
    usable = (weight > 0) & (room[a] > 0) & (room[b] > 0)
    chosen = np.zeros(len(a), dtype=bool)
    edges = np.flatnonzero(usable)
    bipartite = sides is not None and bool(np.all(sides[a[edges]] != sides[b[edges]]))
    if bipartite and room.max(initial=0) <= 1:
        picked = _bipartite_exact(a[edges], b[edges], weight[edges], np.asarray(sides))
    else:
        picked = _integer_program(a[edges], b[edges], weight[edges], room)
    chosen[edges[picked]] = True
    return chosen


def _capacities(capacity: int | np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.ndim(capacity):
        return np.asarray(capacity, dtype=np.int64)
    size = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    return np.full(size, int(capacity), dtype=np.int64)


@dataclass(frozen=True)
class _Graph:
    """Edges relabelled by rank (0 = heaviest, ties by input position) and their incidence
    list: one entry per (member, edge) end, sorted by member, then rank, so the first
    entries of a member's run are its heaviest edges. ``side`` tells which end (a or b)."""

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray
    order: np.ndarray
    capacity: np.ndarray
    vertex: np.ndarray
    edge: np.ndarray
    side: np.ndarray

    @classmethod
    def of(
        cls, a: np.ndarray, b: np.ndarray, weight: np.ndarray, capacity: int | np.ndarray
    ) -> _Graph:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        room = _capacities(capacity, a, b)
        order = np.argsort(-np.asarray(weight, dtype=np.float64), kind="stable")
        size = len(order)
        # sort the ends by (member, rank) with one int64 sort of packed keys
        ends = np.concatenate([a[order], b[order]]) * (2 * size)
        ends += np.concatenate([2 * np.arange(size), 2 * np.arange(size) + 1])
        ends.sort()
        return cls(
            a=a[order],
            b=b[order],
            weight=np.asarray(weight, dtype=np.float64)[order],
            order=order,
            capacity=room,
            vertex=ends // (2 * size) if size else ends,
            edge=(ends % (2 * size)) // 2 if size else ends,
            side=(ends % 2).astype(bool),
        )

    def in_input_order(self, chosen: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(chosen), dtype=bool)
        mask[self.order[chosen]] = True
        return mask

    def load(self, chosen: np.ndarray) -> np.ndarray:
        """Proposals per member in ``chosen`` (a mask or edge ranks)."""
        size = len(self.capacity)
        return np.bincount(self.a[chosen], minlength=size) + np.bincount(
            self.b[chosen], minlength=size
        )

    def other(self, edge: np.ndarray, member: np.ndarray) -> np.ndarray:
        """The far end of each edge from ``member``; ``_NONE`` for no edge."""
        safe = np.maximum(edge, 0)
        far = np.where(self.a[safe] == member, self.b[safe], self.a[safe])
        return np.where(edge >= 0, far, _NONE)


def _run_positions(sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each entry within its run of equal keys (keys sorted)."""
    first = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return np.arange(len(sorted_keys)) - np.repeat(first, np.diff(np.r_[first, len(sorted_keys)]))


def _greedy(graph: _Graph) -> np.ndarray:
    """Rounds of locally dominant edges (module docstring); chosen mask by rank."""
    room = graph.capacity.copy()
    chosen = np.zeros(len(graph.a), dtype=bool)
    alive = np.zeros(len(graph.a), dtype=bool)
    edges = np.flatnonzero((room[graph.a] > 0) & (room[graph.b] > 0))
    vertex, edge, side = graph.vertex, graph.edge, graph.side
    while len(edges):
        alive[:] = False
        alive[edges] = True
        live = alive[edge]
        vertex, edge, side = vertex[live], edge[live], side[live]
        dominant = _run_positions(vertex) < room[vertex]
        at_a, at_b = np.zeros_like(alive), np.zeros_like(alive)
        at_a[edge[dominant & ~side]] = True
        at_b[edge[dominant & side]] = True
        taken = edges[at_a[edges] & at_b[edges]]
        chosen[taken] = True
        room -= graph.load(taken)
        edges = edges[~chosen[edges] & (room[graph.a[edges]] > 0) & (room[graph.b[edges]] > 0)]
    return chosen


@dataclass(frozen=True)
class _Moves:
    """Candidate moves: gain, edges added (≤ 2) and dropped (≤ 3), members touched (≤ 6);
    ``_NONE`` pads the unused slots."""

    gain: np.ndarray
    added: np.ndarray
    dropped: np.ndarray
    touched: np.ndarray

    def rows(self, keep: np.ndarray) -> _Moves:
        return _Moves(*(getattr(self, name)[keep] for name in _FIELDS))

    @staticmethod
    def concatenate(parts: list[_Moves]) -> _Moves:
        """All moves in one table, narrower tables padded with ``_NONE``."""
        columns = {}
        for name in _FIELDS[1:]:
            width = max(getattr(part, name).shape[1] for part in parts)
            columns[name] = np.concatenate([_padded(getattr(part, name), width) for part in parts])
        return _Moves(np.concatenate([part.gain for part in parts]), **columns)


def _padded(table: np.ndarray, width: int) -> np.ndarray:
    return np.pad(table, ((0, 0), (0, width - table.shape[1])), constant_values=_NONE)


def _local_search(graph: _Graph, chosen: np.ndarray, rounds: int, depth: int) -> np.ndarray:
    chosen = chosen.copy()
    for _ in range(rounds):
        moves = _candidate_moves(graph, chosen, depth)
        accepted = _disjoint_best(moves, len(graph.capacity))
        if not accepted.any():
            break
        added, dropped = moves.added[accepted].ravel(), moves.dropped[accepted].ravel()
        chosen[dropped[dropped >= 0]] = False
        chosen[added[added >= 0]] = True
    return chosen


def _candidate_moves(graph: _Graph, chosen: np.ndarray, depth: int) -> _Moves:
    price, drop = _prices(graph, chosen)
    paths = _path_moves(graph, chosen, price, drop, depth)
    return _Moves.concatenate([*paths, _swap_moves(graph, chosen, price, drop)])


_FIELDS = ("gain", "added", "dropped", "touched")


def _prices(graph: _Graph, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per member: what taking one more proposal costs (the weight of their lightest
    proposal if full, 0 with room, ∞ with capacity 0) and which edge would go."""
    size = len(graph.capacity)
    full = graph.load(chosen) >= graph.capacity
    used = chosen[graph.edge]
    vertex, edge = graph.vertex[used], graph.edge[used]
    last = np.r_[vertex[1:] != vertex[:-1], True] if len(vertex) else used[:0]
    lightest = np.full(size, _NONE)
    lightest[vertex[last]] = edge[last]  # runs are by rank: the last is the lightest
    drop = np.where(full, lightest, _NONE)
    price = np.where(drop >= 0, graph.weight[np.maximum(drop, 0)], 0.0)
    return np.where(graph.capacity > 0, price, np.inf), drop


def _path_moves(
    graph: _Graph, chosen: np.ndarray, price: np.ndarray, drop: np.ndarray, depth: int
) -> list[_Moves]:
    """Improving alternating paths of up to ``depth`` added edges, by dynamic programming.

    A path starts at y0, which takes a new edge to x1 (dropping its own lightest proposal if
    full); x1, if full, drops one of its proposals, which frees its partner y1; y1 takes a
    new edge to x2, and so on; the last x drops its lightest if full. ``best[v]`` is the best
    gain of a path so far that leaves v with a slot to fill, so each level is one vectorised
    pass over the unused edges of the members reached. A path that meets a member twice
    has a wrong gain and is discarded when traced back.
    """
    size = len(graph.capacity)
    unused = _Runs.of(graph.vertex, ~chosen[graph.edge], size)
    held = _Runs.of(graph.vertex, chosen[graph.edge], size)
    best, back, moves = -price, [], []
    for level in range(depth):
        entries = unused.of_members(np.flatnonzero(best > -np.inf))
        edge = graph.edge[entries]
        end = np.where(graph.side[entries], graph.a[edge], graph.b[edge])
        reached = best[graph.vertex[entries]] + graph.weight[edge]
        value = reached - price[end]
        last = _path_ends(graph, entries, value, end, level)
        moves.append(_traced(graph, drop, back, entries[last], value[last]))
        if level + 1 < depth:
            best, step = _continued(graph, held, entries, reached, end)
            back.append(step)
    return moves


@dataclass(frozen=True)
class _Runs:
    """Selected incidence positions grouped by member: member v's are
    ``positions[first[v] : first[v] + count[v]]``."""

    positions: np.ndarray
    first: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, vertex: np.ndarray, selected: np.ndarray, size: int) -> _Runs:
        positions = np.flatnonzero(selected)
        count = np.bincount(vertex[positions], minlength=size)
        return cls(positions, np.cumsum(count) - count, count)

    def of_members(self, members: np.ndarray) -> np.ndarray:
        """The positions of ``members``, member by member."""
        count = self.count[members]
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return self.positions[np.repeat(self.first[members], count) + offset]


def _continued(
    graph: _Graph, held: _Runs, entries: np.ndarray, reached: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Extend each path by one drop at its end x: for every proposal (x, y') x holds, y' is
    freed at ``reached − w(x, y')``. Returns the best value per freed member and, for
    tracing, the incidence position and dropped edge that achieved it."""
    size = len(graph.capacity)
    full = np.flatnonzero(held.count[end] >= graph.capacity[end])
    drops = held.of_members(end[full])
    path = np.repeat(full, held.count[end[full]])
    dropped = graph.edge[drops]
    freed = graph.other(dropped, end[path])
    value = reached[path] - graph.weight[dropped]
    best = np.full(size, -np.inf)
    np.maximum.at(best, freed, value)
    winners = np.flatnonzero(value == best[freed])
    via, via_edge = np.full(size, _NONE), np.full(size, _NONE)
    via[freed[winners]] = entries[path[winners]]
    via_edge[freed[winners]] = dropped[winners]
    return best, (via, via_edge)


def _path_ends(
    graph: _Graph, entries: np.ndarray, value: np.ndarray, end: np.ndarray, level: int
) -> np.ndarray:
    """The best improving path ending at each member, as indexes into ``entries``; a
    one-edge path is found from both of its ends, so only the a end is kept."""
    ends = np.flatnonzero(value > _TOLERANCE)
    if level == 0:
        ends = ends[~graph.side[entries[ends]]]
    top = np.full(len(graph.capacity), -np.inf)
    np.maximum.at(top, end[ends], value[ends])
    return ends[value[ends] == top[end[ends]]]


def _traced(
    graph: _Graph,
    drop: np.ndarray,
    back: list[tuple[np.ndarray, np.ndarray]],
    last: np.ndarray,
    gain: np.ndarray,
) -> _Moves:
    """Follow ``back`` from each path's final step (an incidence position) to its start,
    collecting the edges added and dropped and the members touched; paths that visit a
    member twice are discarded."""
    position = last
    y, e = graph.vertex[position], graph.edge[position]
    x = np.where(graph.side[position], graph.a[e], graph.b[e])
    added, dropped, touched = [e], [drop[x]], [x, graph.other(drop[x], x), y]
    for via, via_edge in reversed(back):
        position, lost = via[y], via_edge[y]
        y, e = graph.vertex[position], graph.edge[position]
        added.append(e)
        dropped.append(lost)
        touched += [np.where(graph.side[position], graph.a[e], graph.b[e]), y]
    dropped.append(drop[y])
    touched.append(graph.other(drop[y], y))
    moves = _Moves(gain, *(np.stack(columns, axis=1) for columns in (added, dropped, touched)))
    return moves.rows(~_repeats(moves.touched))


def _repeats(members: np.ndarray) -> np.ndarray:
    """Rows of a (moves, slots) member matrix that name some member twice."""
    ordered = np.sort(members, axis=1)
    return ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(axis=1)


def _swap_moves(graph: _Graph, chosen: np.ndarray, price: np.ndarray, drop: np.ndarray) -> _Moves:
    """Replace each used edge (u, v) by the best offers at u and at v from distinct members."""
    offers = _best_offers(graph, chosen, price)
    used = np.flatnonzero(chosen)
    u, v = graph.a[used], graph.b[used]
    best = np.full(len(used), -np.inf)
    pick = np.zeros((len(used), 2), dtype=np.int64)
    for i, j in ((0, 0), (0, 1), (1, 0)):
        total = _combined(graph, offers, drop, u, v, i, j)
        better = total > best
        best = np.where(better, total, best)
        pick[better] = (i, j)
    gain = best - graph.weight[used]
    keep = gain > _TOLERANCE
    used, u, v, pick, gain = used[keep], u[keep], v[keep], pick[keep], gain[keep]
    add_u, add_v = offers.edge[u, pick[:, 0]], offers.edge[v, pick[:, 1]]
    x, y = graph.other(add_u, u), graph.other(add_v, v)
    drop_x, drop_y = np.where(x >= 0, drop[x], _NONE), np.where(y >= 0, drop[y], _NONE)
    drop_y = np.where(drop_y == drop_x, _NONE, drop_y)
    far = [graph.other(drop_x, x), graph.other(drop_y, y)]
    return _Moves(
        gain,
        np.stack([add_u, add_v], axis=1),
        np.stack([used, drop_x, drop_y], axis=1),
        np.stack([u, v, x, y, *far], axis=1),
    )


@dataclass(frozen=True)
class _Offers:
    """The two best offers at each member: value ``w(x, v) − price(x)`` over unused edges,
    clipped at 0 (no offer), and the offering edge (``_NONE`` for none); shape (n, 2)."""

    value: np.ndarray
    edge: np.ndarray


def _best_offers(graph: _Graph, chosen: np.ndarray, price: np.ndarray) -> _Offers:
    size = len(graph.capacity)
    far = np.where(graph.side, graph.a[graph.edge], graph.b[graph.edge])
    value = graph.weight[graph.edge] - price[far]
    entries = np.flatnonzero(~chosen[graph.edge] & (value > _TOLERANCE))
    # best first within each member: sort the entries by (member, -value)
    entries = entries[np.lexsort((-value[entries], graph.vertex[entries]))]
    members = graph.vertex[entries]
    rank = _run_positions(members)
    offers = _Offers(np.zeros((size, 2)), np.full((size, 2), _NONE))
    top = rank < 2
    offers.value[members[top], rank[top]] = value[entries[top]]
    offers.edge[members[top], rank[top]] = graph.edge[entries[top]]
    return offers


def _combined(
    graph: _Graph,
    offers: _Offers,
    drop: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    i: int,
    j: int,
) -> np.ndarray:
    """Value of taking offer i at u and offer j at v together: −∞ when both come from the
    same member, plus the weight of the x–y edge when both x and y would drop it (it is
    dropped once but was priced at each end)."""
    edge_u, edge_v = offers.edge[u, i], offers.edge[v, j]
    x, y = graph.other(edge_u, u), graph.other(edge_v, v)
    total = offers.value[u, i] + offers.value[v, j]
    shared = (x >= 0) & (y >= 0) & (drop[np.maximum(x, 0)] == drop[np.maximum(y, 0)])
    shared &= drop[np.maximum(x, 0)] >= 0
    total = total + np.where(shared, graph.weight[np.maximum(drop[np.maximum(x, 0)], 0)], 0.0)
    return np.where((x >= 0) & (x == y), -np.inf, total)


def _disjoint_best(moves: _Moves, size: int) -> np.ndarray:
    """Accept each move that is the best (highest gain, then first) at every member it
    touches, so accepted moves share no member and their gains add up."""
    order = np.lexsort((np.arange(len(moves.gain)), -moves.gain))
    priority = np.empty(len(order), dtype=np.int64)
    priority[order] = np.arange(len(order))
    touched = moves.touched
    slots = touched >= 0
    best = np.full(size, len(order), dtype=np.int64)
    np.minimum.at(best, touched[slots], np.broadcast_to(priority[:, None], touched.shape)[slots])
    holds = np.where(slots, best[np.maximum(touched, 0)] == priority[:, None], True)
    return holds.all(axis=1)


def _bipartite_exact(
    a: np.ndarray, b: np.ndarray, weight: np.ndarray, sides: np.ndarray
) -> np.ndarray:
    """K = 1 on a bipartite graph: a full matching of the left side into the right side
    plus one private dummy per left member (costs: ceiling − w for edges, ceiling for the
    dummy), so the cheapest full matching is the heaviest matching."""
    left_end = np.where(sides[a], b, a)
    right_end = np.where(sides[a], a, b)
    left, row = np.unique(left_end, return_inverse=True)
    right, column = np.unique(right_end, return_inverse=True)
    ceiling = weight.max(initial=0.0) + 1.0
    rows, dummies = len(left), len(right) + np.arange(len(left))
    costs = coo_array(
        (
            np.r_[ceiling - weight, np.full(rows, ceiling)],
            (np.r_[row, np.arange(rows)], np.r_[column, dummies]),
        ),
        shape=(rows, len(right) + rows),
    )
    matched_rows, matched_columns = min_weight_full_bipartite_matching(csr_array(costs))
    real = matched_columns < len(right)
    pairs = matched_rows[real] * (len(right) + rows) + matched_columns[real]
    return np.isin(row * (len(right) + rows) + column, pairs)


def _integer_program(
    a: np.ndarray, b: np.ndarray, weight: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """max Σ w·x subject to Σ x over each member's edges ≤ capacity, x ∈ {0, 1}."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    members, ends = np.unique(np.r_[a, b], return_inverse=True)
    columns = np.r_[np.arange(len(a)), np.arange(len(a))]
    incidence = csr_array((np.ones(2 * len(a)), (ends, columns)), shape=(len(members), len(a)))
    result = milp(
        -weight,
        constraints=LinearConstraint(incidence, -np.inf, capacity[members]),
        integrality=np.ones(len(a)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-9},
    )
    if result.x is None:
        raise RuntimeError(f"exact b-matching failed: {result.message}")
    return result.x > 0.5
