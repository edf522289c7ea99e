"""The daily run (每日速配): load today's population, build the candidate graph, assign, store.

One run per day and partition (province), recorded in `MatchRun`:
- idempotent: a partition whose run finished is not run again, so a second run of the same
  day proposes nothing new;
- locked: a lease (platform.locks: short TTL, renewed while working) keeps two workers off the
  same day and partition and expires within seconds of a killed holder; the unique `MatchRun`
  row, locked and checked when storing, is the lock of record if Redis forgets;
- crash-safe: a partition's `MatchRun` row is created when it starts, and its proposals and
  finished mark are written in one transaction at the end, so a run that dies midway leaves
  a started, unfinished partition that the next run does again;
- complete: a run waits for partitions another holder has, and takes them over if that
  holder dies, so a run (or job) only returns once every partition of the day is stored.
Pairs across partitions are not proposed: members meet where they live (docs/brief.md §6), and it
lets partitions run on different workers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, timedelta

import numpy as np
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.matching.assignment import Assignment, assign
from qingyuan.matching.candidates import CandidateSettings, candidate_graph
from qingyuan.matching.features import BehaviourPrior
from qingyuan.matching.models import MatchRun, Proposal
from qingyuan.matching.population import Population, load_population
from qingyuan.matching.reasons import reasons_for
from qingyuan.matching.settings import MatchingSettings, matching_settings
from qingyuan.matching.training import live_scorer, model_dir
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.locks import Lease, LeaseHeld, lease
from qingyuan.platform.notifications import notify_many

logger = logging.getLogger(__name__)
PROPOSAL_HOURS = 24
PROVINCE = 10_000
STORE_BATCH = 2000


async def run_day(kernel: Kernel, day: date) -> dict[str, object]:
    """Run every partition of `day`; the figures `qingyuan match run` prints.

    Finished partitions are not loaded again: their figures come from their `MatchRun` row,
    so a second run of the day is cheap and still reports the whole day. A partition another
    holder is running is waited for (polled every third of the lease TTL): it is either
    finished by its holder or, once a dead holder's lease expires, run here.
    """
    started = time.perf_counter()
    settings = matching_settings(kernel.settings)
    finished = await _finished(day)
    population = await load_population(day, skip_provinces=[int(p) for p in finished])
    provinces = population.members.region // PROVINCE
    proposed = 0
    waiting = list(np.unique(provinces))
    while waiting:
        busy = []
        for province in waiting:
            part = np.flatnonzero(provinces == province)
            try:
                result = await run_partition(kernel, day, str(province), population, part, settings)
            except LeaseHeld:
                busy.append(province)
                continue
            proposed += int(result.get("proposed_pairs", 0))
        if busy:
            logger.info("match run %s: waiting for %d partitions held elsewhere", day, len(busy))
            await asyncio.sleep(settings.match_lock_seconds / 3)
        waiting = busy
    stats = list((await _finished(day)).values())
    pairs = sum(s.get("proposed_pairs", 0) for s in stats)
    score_sum = sum(s.get("score_sum", 0.0) for s in stats)
    return {
        "date": day.isoformat(),
        "eligible": int(sum(s.get("eligible", 0) for s in stats)),
        "proposed_pairs": int(proposed),
        "members_without_proposal": int(sum(s.get("without_proposal", 0) for s in stats)),
        "mean_score": round(score_sum / pairs, 4) if pairs else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


async def _finished(day: date) -> dict[str, dict[str, float]]:
    return {
        run.partition: run.stats
        for run in await MatchRun.filter(day=day, finished_at__not_isnull=True)
    }


async def run_partition(
    kernel: Kernel,
    day: date,
    partition: str,
    population: Population,
    rows: np.ndarray,
    settings: MatchingSettings,
) -> dict[str, float]:
    """Propose pairs inside one partition; its figures (empty if another run finished it).

    Raises LeaseHeld while another holder has the partition.
    """
    async with lease(
        kernel.redis, f"match-run:{day.isoformat()}:{partition}", settings.match_lock_seconds
    ) as held:
        if await MatchRun.filter(
            day=day, partition=partition, finished_at__not_isnull=True
        ).exists():
            return {}
        await MatchRun.get_or_create(day=day, partition=partition)  # started, not finished
        if settings.match_partition_delay:
            await asyncio.sleep(settings.match_partition_delay)
        # in a thread: a large partition computes for longer than the lease lives unrenewed
        stats, chosen = await asyncio.to_thread(_match, population, rows, settings, day)
        stored = await _store(held, day, partition, population, chosen, stats)
        return stats if stored else {}


def _match(
    population: Population, rows: np.ndarray, settings: MatchingSettings, day: date
) -> tuple[dict[str, float], Assignment]:
    """The pure part of a partition's run: candidate graph, assignment and its figures."""
    graph = candidate_graph(
        population.members,
        population.filters,
        live_scorer(model_dir(settings), BehaviourPrior.fit(population.members.behaviour)),
        CandidateSettings(k=settings.match_candidates, seed=day.toordinal()),
        partition=rows,
    )
    chosen = assign(
        graph,
        capacity=settings.matches_per_day,
        exposure=population.members.behaviour.proposals_received,
    )
    proposed_members = len(np.unique(np.concatenate([chosen.a, chosen.b])))
    stats = {k: float(v) for k, v in graph.stats.items()} | {
        "eligible": len(rows),
        "proposed_pairs": len(chosen),
        "without_proposal": len(rows) - proposed_members,
        "score_sum": float(chosen.total),
    }
    return stats, chosen


async def _store(
    held: Lease,
    day: date,
    partition: str,
    population: Population,
    chosen: Assignment,
    stats: dict[str, float],
) -> bool:
    """Write the partition's proposals, their notifications and the finished mark at once;
    False if another run finished the partition first (nothing is written twice).

    Bulk inserts: one INSERT per row made storing most of a 100k run (bench/match_run.py).
    """
    expires = now() + timedelta(hours=PROPOSAL_HOURS)
    proposals = []
    for a, b, score in zip(chosen.a, chosen.b, chosen.score, strict=True):
        low, high = sorted((int(population.user_ids[a]), int(population.user_ids[b])))
        reasons = reasons_for(population, int(a), int(b))
        proposals.append(
            Proposal(
                day=day,
                a_id=low,
                b_id=high,
                score=float(score),
                expires_at=expires,
                reasons=reasons,
            )
        )
    members = [user_id for p in proposals for user_id in (p.a_id, p.b_id)]
    await held.ensure()
    async with in_transaction():
        run = await MatchRun.select_for_update().get(day=day, partition=partition)
        if run.finished_at is not None:  # the lock of record: a lost lease's rival got here
            return False
        await Proposal.bulk_create(proposals, batch_size=STORE_BATCH)
        await notify_many(members, "match.proposed", day=day.isoformat())
        run.finished_at = now()
        run.stats = stats
        await run.save()
    return True
