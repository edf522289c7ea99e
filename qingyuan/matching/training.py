"""`qingyuan model train` and `evaluate`: learn p(a likes b) from the members' own decisions.

Every like or pass on a proposal is one labelled pair (chooser, chosen), as far as the
population's behaviour counts hold it (`Population.decisions`). Features are built on today's
population with the pair's own decision left out of those counts (the leave-one-out of the
Speed Dating protocol), the latest 20 % of decision days are held out,
and the candidate replaces the live model only when it is not worse on those same held-out
pairs (`scoring.is_not_worse`). The live model is a pointer file, so promotion is one atomic
rename and the previous version stays on disk for rollback.

The worker retrains every night (`matching.retrain`, 03:30 local), so the noon run uses what
members decided yesterday; the CLI does the same on demand.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from qingyuan.matching.features import BehaviourPrior, pair_features
from qingyuan.matching.model_store import load_model, save_model
from qingyuan.matching.population import load_population
from qingyuan.matching.scoring import (
    ColdStartModel,
    PairScorer,
    ScoringModel,
    evaluate,
    is_not_worse,
    train,
)
from qingyuan.matching.settings import matching_settings
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.locks import LeaseHeld, lease
from qingyuan.platform.settings import PlatformSettings

LIVE_POINTER = "live.json"
VALIDATION_SHARE = 0.2
TRAINED_MARK_SECONDS = 36 * 3600


def model_dir(settings: PlatformSettings) -> Path:
    """Where model versions and the live pointer live."""
    return settings.data_dir / "models"


def live_model(model_dir: Path) -> ScoringModel | None:
    pointer = model_dir / LIVE_POINTER
    if not pointer.is_file():
        return None
    return load_model(model_dir / json.loads(pointer.read_text())["model"])


def live_scorer(model_dir: Path, prior: BehaviourPrior) -> PairScorer:
    """The promoted model if there is one, else the documented cold-start prior."""
    return live_model(model_dir) or ColdStartModel(prior)


def promote(model_dir: Path, model_path: Path) -> None:
    pointer = model_dir / LIVE_POINTER
    staged = pointer.with_suffix(".tmp")
    staged.write_text(json.dumps({"model": model_path.name}))
    os.replace(staged, pointer)


def _validation(days: np.ndarray) -> np.ndarray:
    """The pairs `scoring.train` holds out: the latest VALIDATION_SHARE by day."""
    return days >= np.quantile(days, 1 - VALIDATION_SHARE)


async def train_model(model_dir: Path, today: date, min_decisions: int) -> dict[str, Any]:
    """Train on stored decisions, compare with the live model, promote if not worse
    (QINGYUAN_MODEL_MIN_DECISIONS: below that many there is nothing to learn from)."""
    population = await load_population(today)
    decisions = population.decisions
    result: dict[str, Any] = {"decisions": len(decisions), "promoted": False}
    if (
        len(decisions) < min_decisions
        or len(np.unique(decisions.liked)) < 2
        or len(np.unique(decisions.day)) < 2
    ):
        return {
            **result,
            "trained": False,
            "reason": f"needs at least {min_decisions} decisions over two days, both kinds",
        }
    prior = BehaviourPrior.fit(population.members.behaviour)
    features = pair_features(
        population.members, decisions.chooser, decisions.chosen, prior, held_out=decisions.liked
    )
    # in a thread: fitting would stall the loop, and with it the retrain lease's renewal
    candidate = await asyncio.to_thread(train, features, decisions.liked, decisions.day, prior)
    late = _validation(decisions.day)
    live = live_scorer(model_dir, prior)
    live_metrics = evaluate(live, features[late], decisions.liked[late])
    path = save_model(candidate, model_dir)
    promoted = is_not_worse(candidate.metrics, live_metrics)
    if promoted:
        promote(model_dir, path)
    return {
        **result,
        "trained": True,
        "version": candidate.version,
        "promoted": promoted,
        "metrics": asdict(candidate.metrics),
        "live_metrics": asdict(live_metrics),
        "live_was": getattr(live, "version", "cold-start prior"),
    }


async def evaluate_live(model_dir: Path, today: date) -> dict[str, Any]:
    """The live scorer's metrics on the latest held-out decisions."""
    population = await load_population(today)
    decisions = population.decisions
    if len(decisions) == 0 or len(np.unique(decisions.liked)) < 2:
        return {"decisions": len(decisions), "metrics": None}
    prior = BehaviourPrior.fit(population.members.behaviour)
    features = pair_features(
        population.members, decisions.chooser, decisions.chosen, prior, held_out=decisions.liked
    )
    late = _validation(decisions.day)
    scorer = live_scorer(model_dir, prior)
    return {
        "decisions": len(decisions),
        "model": getattr(scorer, "version", "cold-start prior"),
        "metrics": asdict(evaluate(scorer, features[late], decisions.liked[late])),
    }


async def retrain_nightly(kernel: Kernel) -> dict[str, Any]:
    """Nightly retraining, once a day however many workers tick: a lease keeps a second
    worker off while one trains, and a mark written on success makes later ticks skip the
    day. A killed trainer's lease expires within seconds, so the retry can still train."""
    today = kernel.settings.local_today()
    done = f"model-trained:{today.isoformat()}"
    if await kernel.redis.exists(done):
        return {"trained": False, "reason": "already trained today"}
    try:
        async with lease(kernel.redis, f"model-train:{today.isoformat()}"):
            minimum = matching_settings(kernel.settings).model_min_decisions
            result = await train_model(model_dir(kernel.settings), today, minimum)
            await kernel.redis.set(done, "1", ex=TRAINED_MARK_SECONDS)
            return result
    except LeaseHeld:
        return {"trained": False, "reason": "another worker is training"}
