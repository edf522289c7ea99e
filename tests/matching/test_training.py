"""`model train` on stored decisions: trained, measured against the live scorer on the same
held-out days, promoted only when not worse, then used by the next daily run."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from qingyuan.matching.daily import run_day
from qingyuan.matching.decisions import decide
from qingyuan.matching.models import Proposal
from qingyuan.matching.training import LIVE_POINTER, live_model, model_dir, train_model
from qingyuan.platform.jobs import kick
from tests.conftest import run
from tests.matching.daily_support import build_population
from tests.platform.test_jobs import wait_for

START = date(2026, 11, 1)


def simulate_days(client, days: int) -> None:
    """Run `days` daily matches; members like a partner who shares interests, mostly."""
    kernel = client.app.state.kernel
    rng = random.Random(3)
    for offset in range(days):
        day = START + timedelta(days=offset)
        run(client, run_day, kernel, day)
        for proposal in run(client, Proposal.filter(day=day).all):
            for user_id in (proposal.a_id, proposal.b_id):
                shared = any(r["code"] == "shared_interests" for r in proposal.reasons)
                liked = rng.random() < (0.8 if shared else 0.2)
                run(
                    client,
                    Proposal.filter(id=proposal.id).update,
                    expires_at=proposal.expires_at + timedelta(days=days),
                )
                run(client, decide, user_id, proposal.id, "like" if liked else "pass")


def test_too_few_decisions_trains_nothing(client, tmp_path):
    build_population(client, 10)
    result = run(client, train_model, tmp_path / "models", START)
    assert result["trained"] is False and result["decisions"] == 0
    assert not (tmp_path / "models").exists()


def test_training_promotes_a_model_that_is_not_worse_and_the_run_uses_it(client, tmp_path):
    build_population(client, 24)
    simulate_days(client, 6)
    models = tmp_path / "models"
    result = run(client, train_model, models, START + timedelta(days=6), 40)
    assert result["trained"] is True and result["decisions"] >= 40, result
    assert set(result["metrics"]) >= {"roc_auc", "log_loss", "brier"}
    assert result["live_was"] == "cold-start prior"
    saved = sorted(models.glob("pair-model-*.joblib"))
    assert len(saved) == 1  # versioned, immutable; the description file sits beside it
    if result["promoted"]:
        assert (models / LIVE_POINTER).is_file()
        assert live_model(models).version == result["version"]
    else:
        assert live_model(models) is None  # a worse model never goes live


def test_the_worker_retrains_nightly_once_however_many_ticks(make_settings, make_client):
    settings = make_settings(QINGYUAN_MODEL_MIN_DECISIONS="40")
    client = make_client(settings, run_worker=True)
    build_population(client, 24)
    simulate_days(client, 6)
    broker = client.app.state.kernel.broker
    schedule = [t for t in broker.get_all_tasks().values() if t.task_name == "matching.retrain"]
    assert schedule[0].labels["schedule"][0]["cron"] == "30 3 * * *"
    for _ in range(2):  # two workers' cron ticks
        run(client, kick, broker, "matching.retrain")
    models = model_dir(settings)
    assert wait_for(lambda: any(models.glob("pair-model-*.joblib")))
    time.sleep(1)
    assert len(list(models.glob("pair-model-*.joblib"))) == 1


def test_training_and_evaluation_survive_members_who_switched_off_personalised_ranking(
    client, tmp_path
):
    from qingyuan.matching.models import Profile
    from qingyuan.matching.training import evaluate_live

    build_population(client, 24)
    simulate_days(client, 6)
    deciders = run(client, Proposal.filter(a_decision__not_isnull=True).values_list, "a_id")
    private = sorted({user_id for (user_id,) in deciders})[:3]
    run(client, Profile.filter(user_id__in=private).update, personalised=False)
    models, today = tmp_path / "models", START + timedelta(days=6)

    result = run(client, train_model, models, today, 40)
    evaluated = run(client, evaluate_live, models, today)

    assert result["trained"] is True, result
    assert evaluated["metrics"] is not None and evaluated["decisions"] == result["decisions"]
