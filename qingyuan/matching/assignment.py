"""The daily assignment (docs/brief.md §6): at most K proposals per member, maximum total score.

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
1/2-approximation; on our candidate graphs it reaches ~0.92 of the optimum. It is sequential
as written, so it runs as rounds of *locally dominant* edges instead: an edge that is among the
``room[v]`` heaviest remaining edges at both of its ends is taken by the sorted greedy
whatever happens before it, so all such edges are taken at once, saturated members drop out,
and the round repeats. With ties broken by position this gives exactly the sorted greedy's
result, in a few vectorised passes per round.

**Local search.** Greedy loses most where a heavy edge blocks two nearly as heavy ones, so
rounds of improving moves follow. A member's *price* is the weight of their lightest proposal
if they are full (0 with room to spare): what taking one more proposal costs them.

- *Paths*: y0 takes a new edge to x1, x1 drops a proposal, which frees its partner y1, who
  takes a new edge to x2, … up to ``depth`` new edges; the gain is what is added minus what
  is dropped (the ends pay their price). The best path reaching each member is found by
  dynamic programming, one vectorised pass over the edges per level (Bellman–Ford style),
  and traced back; a one-edge path is the plain "add an edge" move.
- *Swaps*: a used edge (u, v) gives way to the best offers at u and at v from two other
  members — when those two are partners it is an exchange of partners between two pairs.

Each round keeps, among the improving moves found, a set that shares no member, chosen
greedily by gain, so the gains add up exactly and every round raises the total. Only edges
that could pay for themselves are searched, and after the first round only near the
members the last round changed (see :func:`_local_search`). On 2,000-member candidate graphs
this reaches ≥ 0.99 of the optimum where greedy alone reaches ~0.92.
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
_SETTLED = 1e-5  # a round adding less than this share of the total ends the search


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
) -> Assignment:
    """Today's proposals: greedy plus local search on the exposure-discounted scores.

    ``capacity`` is K for everyone or one K per member; ``exposure`` (optional, per member)
    is recent proposals received, see :func:`exposure_discount`.
    """
    weight = graph.score.astype(np.float64)
    if exposure is not None:
        weight = exposure_discount(graph.a, graph.b, weight, exposure, strength)
    chosen = max_weight_matching(graph.a, graph.b, weight, capacity)
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
    rounds: int = 30,
    depth: int = 4,
    breadth: int = 3,
) -> np.ndarray:
    """Mask of the production b-matching: greedy, then up to ``rounds`` of local search with
    paths of up to ``depth`` added edges (module docstring; ``breadth``: see
    ``_candidate_moves``)."""
    graph = _Graph.of(a, b, weight, capacity)
    chosen = _local_search(graph, _greedy(graph), rounds, depth, breadth)
    return graph.in_input_order(chosen)


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
    entries of a member's run are its heaviest edges. ``side`` tells which end of the edge
    the member is (False: a), ``far`` who is at the other. Ids are int32 (a million members'
    graph of 25M edges takes 46 bytes an edge, ~1.2 GB)."""

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray
    order: np.ndarray
    capacity: np.ndarray
    vertex: np.ndarray
    edge: np.ndarray
    side: np.ndarray
    far: np.ndarray

    @classmethod
    def of(
        cls, a: np.ndarray, b: np.ndarray, weight: np.ndarray, capacity: int | np.ndarray
    ) -> _Graph:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        weight = np.asarray(weight, dtype=np.float64)
        order = np.argsort(-weight, kind="stable")
        a, b, size = a[order].astype(np.int32), b[order].astype(np.int32), max(len(order), 1)
        # sort the ends by (member, rank) with one int64 sort of packed keys
        ends = np.concatenate([a, b]).astype(np.int64) * (2 * size)
        ends += np.concatenate([2 * np.arange(len(a)), 2 * np.arange(len(a)) + 1])
        ends.sort()
        edge, side = (ends % (2 * size) // 2).astype(np.int32), (ends % 2).astype(bool)
        return cls(
            a=a,
            b=b,
            weight=weight[order],
            order=order.astype(np.int32),
            capacity=_capacities(capacity, a, b),
            vertex=(ends // (2 * size)).astype(np.int32),
            edge=edge,
            side=side,
            far=np.where(side, a[edge], b[edge]),
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


def _run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Mask of the entries that start a run of equal keys (keys sorted)."""
    return np.r_[True, sorted_keys[1:] != sorted_keys[:-1]][: len(sorted_keys)]


def _run_positions(sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each entry within its run of equal keys (keys sorted)."""
    first = np.flatnonzero(_run_starts(sorted_keys))
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


def _local_search(
    graph: _Graph, chosen: np.ndarray, rounds: int, depth: int, breadth: int
) -> np.ndarray:
    """Rounds of disjoint improving moves until a round adds less than ``_SETTLED`` of the
    total. After the first round only moves near the last round's changes are sought: any
    move still improving touches a member that changed (every other move found was either
    taken or clashed with one that was), so the search narrows to those members and their
    neighbours and late rounds cost a fraction of the first."""
    chosen = chosen.copy()
    if not chosen.any():  # nothing to improve: greedy takes an edge whenever there is one
        return chosen
    region = np.ones(len(graph.capacity), dtype=bool)
    total = graph.weight[chosen].sum()
    for _ in range(rounds):
        moves = _candidate_moves(graph, chosen, region, depth, breadth)
        accepted = _disjoint_best(moves, len(graph.capacity))
        added, dropped = moves.added[accepted].ravel(), moves.dropped[accepted].ravel()
        chosen[dropped[dropped >= 0]] = False
        chosen[added[added >= 0]] = True
        gain = moves.gain[accepted].sum()
        total += gain
        if gain <= _SETTLED * total:
            break
        region = _around(graph, moves.touched[accepted])
    return chosen


def _around(graph: _Graph, members: np.ndarray) -> np.ndarray:
    """Mask of ``members`` (``_NONE`` ignored) and their neighbours."""
    region = np.zeros(len(graph.capacity), dtype=bool)
    region[members[members >= 0]] = True
    region[graph.far[region[graph.vertex]]] = True
    return region


def _candidate_moves(
    graph: _Graph, chosen: np.ndarray, region: np.ndarray, depth: int, breadth: int
) -> _Moves:
    """Paths and swaps that would raise the total, built from *offers*: unused edges (y, x)
    with an end in ``region`` that are heavier than x's price (worth more than what x gives
    up for them) or among y's ``breadth`` heaviest such edges. Most unused edges of a good
    matching are neither, so this cuts the work several times for a small loss of moves."""
    state = _State.of(graph, chosen)
    near = region[graph.a] | region[graph.b]
    entries = np.flatnonzero(near[graph.edge] & ~chosen[graph.edge])
    edge = graph.edge[entries]
    pays = graph.weight[edge] - state.price[graph.far[entries]] > _TOLERANCE
    heavy = _run_positions(graph.vertex[entries]) < breadth
    offers = _Runs.of(graph.vertex[entries[pays | heavy]], entries[pays | heavy], state.size)
    paths = _path_moves(graph, state, offers, depth)
    swaps = _swap_moves(graph, state, offers, np.flatnonzero(chosen & near))
    return _Moves.concatenate([*paths, swaps])


_FIELDS = ("gain", "added", "dropped", "touched")


@dataclass(frozen=True)
class _Runs:
    """Items grouped by member: member v's are ``items[first[v] : first[v] + count[v]]``."""

    items: np.ndarray
    first: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, members: np.ndarray, items: np.ndarray, size: int) -> _Runs:
        """Group ``items`` by ``members`` (one member per item, sorted)."""
        count = np.bincount(members, minlength=size)
        return cls(items, np.cumsum(count) - count, count)

    def of_members(self, members: np.ndarray) -> np.ndarray:
        """The items of ``members``, member by member."""
        count = self.count[members]
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return self.items[np.repeat(self.first[members], count) + offset]


@dataclass(frozen=True)
class _State:
    """The current proposals as the moves see them: each member's held edges (by rank), and
    what taking one more proposal costs them — ``price``, the weight of their lightest held
    edge if full, 0 with room, ∞ with capacity 0 — and which edge would go (``drop``)."""

    held: _Runs
    price: np.ndarray
    drop: np.ndarray

    @property
    def size(self) -> int:
        return len(self.price)

    @classmethod
    def of(cls, graph: _Graph, chosen: np.ndarray) -> _State:
        size = len(graph.capacity)
        used, edges = np.flatnonzero(chosen), max(len(graph.a), 1)
        ends = np.r_[graph.a[used], graph.b[used]].astype(np.int64) * edges + np.r_[used, used]
        ends.sort()
        members, edges = ends // edges, ends % edges
        held = _Runs.of(members, edges, size)
        has = held.count > 0
        lightest = np.full(size, _NONE)
        lightest[has] = edges[held.first[has] + held.count[has] - 1]
        drop = np.where(held.count >= graph.capacity, lightest, _NONE)
        price = np.where(drop >= 0, graph.weight[np.maximum(drop, 0)], 0.0)
        return cls(held, np.where(graph.capacity > 0, price, np.inf), drop)


def _path_moves(graph: _Graph, state: _State, offers: _Runs, depth: int) -> list[_Moves]:
    """Improving alternating paths of up to ``depth`` added edges, by dynamic programming.

    A path starts at y0, which takes a new edge to x1 (dropping its own lightest proposal if
    full); x1, if full, drops one of its proposals, which frees its partner y1; y1 takes a
    new edge to x2, and so on; the last x drops its lightest if full. ``best[v]`` is the best
    gain of a path so far that leaves v with a slot to fill, so each level is one vectorised
    pass over the offers of the members reached. A path that meets a member twice has a
    wrong gain and is discarded when traced back.
    """
    reach = _heaviest_offer(graph, offers)
    best = -state.price
    back: list[tuple[np.ndarray, np.ndarray]] = []
    moves: list[_Moves] = []
    for level in range(depth):
        entries = offers.of_members(np.flatnonzero(best > -np.inf))
        end = graph.far[entries]
        reached = best[graph.vertex[entries]] + graph.weight[graph.edge[entries]]
        value = reached - state.price[end]
        last = _path_ends(graph, entries, value, end, level)
        moves.append(_traced(graph, state.drop, back, entries[last], value[last]))
        if level + 1 < depth:
            best, step = _continued(graph, state.held, entries, reached, end)
            best[best + reach < _TOLERANCE] = -np.inf
            back.append(step)
    return moves


def _heaviest_offer(graph: _Graph, offers: _Runs) -> np.ndarray:
    """Per member, the weight of their heaviest offer (0 for none): the most that one more
    step of a path can add, used to prune paths too far below zero to recover."""
    heaviest = np.zeros(len(graph.capacity))
    has = offers.count > 0
    # runs are by rank, so a member's first offer is their heaviest
    heaviest[has] = graph.weight[graph.edge[offers.items[offers.first[has]]]]
    return heaviest


def _continued(
    graph: _Graph, held: _Runs, entries: np.ndarray, reached: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Extend each path by one drop at its end x: for every proposal (x, y') x holds, y' is
    freed at ``reached − w(x, y')``. Returns the best value per freed member and, for
    tracing, the incidence position and dropped edge that achieved it."""
    size = len(graph.capacity)
    full = np.flatnonzero(held.count[end] >= graph.capacity[end])
    dropped = held.of_members(end[full])
    path = np.repeat(full, held.count[end[full]])
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
    x = graph.far[position]
    added, dropped, touched = [e], [drop[x]], [x, graph.other(drop[x], x), y]
    for via, via_edge in reversed(back):
        position, lost = via[y], via_edge[y]
        y, e = graph.vertex[position], graph.edge[position]
        added.append(e)
        dropped.append(lost)
        touched += [graph.far[position], y]
    dropped.append(drop[y])
    touched.append(graph.other(drop[y], y))
    moves = _Moves(gain, *(np.stack(columns, axis=1) for columns in (added, dropped, touched)))
    return moves.rows(~_repeats(moves.touched))


def _repeats(members: np.ndarray) -> np.ndarray:
    """Rows of a (moves, slots) member matrix that name some member twice."""
    ordered = np.sort(members, axis=1)
    return ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(axis=1)


def _swap_moves(graph: _Graph, state: _State, offered: _Runs, used: np.ndarray) -> _Moves:
    """Replace each used edge (u, v) in ``used`` (ranks) by the best offers at u and at v
    from distinct members."""
    offers = _best_offers(graph, state.price, offered)
    drop = state.drop
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


def _best_offers(graph: _Graph, price: np.ndarray, offered: _Runs) -> _Offers:
    size = len(graph.capacity)
    entries = offered.items
    value = graph.weight[graph.edge[entries]] - price[graph.far[entries]]
    entries, value = entries[value > _TOLERANCE], value[value > _TOLERANCE]
    members = graph.vertex[entries]
    offers = _Offers(np.zeros((size, 2)), np.full((size, 2), _NONE))
    for slot in range(2):
        top = np.full(size, -np.inf)
        np.maximum.at(top, members, value)
        hits = np.flatnonzero(value == top[members])
        hits = hits[_run_starts(members[hits])]  # the first per member
        offers.value[members[hits], slot] = value[hits]
        offers.edge[members[hits], slot] = graph.edge[entries[hits]]
        value[hits] = -np.inf
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
    """The moves the greedy by gain (ties: first) accepts when no two may share a member.

    Computed in passes: a move that is the best at every member it touches is accepted, the
    moves touching an accepted move's members are discarded, and the rest go on to the next
    pass. A move's gain depends only on the proposals of the members it touches, so the gains
    of the accepted moves add up exactly.
    """
    order = np.lexsort((np.arange(len(moves.gain)), -moves.gain))
    priority = np.empty(len(order), dtype=np.int64)
    priority[order] = np.arange(len(order))
    accepted = np.zeros(len(order), dtype=bool)
    used = np.zeros(size, dtype=bool)
    pending = np.arange(len(order))
    while len(pending):
        touched = moves.touched[pending]
        slots = touched >= 0
        best = np.full(size, len(order), dtype=np.int64)
        rank = np.broadcast_to(priority[pending, None], touched.shape)
        np.minimum.at(best, touched[slots], rank[slots])
        wins = np.where(slots, best[np.maximum(touched, 0)] == rank, True).all(axis=1)
        accepted[pending[wins]] = True
        used[touched[wins][slots[wins]]] = True
        clash = np.where(slots, used[np.maximum(touched, 0)], False).any(axis=1)
        pending = pending[~clash]
    return accepted


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
