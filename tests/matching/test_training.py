"""`model train` on stored decisions: trained, measured against the live scorer on the same
held-out days, promoted only when not worse, then used by the next daily run."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from qingyuan.matching.candidates import pair_scores
from qingyuan.matching.daily import run_day
from qingyuan.matching.decisions import decide
from qingyuan.matching.features import BehaviourPrior
from qingyuan.matching.models import Decision, Profile, Proposal
from qingyuan.matching.population import load_population
from qingyuan.matching.scoring import ColdStartModel
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
    result = run(client, train_model, tmp_path / "models", START, 200)
    assert result["trained"] is False and result["decisions"] == 0
    assert not (tmp_path / "models").exists()


def test_a_model_measured_on_too_few_held_out_pairs_is_not_promoted(client, tmp_path):
    """Six days of a small population leave 36 held-out pairs, below `is_not_worse`'s 500:
    the model is trained and saved, but the live scorer stays the cold-start prior."""
    build_population(client, 24)
    simulate_days(client, 6)
    models = tmp_path / "models"
    result = run(client, train_model, models, START + timedelta(days=6), 40)
    assert result["trained"] is True and result["decisions"] >= 40, result
    assert set(result["metrics"]) >= {"roc_auc", "log_loss", "brier"}
    assert result["live_was"] == "cold-start prior"
    assert result["metrics"]["n_pairs"] < 500 and result["promoted"] is False
    saved = sorted(models.glob("pair-model-*.joblib"))
    assert len(saved) == 1  # versioned, immutable; the description file sits beside it
    assert live_model(models) is None and not (models / LIVE_POINTER).exists()


async def _decided_history(days: int, pairs_per_day: int) -> None:
    """`pairs_per_day` decided proposals a day among the stored members: each side likes a
    partner who shares an interest with them far more often (a pattern a model can learn)."""
    rng = random.Random(5)
    interests = dict(await Profile.all().values_list("user_id", "interests"))
    ids = sorted(interests)
    proposals = []
    for offset in range(days):
        day = START + timedelta(days=offset)
        for a, b in rng.sample([(a, b) for a in ids for b in ids if a < b], pairs_per_day):
            like_rate = 0.85 if set(interests[a]) & set(interests[b]) else 0.15
            a_likes, b_likes = (rng.random() < like_rate for _ in range(2))
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            proposals.append(
                Proposal(
                    day=day,
                    a_id=a,
                    b_id=b,
                    score=0.5,
                    expires_at=at + timedelta(days=1),
                    a_decision=Decision.LIKE if a_likes else Decision.PASS,
                    b_decision=Decision.LIKE if b_likes else Decision.PASS,
                    a_decided_at=at,
                    b_decided_at=at,
                )
            )
    await Proposal.bulk_create(proposals)


async def _scores_of_run(kernel, day: date) -> tuple[list[float], list[float], list[float]]:
    """The scores the daily run stored for `day`, and those the live model and the
    cold-start prior give the same pairs (on the population the run loaded)."""
    population = await load_population(day)
    await run_day(kernel, day)
    stored = await Proposal.filter(day=day).order_by("id").values_list("a_id", "b_id", "score")
    a = population.index_of(np.array([row[0] for row in stored]))
    b = population.index_of(np.array([row[1] for row in stored]))
    members = population.members
    model = live_model(model_dir(kernel.settings))
    cold = ColdStartModel(BehaviourPrior.fit(members.behaviour))
    return (
        [row[2] for row in stored],
        pair_scores(members, model, a, b).tolist(),
        pair_scores(members, cold, a, b).tolist(),
    )


def test_training_promotes_a_model_that_is_not_worse_and_the_run_uses_it(client):
    build_population(client, 40)
    run(client, _decided_history, 6, 300)
    kernel = client.app.state.kernel
    models = model_dir(kernel.settings)
    result = run(client, train_model, models, START + timedelta(days=6), 40)
    assert result["trained"] is True and result["metrics"]["n_pairs"] >= 500, result
    assert result["live_was"] == "cold-start prior"
    assert result["promoted"] is True, result
    assert (models / LIVE_POINTER).is_file()
    assert live_model(models).version == result["version"]
    stored, by_model, by_prior = run(client, _scores_of_run, kernel, START + timedelta(days=7))
    assert stored and stored == pytest.approx(by_model, abs=1e-6)
    assert stored != pytest.approx(by_prior, abs=1e-6)  # the check tells the two apart


class Finished(TaskiqMiddleware):
    """Records what each finished job returned, or raised (taskiq's hook after a job ran)."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[tuple[str, object]] = []

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult) -> None:
        self.results.append((message.task_name, result.error or result.return_value))


def test_the_worker_retrains_nightly_once_however_many_ticks(make_settings, make_client):
    settings = make_settings(QINGYUAN_MODEL_MIN_DECISIONS="40")
    client = make_client(settings, run_worker=True)
    build_population(client, 24)
    simulate_days(client, 6)
    broker = client.app.state.kernel.broker
    schedule = [t for t in broker.get_all_tasks().values() if t.task_name == "matching.retrain"]
    assert schedule[0].labels["schedule"][0]["cron"] == "30 3 * * *"
    finished = Finished()
    broker.add_middlewares(finished)
    for _ in range(2):  # two workers' cron ticks
        run(client, kick, broker, "matching.retrain")
    assert wait_for(lambda: len(finished.results) == 2)  # both ticks were handled
    trained = [isinstance(result, dict) and result["trained"] for _, result in finished.results]
    assert sorted(trained) == [False, True], finished.results  # one trained, one was told no
    assert len(list(model_dir(settings).glob("pair-model-*.joblib"))) == 1


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
