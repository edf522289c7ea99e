from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from qingyuan.matching import (
    FEATURE_NAMES,
    BehaviourPrior,
    ColdStartModel,
    Metrics,
    ScoringModel,
    evaluate,
    is_not_worse,
    pair_features,
    reciprocal_score,
    train,
)
from tests.matching.populations import population

probabilities = st.floats(0, 1)


@given(probabilities, probabilities)
def test_reciprocal_score_is_a_symmetric_mean_bounded_by_twice_the_smaller(
    p: float, q: float
) -> None:
    score = float(reciprocal_score(p, q))
    low, high = min(p, q), max(p, q)
    assert score == float(reciprocal_score(q, p))
    assert low * (1 - 1e-12) <= score <= high * (1 + 1e-12)
    assert score <= 2 * low * (1 + 1e-12)


@given(probabilities)
def test_reciprocal_score_is_zero_when_either_side_is_zero(p: float) -> None:
    assert reciprocal_score(p, 0.0) == 0.0 == reciprocal_score(0.0, p)


def test_reciprocal_score_punishes_one_sided_pairs() -> None:
    np.testing.assert_allclose(reciprocal_score([0.9, 0.5], [0.1, 0.5]), [0.18, 0.5])


def test_linear_scorer_gives_the_pipeline_probabilities(
    trained: ScoringModel, labelled_pairs: tuple[np.ndarray, ...]
) -> None:
    features = labelled_pairs[0].copy()
    features[::7, FEATURE_NAMES.index("question_match")] = np.nan
    expected = trained.estimator.predict_proba(features)[:, 1]
    np.testing.assert_allclose(trained.predict(features), expected, atol=1e-6)


def test_training_measures_on_the_latest_days(
    trained: ScoringModel, labelled_pairs: tuple[np.ndarray, ...]
) -> None:
    assert trained.kind == "logistic" and trained.version == "test-1"
    assert trained.metrics.n_pairs == 1200  # days 8 and 9 of 0..9
    assert trained.metrics.roc_auc > 0.6


def test_training_is_deterministic(
    trained: ScoringModel, labelled_pairs: tuple[np.ndarray, ...]
) -> None:
    features, liked, day = labelled_pairs
    again = train(features, liked, day, trained.prior, version="test-1")
    assert again.metrics == trained.metrics
    np.testing.assert_array_equal(again.predict(features), trained.predict(features))


def test_gradient_boosting_rises_with_desirability(labelled_pairs: tuple[np.ndarray, ...]) -> None:
    features, liked, day = labelled_pairs
    with threadpool_limits(1):  # OpenMP threads spin badly on a busy machine
        model = train(features, liked, day, BehaviourPrior(0.4, 0.5), kind="gradient_boosting")
    grid = np.repeat(features[:1], 50, axis=0)
    grid[:, FEATURE_NAMES.index("b_desirability_logit")] = np.linspace(-3, 3, 50)
    assert np.all(np.diff(model.predict(grid)) >= 0)


def test_training_needs_a_time_split(labelled_pairs: tuple[np.ndarray, ...]) -> None:
    features, liked, day = labelled_pairs
    with pytest.raises(ValueError, match="time"):
        train(features, liked, np.zeros_like(day), BehaviourPrior(0.4, 0.5))


def test_unknown_model_kind_is_refused(labelled_pairs: tuple[np.ndarray, ...]) -> None:
    with pytest.raises(ValueError, match="kind"):
        train(*labelled_pairs, BehaviourPrior(0.4, 0.5), kind="forest")  # type: ignore[arg-type]


def test_cold_start_scores_a_pair_without_history_at_the_population_rate() -> None:
    prior = BehaviourPrior(like_rate=0.3, reply_rate=0.5)
    members = population(3, likes_received=[0, 0, 9], proposals_received=[0, 0, 10])
    features = pair_features(members, np.array([0, 0]), np.array([1, 2]), prior)
    p = ColdStartModel(prior).predict(features)
    assert p[0] == pytest.approx(0.3, abs=1e-6)
    assert p[1] > 0.5  # b was liked 9 times in 10


def test_cold_start_weighs_a_shared_questionnaire() -> None:
    prior = BehaviourPrior(like_rate=0.3, reply_rate=0.5)
    members = population(
        3, answers=[[0], [0], [1]], acceptable=[[0b01], [0b01], [0b01]], importance=[[3], [3], [3]]
    )
    features = pair_features(members, np.array([0, 0]), np.array([1, 2]), prior)
    compatible, incompatible = ColdStartModel(prior).predict(features)
    assert compatible > 0.3 > incompatible


def test_evaluate_reports_ranking_and_calibration(
    trained: ScoringModel, labelled_pairs: tuple[np.ndarray, ...]
) -> None:
    features, liked, _ = labelled_pairs
    metrics = evaluate(trained, features, liked)
    assert metrics.roc_auc == pytest.approx(roc_auc_score(liked, trained.predict(features)))
    assert metrics.n_pairs == len(liked) and metrics.like_rate == pytest.approx(liked.mean())
    with pytest.raises(ValueError, match="both"):
        evaluate(trained, features[:3], np.ones(3))


LIVE = Metrics(roc_auc=0.75, log_loss=0.6, brier=0.2, n_pairs=5000, like_rate=0.4)


@pytest.mark.parametrize(
    ("change", "promoted"),
    [
        ({}, True),
        ({"roc_auc": 0.78, "brier": 0.19}, True),
        ({"roc_auc": 0.746}, True),  # within noise
        ({"roc_auc": 0.74}, False),
        ({"brier": 0.21}, False),
        ({"roc_auc": 0.9, "n_pairs": 300}, False),  # too few pairs to trust
    ],
)
def test_promotion_rule(change: dict, promoted: bool) -> None:
    assert is_not_worse(replace(LIVE, **change), LIVE) is promoted
