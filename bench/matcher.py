"""Daily matcher: assignment quality, scale to a million members, and 30 simulated days.

- ``quality``: on synthetic populations of 2,000, the production assignment (greedy + local
  search) and plain greedy as ratios of the exact optimum over the same candidate graph.
- ``scale``: candidate generation, scoring and assignment on synthetic populations of 10k,
  100k and 1M, each size in its own process so its peak memory (``ru_maxrss``) is its own.
- ``loop``: 30 days of proposals whose decisions are drawn from the planted preferences,
  the model retrained every few days; mutual-like rate against random pairing and against
  profile-only scoring, and the share of members never proposed.

    python -m bench.matcher [quality] [scale] [loop] [--sizes 10000 100000 1000000]
        [--workers 2] [--quality-size 2000] [--seeds 3] [--loop-size 10000] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from qingyuan.matching import (
    FEATURE_NAMES,
    Behaviour,
    BehaviourPrior,
    ColdStartModel,
    LinearScorer,
    Members,
    PairScorer,
    evaluate,
    is_not_worse,
    pair_features,
    train,
)
from qingyuan.matching.assignment import (
    assign,
    exact_matching,
    greedy_matching,
    max_weight_matching,
)
from qingyuan.matching.candidates import (
    CandidateGraph,
    CandidateSettings,
    candidate_graph,
    merge,
    region_partitions,
)
from qingyuan.matching.scoring import COLD_START_TERMS
from qingyuan.matching.synthetic import SyntheticPopulation, synthetic_population

PRIOR = BehaviourPrior(like_rate=0.35, reply_rate=0.5)
PROVINCES = (31, 32, 33, 34)  # four partitions for the scale runs
EXPOSURE_DAYS = 7
RETRAIN_EVERY = 5
PARTITION_TIMES = ("candidates", "assignment", "candidates_cpu", "assignment_cpu")
_POPULATION: SyntheticPopulation | None = None  # shared with forked partition workers


# ---- quality -------------------------------------------------------------------------------


def quality(size: int, seeds: int, settings: CandidateSettings) -> dict:
    """Production and greedy totals over the exact optimum, for K = 1 and 2, on general
    populations (some seek their own gender: integer program) and on all-heterosexual ones
    (bipartite: scipy's matching)."""
    rows = []
    for seed in range(seeds):
        for bipartite in (False, True):
            population = _quality_population(size, seed, bipartite)
            graph = candidate_graph(
                population.members, population.filters, ColdStartModel(PRIOR), settings
            )
            for capacity in (1, 2):
                rows.append(
                    {
                        "seed": seed,
                        "bipartite": bipartite,
                        "capacity": capacity,
                        **_ratios(graph, capacity, population.members.gender),
                    }
                )
    return {
        "size": size,
        "k": settings.k,
        "runs": rows,
        "min_production_ratio": min(r["production_ratio"] for r in rows),
        "mean_production_ratio": float(np.mean([r["production_ratio"] for r in rows])),
        "mean_greedy_ratio": float(np.mean([r["greedy_ratio"] for r in rows])),
    }


def _quality_population(size: int, seed: int, bipartite: bool) -> SyntheticPopulation:
    population = synthetic_population(size, seed=seed)
    if not bipartite:
        return population
    other_gender = (1 << (1 - population.members.gender.astype(np.int64))).astype(np.uint8)
    return replace(population, filters=replace(population.filters, seeks=other_gender))


def _ratios(graph: CandidateGraph, capacity: int, sides: np.ndarray) -> dict:
    weight = graph.score.astype(np.float64)
    timed = {}
    for name, solve in (
        ("exact", lambda: exact_matching(graph.a, graph.b, weight, capacity, sides)),
        ("production", lambda: max_weight_matching(graph.a, graph.b, weight, capacity)),
        ("greedy", lambda: greedy_matching(graph.a, graph.b, weight, capacity)),
    ):
        began = time.perf_counter()
        chosen = solve()
        timed[name] = (float(weight[chosen].sum()), time.perf_counter() - began)
    optimum = timed["exact"][0]
    return {
        "edges": len(graph),
        "exact_total": round(optimum, 3),
        "production_ratio": round(timed["production"][0] / optimum, 4),
        "greedy_ratio": round(timed["greedy"][0] / optimum, 4),
        **{f"{name}_seconds": round(seconds, 3) for name, (_, seconds) in timed.items()},
    }


# ---- scale ---------------------------------------------------------------------------------


def scale(sizes: list[int], workers: int, settings: CandidateSettings) -> list[dict]:
    """One child process per size, so that each size's peak memory is measured alone."""
    results = []
    for size in sizes:
        command = [sys.executable, "-m", "bench.matcher", "--scale-one", str(size)]
        command += ["--workers", str(workers), "--k", str(settings.k)]
        command += ["--sample", str(settings.sample)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output))
    return results


def scale_one(size: int, workers: int, settings: CandidateSettings) -> dict:
    """Generate, then per partition (province) build the candidate graph and assign, the
    partitions shared out among ``workers`` processes as the daily run would."""
    global _POPULATION
    began = time.perf_counter()
    _POPULATION = synthetic_population(size, seed=1, provinces=PROVINCES)
    generated = time.perf_counter()
    partitions = region_partitions(_POPULATION.members, _POPULATION.filters)
    jobs = [(partition, settings) for partition in partitions]
    if workers == 1:
        runs = [_partition_run(job) for job in jobs]
    else:  # fork: workers share the population copy-on-write, nothing is pickled to them
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            runs = pool.map(_partition_run, jobs, chunksize=1)
    finished = time.perf_counter()
    stats = merge([run["graph"] for run in runs]).stats
    return {
        "members": size,
        "partitions": len(partitions),
        "workers": workers,
        "edges": int(stats["edges"]),
        "pairs_scored": int(stats["compatible"]),
        "proposals": sum(run["proposals"] for run in runs),
        "generate_seconds": round(generated - began, 1),
        "matcher_seconds": round(finished - generated, 1),
        "partition_seconds": [
            {name: round(run[name], 1) for name in PARTITION_TIMES} for run in runs
        ],
        "cpu_seconds": round(sum(run[n] for run in runs for n in PARTITION_TIMES[2:]), 1),
        # what the wall time would be on an otherwise idle machine: each partition's CPU
        # time, scheduled on the workers
        "uncontended_matcher_seconds": round(
            _makespan([run["candidates_cpu"] + run["assignment_cpu"] for run in runs], workers),
            1,
        ),
        "candidate_stage_seconds": {
            stage: round(stats[f"{stage}_seconds"], 1)
            for stage in ("bucket", "draw", "filter", "score", "select")
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        if workers > 1
        else None,
    }


def _partition_run(job: tuple[np.ndarray, CandidateSettings]) -> dict:
    """One partition's candidate graph and proposals with wall and CPU seconds (run in a
    worker). The graph goes back without its edges: only its stats are needed."""
    partition, settings = job
    assert _POPULATION is not None
    members, filters = _POPULATION.members, _POPULATION.filters
    clock = [(time.perf_counter(), time.process_time())]
    graph = candidate_graph(members, filters, ColdStartModel(PRIOR), settings, partition)
    clock.append((time.perf_counter(), time.process_time()))
    proposals = assign(graph)
    clock.append((time.perf_counter(), time.process_time()))
    (wall, cpu) = np.diff(np.array(clock), axis=0).T
    empty = np.zeros(0, dtype=np.int32)
    return {
        "graph": replace(graph, a=empty, b=empty, score=empty),
        "candidates": wall[0],
        "assignment": wall[1],
        "candidates_cpu": cpu[0],
        "assignment_cpu": cpu[1],
        "proposals": len(proposals),
    }


def _makespan(seconds: list[float], workers: int) -> float:
    """Longest worker's total when partitions go, largest first, to the least loaded."""
    loads = [0.0] * workers
    for job in sorted(seconds, reverse=True):
        loads[loads.index(min(loads))] += job
    return max(loads)


# ---- loop ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileOnly:
    """The cold-start prior without its behaviour terms: what a matcher that ignores
    behaviour would score. Kept fixed — there is nothing for it to learn."""

    prior: BehaviourPrior

    @cached_property
    def linear(self) -> LinearScorer:
        fill = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
        weights = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
        for name, (weight, neutral) in COLD_START_TERMS.items():
            if neutral is not None:  # the behaviour log-odds are the terms without one
                fill[FEATURE_NAMES.index(name)] = neutral
                weights[FEATURE_NAMES.index(name)] = weight
        base = np.log(self.prior.like_rate / (1 - self.prior.like_rate))
        return LinearScorer(fill, weights, float(base - weights @ fill))

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.linear.predict(features)


@dataclass(frozen=True)
class RandomScorer:
    """Uniform random p: random pairing among the pairs that pass the hard filters."""

    prior: BehaviourPrior
    rng: np.random.Generator

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.rng.random(len(features))


@dataclass
class _History:
    """Decisions so far, one row per (decider, other, day, liked)."""

    a: list[np.ndarray]
    b: list[np.ndarray]
    day: list[np.ndarray]
    liked: list[np.ndarray]

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate(part) for part in (self.a, self.b, self.day, self.liked))


def loop(size: int, days: int, settings: CandidateSettings) -> dict:
    """The same population and days under four matchers."""
    strategies = {
        "model": dict(learns=True, congestion=0.5),
        "model_no_congestion": dict(learns=True, congestion=0.0),
        "profile_only": dict(scorer=ProfileOnly(PRIOR), congestion=0.5),
        "random": dict(scorer=RandomScorer(PRIOR, np.random.default_rng(7)), congestion=0.0),
    }
    results = {
        name: _simulate(size, days, settings, **options) for name, options in strategies.items()
    }
    mutual = {name: r["mutual_like_rate_last_10_days"] for name, r in results.items()}
    return {
        "members": size,
        "days": days,
        "k": settings.k,
        "strategies": results,
        "last_10_days_model_vs_random": round(mutual["model"] / mutual["random"], 2),
        "last_10_days_model_vs_profile_only": round(mutual["model"] / mutual["profile_only"], 2),
    }


def _simulate(
    size: int,
    days: int,
    settings: CandidateSettings,
    scorer: PairScorer | None = None,
    learns: bool = False,
    congestion: float = 0.5,
) -> dict:
    population = synthetic_population(size, seed=3)
    members, filters, truth = population.members, population.filters, population.truth
    live: PairScorer = scorer or ColdStartModel(PRIOR)
    rng = np.random.default_rng(11)
    history = _History([], [], [], [])
    received = np.zeros((days, size))
    promoted, mutual, proposals = [], np.zeros(days), np.zeros(days)
    for day in range(days):
        graph = candidate_graph(members, filters, live, replace(settings, seed=day))
        exposure = received[max(0, day - EXPOSURE_DAYS) : day].sum(axis=0)
        chosen = assign(graph, exposure=exposure, strength=congestion)
        a, b = chosen.a.astype(np.int64), chosen.b.astype(np.int64)
        like_ab, like_ba = truth.decide(a, b, rng), truth.decide(b, a, rng)
        for decider, other, liked in ((a, b, like_ab), (b, a, like_ba)):
            history.a.append(decider)
            history.b.append(other)
            history.day.append(np.full(len(decider), day))
            history.liked.append(liked.astype(float))
            received[day] += np.bincount(other, minlength=size)
        members = replace(members, behaviour=_behaviour(history, size))
        filters = replace(filters, forbidden=filters.forbidden.with_pairs(a, b))
        mutual[day], proposals[day] = (like_ab & like_ba).sum(), len(a)
        if learns and (day + 1) % RETRAIN_EVERY == 0:
            live, metrics = _retrained(members, history, live)
            promoted.append({"day": day + 1, **metrics})
    ever = received.sum(axis=0) > 0
    return {
        "proposals": int(proposals.sum()),
        "mutual_like_rate": round(mutual.sum() / proposals.sum(), 4),
        "mutual_like_rate_last_10_days": round(mutual[-10:].sum() / proposals[-10:].sum(), 4),
        "never_proposed_share": round(float(1 - ever[filters.eligible].mean()), 4),
        "exposure_gini": round(_gini(received.sum(axis=0)[filters.eligible]), 3),
        "retraining": promoted,
    }


def _behaviour(history: _History, size: int) -> Behaviour:
    a, b, _, liked = history.arrays()
    zeros = np.zeros(size)
    return Behaviour(
        likes_given=np.bincount(a, liked, size),
        proposals_seen=np.bincount(a, minlength=size).astype(float),
        likes_received=np.bincount(b, liked, size),
        proposals_received=np.bincount(b, minlength=size).astype(float),
        replies=zeros,
        chats=zeros,
        days_inactive=zeros,
    )


def _retrained(members: Members, history: _History, live: PairScorer) -> tuple[PairScorer, dict]:
    """Train on every decision so far (leave-one-out features), promote if not worse than
    the live scorer on the candidate's own validation days."""
    a, b, day, liked = history.arrays()
    prior = BehaviourPrior.fit(members.behaviour)
    features = pair_features(members, a, b, prior, held_out=liked)
    candidate = train(features, liked, day, prior, version=f"day-{int(day.max()) + 1}")
    late = day >= np.quantile(day, 0.8)
    live_features = pair_features(members, a[late], b[late], live.prior, held_out=liked[late])
    live_metrics = evaluate(live, live_features, liked[late])
    promote = is_not_worse(candidate.metrics, live_metrics)
    figures = {
        "candidate_auc": round(candidate.metrics.roc_auc, 3),
        "live_auc": round(live_metrics.roc_auc, 3),
        "promoted": promote,
    }
    return (candidate if promote else live), figures


def _gini(values: np.ndarray) -> float:
    ordered = np.sort(values)
    if not ordered.sum():
        return 0.0
    ranks = np.arange(1, len(ordered) + 1)
    return float((2 * ranks - len(ordered) - 1) @ ordered / (len(ordered) * ordered.sum()))


# ---- command line --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["quality", "scale", "loop"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2, help="partition workers (scale)")
    parser.add_argument("--quality-size", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--loop-size", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--k", type=int, default=CandidateSettings.k)
    parser.add_argument("--sample", type=int, default=CandidateSettings.sample)
    parser.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = CandidateSettings(k=args.k, sample=args.sample)
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one, args.workers, settings)))
        return
    report: dict = {"k": settings.k, "sample": settings.sample}
    if "quality" in args.parts:
        report["quality"] = quality(args.quality_size, args.seeds, settings)
    if "scale" in args.parts:
        report["scale"] = scale(args.sizes, args.workers, settings)
    if "loop" in args.parts:
        report["loop"] = loop(args.loop_size, args.days, settings)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
