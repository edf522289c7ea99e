"""The daily run (每日速配): load today's population, build the candidate graph, assign, store.

One run per day and partition (province), recorded in `MatchRun`:
- idempotent: a partition whose run finished is not run again, so a second run of the same
  day proposes nothing new;
- locked: a Redis lock (SET NX with expiry) keeps two workers off the same day and partition,
  and the unique `MatchRun` row is the lock of record if Redis forgets;
- crash-safe: proposals and the finished mark are written in one transaction at the end, so
  a run that dies midway leaves nothing and the next run starts it again.
Pairs across partitions are not proposed: members meet where they live (DESIGN §6), and it
lets partitions run on different workers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from taskiq import Context, TaskiqDepends
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.matching.assignment import assign
from qingyuan.matching.candidates import CandidateSettings, candidate_graph
from qingyuan.matching.features import BehaviourPrior
from qingyuan.matching.models import MatchRun, Proposal
from qingyuan.matching.population import Population, load_population
from qingyuan.matching.reasons import reasons_for
from qingyuan.matching.training import live_scorer
from qingyuan.platform.jobs import job
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.notifications import notify

logger = logging.getLogger(__name__)
PROPOSAL_HOURS = 24
PROVINCE = 10_000
LOCK_SECONDS = 3600


class RunLocked(RuntimeError):
    """Another worker is running this day and partition right now."""


@dataclass(frozen=True)
class MatchSettings:
    per_day: int  # K: proposals per member per day
    candidates: int
    model_dir: Path


def match_settings(kernel: Kernel) -> MatchSettings:
    env = kernel.settings.extra
    return MatchSettings(
        per_day=int(env.get("QINGYUAN_MATCHES_PER_DAY", "1")),
        candidates=int(env.get("QINGYUAN_MATCH_CANDIDATES", "30")),
        model_dir=kernel.settings.data_dir / "models",
    )


async def run_day(kernel: Kernel, day: date) -> dict[str, object]:
    """Run every partition of `day`; the figures `qingyuan match run` prints."""
    started = time.perf_counter()
    population = await load_population(day)
    settings = match_settings(kernel)
    provinces = population.members.region // PROVINCE
    totals = {"proposed_pairs": 0, "score_sum": 0.0}
    for province in np.unique(provinces):
        part = np.flatnonzero(provinces == province)
        result = await run_partition(kernel, day, str(province), population, part, settings)
        totals["proposed_pairs"] += result[0]
        totals["score_sum"] += result[1]
    proposed_today = await _members_with_proposal(day)
    eligible = len(population)
    return {
        "date": day.isoformat(),
        "eligible": eligible,
        "proposed_pairs": totals["proposed_pairs"],
        "members_without_proposal": int(np.sum(~np.isin(population.user_ids, proposed_today))),
        "mean_score": round(totals["score_sum"] / totals["proposed_pairs"], 4)
        if totals["proposed_pairs"]
        else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


async def run_partition(
    kernel: Kernel,
    day: date,
    partition: str,
    population: Population,
    rows: np.ndarray,
    settings: MatchSettings,
) -> tuple[int, float]:
    """Propose pairs inside one partition; (pairs proposed, their total score)."""
    if await MatchRun.filter(day=day, partition=partition, finished_at__not_isnull=True).exists():
        return 0, 0.0
    lock = f"match-run:{day.isoformat()}:{partition}"
    if not await kernel.redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        raise RunLocked(lock)
    try:
        graph = candidate_graph(
            population.members,
            population.filters,
            live_scorer(settings.model_dir, BehaviourPrior.fit(population.members.behaviour)),
            CandidateSettings(k=settings.candidates, seed=day.toordinal()),
            partition=rows,
        )
        chosen = assign(
            graph,
            capacity=settings.per_day,
            exposure=population.members.behaviour.proposals_received,
        )
        await _store(day, partition, population, chosen, graph.stats)
        return len(chosen), chosen.total
    finally:
        await kernel.redis.delete(lock)


async def _store(day, partition, population, chosen, stats) -> None:
    expires = now() + timedelta(hours=PROPOSAL_HOURS)
    async with in_transaction():
        run, _ = await MatchRun.get_or_create(day=day, partition=partition)
        for a, b, score in zip(chosen.a, chosen.b, chosen.score, strict=True):
            low, high = sorted((int(population.user_ids[a]), int(population.user_ids[b])))
            proposal = await Proposal.create(
                day=day,
                a_id=low,
                b_id=high,
                score=float(score),
                expires_at=expires,
                reasons=reasons_for(population, int(a), int(b)),
            )
            for user_id in (low, high):
                await notify(user_id, "match.proposed", proposal_id=proposal.id)
        run.finished_at = now()
        run.stats = {k: float(v) for k, v in stats.items()} | {"proposed_pairs": len(chosen)}
        await run.save()


async def _members_with_proposal(day: date) -> np.ndarray:
    rows = await Proposal.filter(day=day).values_list("a_id", "b_id")
    return np.unique(np.array(rows, dtype=np.int64).ravel()) if rows else np.zeros(0, np.int64)


@job("matching.daily_run", cron="0 12 * * *", retries=3, retry_delay=60)
async def daily_run_job(context: Context = TaskiqDepends()) -> dict[str, object]:
    """Local noon: today's match. A retry after a crash resumes the unfinished partitions."""
    kernel: Kernel = context.state.kernel
    return await run_day(kernel, kernel.settings.local_today())
