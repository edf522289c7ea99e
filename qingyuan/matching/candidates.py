"""Candidate generation for the daily match (docs/brief.md §6): two-way hard filters, top-k graph.

Scoring every compatible pair is out of reach — a million members in one province leave each
tens of thousands of compatible partners — so the daily run builds a sparse graph instead:

1. **Buckets.** Eligible members of a partition are sorted by (gender, city, age band) and,
   inside a bucket, by a per-day hash of their id. A seeker's compatible members then lie in a
   few contiguous runs of that order — one per gender sought × acceptable city, each spanning
   the age bands of the seeker's range — found with two ``searchsorted`` per run. Nothing
   outside those runs is ever looked at.
2. **The cap.** From the concatenation of their runs (T members) each seeker draws at most
   ``sample`` (M) candidates by systematic sampling: positions ⌊(j + u)·T/M⌋ for j < M with one
   hashed offset u per seeker and day. That bounds the work at n·M pairs whatever the bucket
   sizes, never draws the same candidate twice, and spreads the draw evenly over the runs'
   cities and age bands (the runs are sorted by them); the daily hash changes the draw every
   day, so over a week a seeker meets a fresh slice of a large pool. When T ≤ M every
   compatible member is drawn.
3. **Exact filters.** Buckets only narrow the search; every drawn pair then passes the full
   two-way check (:func:`compatible`), including the forbidden pairs.
4. **Scores and top-k.** Drawn pairs are scored in batches with the reciprocal score (both
   directions of :func:`~qingyuan.matching.features.pair_features` through the fast linear
   scorer) and each seeker keeps its ``k`` best with ``np.argpartition`` on a (seekers × M)
   grid. Only these lists are kept, so memory is O(n·k) plus one batch.
5. **Congestion.** A popular member would appear in thousands of lists and crowd out
   everyone else's options; a member stays on at most ``max_listed`` lists, those where the
   pair scores best. The seekers who lose such an entry keep their less contested
   candidates, the ones the assignment could actually give them.
6. The union of the lists, deduplicated, is the undirected graph (a < b, score).

Partitions. Everything is computed on global member ids and every random choice is a hash of
(seed, id), so a partition's graph does not depend on which other partitions exist: when no
compatible pair crosses partitions, the per-partition graphs concatenate to the
whole-population graph, and the daily run can hand partitions (provinces, by default) to
separate workers. A seeker who accepts any city is matched within their own partition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from qingyuan.matching.features import Members, pair_features
from qingyuan.matching.scoring import PairScorer, reciprocal_score

AGE_ORIGIN = 18.0  # youngest age of the first band; older than AGE_LIMIT shares the last one
AGE_LIMIT = 70.0
PROVINCE = 10_000  # region // PROVINCE: GB/T 2260 province; // 100 is the city
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class ForbiddenPairs:
    """Unordered pairs that may not be proposed today, as sorted unique keys ``lo·size + hi``.

    Blocked, already connected, proposed in the last 90 days, passed ever: to the matcher these
    are one rule, so the daily run unions them into one int64 array — 8 bytes a pair (a
    million members proposed once a day for 90 days is 45M pairs, 360 MB). Membership of a
    batch is one ``np.searchsorted``, O(log F) a query and faster on sorted queries, since
    numpy starts each search where the previous one ended.
    """

    size: int
    keys: np.ndarray

    @classmethod
    def of(cls, size: int, a: np.ndarray, b: np.ndarray) -> ForbiddenPairs:
        """The pairs (a[i], b[i]) in either order, among ``size`` members."""
        return cls(size, np.unique(pair_keys(size, a, b)))

    @classmethod
    def empty(cls, size: int) -> ForbiddenPairs:
        return cls(size, np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    def with_pairs(self, a: np.ndarray, b: np.ndarray) -> ForbiddenPairs:
        """These pairs and (a[i], b[i]) — e.g. after a day's proposals."""
        return ForbiddenPairs(self.size, np.union1d(self.keys, pair_keys(self.size, a, b)))

    def contains(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each (a[i], b[i]) is forbidden."""
        keys = pair_keys(self.size, a, b)
        if not len(self.keys):
            return np.zeros(len(keys), dtype=bool)
        found = np.searchsorted(self.keys, keys).clip(max=len(self.keys) - 1)
        return self.keys[found] == keys


@dataclass(frozen=True)
class HardFilters:
    """What the two-way hard filters need beyond :class:`Members`, one row per member.

    ``eligible`` (n,) bool: verified and opted in to today's match. ``seeks`` (n,) uint8:
    bit g set when the member seeks gender g (1 women, 2 men, 3 both) — the gender sought is
    not part of :class:`~qingyuan.matching.features.Preferences`. ``forbidden``: the pairs
    that may not be proposed today.
    """

    eligible: np.ndarray
    seeks: np.ndarray
    forbidden: ForbiddenPairs


@dataclass(frozen=True)
class CandidateSettings:
    """Knobs of candidate generation; the module docstring says what each bounds.

    ``k`` candidates kept per seeker; ``sample`` pairs drawn per seeker (the cap on work);
    ``max_listed`` lists one member may appear on (congestion); ``age_band`` years per bucket;
    ``batch`` pairs scored at once (memory); ``seed`` varies the draw, one per day.
    """

    k: int = 20
    sample: int = 60
    max_listed: int = 60
    age_band: float = 2.0
    batch: int = 1 << 19
    seed: int = 0


@dataclass(frozen=True)
class CandidateGraph:
    """Undirected candidate edges ``(a[i], b[i], score[i])`` with a < b, sorted and unique.

    ``stats`` counts pairs at each stage and seconds spent in each (for the daily run's log).
    """

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.a)


def pair_keys(size: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 key ``min·size + max`` of each unordered pair."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    return np.minimum(a, b) * size + np.maximum(a, b)


def compatible(members: Members, filters: HardFilters, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The two-way hard filters of docs/brief.md §6 for each pair (a[i], b[i]).

    Both eligible and distinct, each fits the other's gender sought, age range, cities and
    minimum degree, and the pair is not forbidden. An unknown fact (NaN age, region 0, degree
    0) fails any stated bound on it: eligibility is decided here, the features only grade it.
    """
    a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
    fits = (a != b) & filters.eligible[a] & filters.eligible[b]
    fits &= _wants(members, filters, a, b) & _wants(members, filters, b, a)
    return fits & ~filters.forbidden.contains(a, b)


def _wants(members: Members, filters: HardFilters, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether b meets a's gender sought, age range, cities and minimum degree."""
    prefs, age = members.preferences, members.age[b]
    low, high = prefs.age_min[a], prefs.age_max[a]
    wants = ((filters.seeks[a] >> members.gender[b]) & 1).astype(bool)
    wants &= (np.isnan(low) | (age >= low)) & (np.isnan(high) | (age <= high))
    wants &= members.degree[b] >= prefs.min_degree[a]
    return wants & _in_cities(prefs.cities, a, members.region[b] // 100)


def _in_cities(cities: np.ndarray, a: np.ndarray, city_b: np.ndarray) -> np.ndarray:
    """b's city is one a named, or a named none; an unknown city (0) matches no name."""
    named = np.zeros(len(a), dtype=bool)
    anywhere = np.ones(len(a), dtype=bool)
    for slot in cities.T:
        wanted = slot[a]
        named |= (wanted == city_b) & (wanted != 0)
        anywhere &= wanted == 0
    return named | anywhere


def pair_scores(members: Members, scorer: PairScorer, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reciprocal score (float32) of each pair: harmonic mean of p(a→b) and p(b→a)."""
    both = pair_features(members, np.concatenate([a, b]), np.concatenate([b, a]), scorer.prior)
    p = scorer.predict(both)
    return reciprocal_score(p[: len(a)], p[len(a) :]).astype(np.float32)


def region_partitions(
    members: Members, filters: HardFilters, level: int = PROVINCE
) -> list[np.ndarray]:
    """Eligible member ids grouped by ``region // level`` (province by default)."""
    pool = np.flatnonzero(filters.eligible)
    groups = members.region[pool] // level
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    return np.split(pool[order], cuts)


def candidate_graph(
    members: Members,
    filters: HardFilters,
    scorer: PairScorer,
    settings: CandidateSettings | None = None,
    partition: np.ndarray | None = None,
) -> CandidateGraph:
    """The top-k candidate graph among the members of ``partition`` (ids; None: everyone).

    Only pairs inside the partition are considered; see the module docstring for the steps.
    """
    settings = settings or CandidateSettings()
    clock = _Stopwatch()
    pool = np.flatnonzero(filters.eligible) if partition is None else np.asarray(partition)
    pool = pool[filters.eligible[pool]]
    with clock("bucket"):
        buckets = _Buckets.of(members, pool, settings)
    per_block = max(1, settings.batch // settings.sample)
    lists = [
        _block_lists(members, filters, scorer, buckets, pool[i : i + per_block], settings, clock)
        for i in range(0, max(len(pool), 1), per_block)  # one empty batch for no one
    ]
    seeker, other, score = (np.concatenate([part[j] for part in lists]) for j in range(3))
    with clock("select"):
        keep = _within_listing_cap(seeker, other, score, settings.max_listed)
        graph = _undirected(len(members), seeker[keep], other[keep], score[keep])
    stats = {"members": len(pool), "listed": int(keep.sum()), "edges": len(graph[0])}
    return CandidateGraph(*graph, stats=clock.merged(stats, *(part[3] for part in lists)))


def merge(graphs: Sequence[CandidateGraph]) -> CandidateGraph:
    """The union of the graphs of disjoint partitions, sorted like a single graph."""
    a, b, score = (
        np.concatenate([getattr(g, name) for g in graphs]) for name in "a b score".split()
    )
    order = np.lexsort((b, a))
    stats: dict[str, float] = {}
    for graph in graphs:
        for name, value in graph.stats.items():
            stats[name] = stats.get(name, 0) + value
    return CandidateGraph(a[order], b[order], score[order], stats)


@dataclass(frozen=True)
class _Buckets:
    """Eligible members of a partition in bucket order: (gender, city, age band, daily hash).

    Key = (gender·C + city index)·B + band over the partition's C cities (sorted codes, so
    the order agrees with any larger partition's) and B age bands; the last band holds
    unknown ages and is reachable only by seekers without any age bound.
    """

    order: np.ndarray
    keys: np.ndarray
    cities: np.ndarray
    bands: int

    @classmethod
    def of(cls, members: Members, pool: np.ndarray, settings: CandidateSettings) -> _Buckets:
        cities = np.unique(members.region[pool] // 100)
        bands = int(np.ceil((AGE_LIMIT - AGE_ORIGIN) / settings.age_band)) + 1
        band = _band(members.age[pool], settings.age_band, bands)
        city = np.searchsorted(cities, members.region[pool] // 100)
        keys = (members.gender[pool].astype(np.int64) * len(cities) + city) * bands + band
        order = np.lexsort((_hash(settings.seed, 0, pool), keys))
        return cls(pool[order], keys[order], cities, bands)

    def runs(
        self, members: Members, filters: HardFilters, seekers: np.ndarray, age_band: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(owner, start, size) of each non-empty run of compatible members, owner-major.

        ``owner`` indexes ``seekers``; within an owner, runs go by gender, then city.
        """
        prefs = members.preferences
        low = _band(prefs.age_min[seekers], age_band, self.bands, unbounded=0)
        high = _band(prefs.age_max[seekers], age_band, self.bands, unbounded=self.bands - 2)
        anyone = np.isnan(prefs.age_min[seekers]) & np.isnan(prefs.age_max[seekers])
        high = np.where(anyone, self.bands - 1, high)
        city = self._city_slots(prefs.cities[seekers])
        starts, ends = [], []
        for gender in (0, 1):
            wanted = ((filters.seeks[seekers] >> gender) & 1).astype(bool)[:, None] & (city >= 0)
            base = (gender * len(self.cities) + city) * self.bands
            lo = np.searchsorted(self.keys, base + low[:, None])
            hi = np.searchsorted(self.keys, base + high[:, None], side="right")
            starts.append(lo)
            ends.append(np.where(wanted, hi, lo))
        start, size = np.stack(starts, axis=1), np.stack(ends, axis=1) - np.stack(starts, axis=1)
        owner = np.broadcast_to(np.arange(len(seekers))[:, None, None], size.shape)
        runs = size > 0
        return owner[runs], start[runs], size[runs]

    def _city_slots(self, cities: np.ndarray) -> np.ndarray:
        """(seekers, W) city indexes to search, ascending, -1 for none: the named cities that
        exist in the partition, or all of them for a seeker who named none."""
        index = np.searchsorted(self.cities, cities).clip(max=len(self.cities) - 1)
        named = (cities != 0) & (self.cities[index] == cities)
        slots = np.sort(np.where(named, index, -1), axis=1)
        slots[:, 1:][slots[:, 1:] == slots[:, :-1]] = -1  # a city named twice
        anywhere = (cities == 0).all(axis=1)
        if not anywhere.any():
            return slots
        padded = np.full((len(cities), max(slots.shape[1], len(self.cities))), -1)
        padded[:, : slots.shape[1]] = slots
        padded[anywhere, : len(self.cities)] = np.arange(len(self.cities))
        return padded


def _band(age: np.ndarray, width: float, bands: int, unbounded: int | None = None) -> np.ndarray:
    """Age band 0..bands-2 of each age; NaN goes to the last band, or to ``unbounded`` when
    the ages are bounds of a range (NaN = no bound)."""
    band = np.floor((np.nan_to_num(age, nan=AGE_ORIGIN) - AGE_ORIGIN) / width)
    band = band.clip(0, bands - 2).astype(np.int64)
    return np.where(np.isnan(age), bands - 1 if unbounded is None else unbounded, band)


def _block_lists(
    members: Members,
    filters: HardFilters,
    scorer: PairScorer,
    buckets: _Buckets,
    seekers: np.ndarray,
    settings: CandidateSettings,
    clock: _Stopwatch,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Top-k lists (seeker, candidate, score) of one batch of seekers, and pair counts."""
    with clock("draw"):
        owner, start, size = buckets.runs(members, filters, seekers, settings.age_band)
        slot_owner, slot, other = _draw(buckets, seekers, owner, start, size, settings)
    with clock("filter"):
        keep = compatible(members, filters, seekers[slot_owner], other)
    with clock("score"):
        score = pair_scores(members, scorer, seekers[slot_owner[keep]], other[keep])
    with clock("select"):
        top = _top_k(len(seekers), slot_owner[keep], slot[keep], other[keep], score, settings)
    return (seekers[top[0]], top[1], top[2], {"drawn": len(other), "compatible": len(score)})


def _draw(
    buckets: _Buckets,
    seekers: np.ndarray,
    owner: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
    settings: CandidateSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Systematic sample of at most ``sample`` members from each seeker's runs.

    Returns (seeker index, slot j < sample, candidate id) per drawn pair. A seeker's runs are
    laid end to end (``virtual`` is where each run starts in that layout), position p of the
    sample is found in them with one ``searchsorted``.
    """
    total = np.bincount(owner, weights=size, minlength=len(seekers)).astype(np.int64)
    drawn = np.minimum(total, settings.sample)
    slot_owner = np.repeat(np.arange(len(seekers)), drawn)
    slot = np.arange(len(slot_owner)) - np.repeat(np.cumsum(drawn) - drawn, drawn)
    offset = _unit(_hash(settings.seed, 1, seekers))[slot_owner]
    position = ((slot + offset) * total[slot_owner] / drawn[slot_owner]).astype(np.int64)
    position = np.minimum(position, total[slot_owner] - 1)  # (j + u)·T/M < T, bar rounding
    virtual = np.cumsum(size) - size
    flat = (np.cumsum(total) - total)[slot_owner] + position
    run = np.searchsorted(virtual, flat, side="right") - 1
    return slot_owner, slot, buckets.order[start[run] + flat - virtual[run]]


def _top_k(
    n_seekers: int,
    owner: np.ndarray,
    slot: np.ndarray,
    other: np.ndarray,
    score: np.ndarray,
    settings: CandidateSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each seeker's ``k`` best (seeker index, candidate, score) via ``np.argpartition``."""
    width, k = settings.sample, settings.k
    grid = np.full((n_seekers, width), -1.0, dtype=np.float32)  # scores are >= 0
    grid[owner, slot] = score
    ids = np.zeros((n_seekers, width), dtype=other.dtype)
    ids[owner, slot] = other
    best = np.argpartition(grid, width - k, axis=1)[:, width - k :] if width > k else None
    if best is not None:
        grid, ids = np.take_along_axis(grid, best, 1), np.take_along_axis(ids, best, 1)
    rows, columns = np.nonzero(grid >= 0)
    return rows, ids[rows, columns], grid[rows, columns]


def _within_listing_cap(
    seeker: np.ndarray, other: np.ndarray, score: np.ndarray, cap: int
) -> np.ndarray:
    """Keep mask: each candidate stays on its ``cap`` best-scoring lists (ties: lower seeker
    id). Only the crowded candidates' entries are sorted."""
    crowded = np.bincount(other)[other] > cap
    keep = ~crowded
    entries = np.flatnonzero(crowded)
    order = entries[np.lexsort((seeker[entries], -score[entries], other[entries]))]
    group = other[order]
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep[order[rank < cap]] = True
    return keep


def _undirected(
    size: int, seeker: np.ndarray, other: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (a < b, score) sorted by (a, b); a pair listed from both sides scores the same
    both times (the reciprocal score is symmetric), so either copy will do."""
    keys = pair_keys(size, seeker, other)
    order = np.argsort(keys)
    keys, score = keys[order], score[order]
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    keys = keys[first]
    return (keys // size).astype(np.int32), (keys % size).astype(np.int32), score[first]


def _hash(seed: int, salt: int, ids: np.ndarray) -> np.ndarray:
    """SplitMix64 of (seed, salt, id): the day's random choices as a pure function of the
    member, which is what makes partitions independent of each other."""
    mixed = (seed * 0x9E3779B97F4A7C15 + salt * 0xD1B54A32D192ED03) & _MASK64
    z = np.asarray(ids, dtype=np.uint64) + np.uint64(mixed)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _unit(hashes: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) floats from 64-bit hashes (their top 53 bits)."""
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class _Stopwatch:
    """Seconds spent per named stage, accumulated over the batches of a run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - began

    def merged(self, stats: Mapping[str, float], *counts: Mapping[str, float]) -> dict[str, float]:
        """``stats`` plus summed ``counts`` plus ``<stage>_seconds``."""
        merged = dict(stats)
        for part in counts:
            for name, value in part.items():
                merged[name] = merged.get(name, 0) + value
        return merged | {f"{stage}_seconds": s for stage, s in self.seconds.items()}
