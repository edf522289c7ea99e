"""p(a likes b) from pair features, the reciprocal pair score, training and promotion.

Model choice. The daily matcher scores tens of millions of candidate pairs, so throughput
matters as much as AUC. Logistic regression over the engineered features of
:mod:`qingyuan.matching.features` — smoothed like rates as log-odds add up like a
Bradley-Terry model — is the default. On Speed Dating it beats gradient boosting (one-sided AUC
0.804 vs 0.794, mutual 0.777 vs 0.757), and folded into a :class:`LinearScorer` it scores
~20M pairs/s against ~0.1M for gradient boosting (2-core machine; docs/brief.md §12 has ~60M vs
~0.27M), so scoring never limits the daily run: building the features does (~1–2M pairs/s).
``"gradient_boosting"`` stays available for comparison should richer features make it pay.

Gradient boosting is monotone in the two behaviour rates. Training labels come from the
same history as the rates, so rates are leave-one-out, and a leave-one-out rate is *lower*
when the held-out decision was a like; unconstrained trees learn that artefact per member
instead of the real "people who like often, like" (Speed Dating one-sided AUC 0.77 → 0.80
with the constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal, Protocol

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from qingyuan.matching.features import FEATURE_NAMES, BehaviourPrior

ModelKind = Literal["logistic", "gradient_boosting"]

_BEHAVIOUR_RATES = ("a_pickiness_logit", "b_desirability_logit")
_SEED = 0


class PairScorer(Protocol):
    """Anything that turns a :func:`~qingyuan.matching.features.pair_features` matrix into p."""

    @property
    def prior(self) -> BehaviourPrior: ...

    def predict(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Metrics:
    """Quality of p(a→b) on held-out pairs: ranking (ROC AUC) and calibration (log loss, Brier)."""

    roc_auc: float
    log_loss: float
    brier: float
    n_pairs: int
    like_rate: float


@dataclass(frozen=True)
class LinearScorer:
    """``p = sigmoid(weights · x + bias)``, NaN features replaced by ``fill`` first.

    The production form of both the logistic pipeline (imputer medians as ``fill``, the
    scaler's mean and scale folded into ``weights`` and ``bias``) and the cold-start prior.
    It scores in float32 without scikit-learn's validation and float64 copies, which is what
    lets the matcher score tens of millions of pairs.
    """

    fill: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> LinearScorer:
        """Fold a fitted imputer → scaler → logistic regression pipeline into one affine map."""
        imputer, scaler, logistic = (step for _, step in pipeline.steps)
        weights = logistic.coef_[0] / scaler.scale_
        return cls(
            fill=imputer.statistics_.astype(np.float32),
            weights=weights.astype(np.float32),
            bias=float(logistic.intercept_[0] - weights @ scaler.mean_),
        )

    def predict(self, features: np.ndarray) -> np.ndarray:
        """p(a likes b) for each row of a pair-feature matrix.

        Column by column, which is contiguous in the column-major matrices of
        :func:`~qingyuan.matching.features.pair_features`; a column is copied only when it has
        NaN to fill, and a zero weight costs nothing.
        """
        logit = np.full(len(features), self.bias, dtype=np.float32)
        for column, weight, fill in zip(features.T, self.weights, self.fill, strict=True):
            if weight == 0:
                continue
            missing = np.isnan(column)
            logit += weight * (np.where(missing, fill, column) if missing.any() else column)
        return _sigmoid(logit)


@dataclass(frozen=True)
class ScoringModel:
    """A trained pipeline with what is needed to use and judge it: prior, version, metrics."""

    estimator: Pipeline
    kind: ModelKind
    version: str
    prior: BehaviourPrior
    metrics: Metrics
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def predict(self, features: np.ndarray) -> np.ndarray:
        """p(a likes b) for each row of a pair-feature matrix."""
        if self.kind == "logistic":
            return self.linear.predict(features)
        return self.estimator.predict_proba(features)[:, 1]

    @cached_property
    def linear(self) -> LinearScorer:
        """The logistic pipeline as a :class:`LinearScorer` (logistic models only)."""
        return LinearScorer.from_pipeline(self.estimator)


@dataclass(frozen=True)
class ColdStartModel:
    """The documented prior used before any model is trained: a hand-set logistic.

    ``logit p = logit(like_rate) + Σ weight · (feature − neutral)`` over the terms in
    :data:`COLD_START_TERMS`, an unknown (NaN) feature counting as neutral. The two behaviour
    log-odds enter with weight 1 around the population log-odds, the Bradley-Terry form, so a
    pair with no history scores the population like rate and the prior already uses history
    as it accumulates. Profile terms are deliberately small — none moves the odds more than
    e ≈ 2.7 times — because stated preferences predict little of what people actually like
    (Speed Dating profile-only AUC ≈ 0.6). On Speed Dating this prior alone reaches one-sided
    AUC 0.76 and mutual 0.72, which is why it is also the bar a first trained model must clear.
    """

    prior: BehaviourPrior

    def predict(self, features: np.ndarray) -> np.ndarray:
        """p(a likes b) for each row of a pair-feature matrix."""
        return self.linear.predict(features)

    @cached_property
    def linear(self) -> LinearScorer:
        """The prior as a :class:`LinearScorer`: NaN is filled with the neutral value, so it
        adds nothing, and features without a term get weight 0."""
        base = _logit(self.prior.like_rate)
        fill = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
        weights = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
        for name, (weight, neutral) in COLD_START_TERMS.items():
            column = FEATURE_NAMES.index(name)
            fill[column] = base if neutral is None else neutral
            weights[column] = weight
        return LinearScorer(fill=fill, weights=weights, bias=base - float(weights @ fill))


# feature: (weight, neutral value); None means the population like log-odds
COLD_START_TERMS: dict[str, tuple[float, float | None]] = {
    "a_pickiness_logit": (1.0, None),
    "b_desirability_logit": (1.0, None),
    "pref_age_fit": (0.5, 1.0),
    "pref_city_fit": (0.5, 1.0),
    "pref_degree_fit": (0.5, 1.0),
    "pref_trait_fit": (0.3, 0.0),
    "question_match": (2.0, 0.5),
    "interest_cosine": (1.0, 0.0),
}


def reciprocal_score(p_ab: np.ndarray, p_ba: np.ndarray) -> np.ndarray:
    """Harmonic mean of p(a→b) and p(b→a): the pair's score, 0 when either side is 0.

    Harmonic, not arithmetic: 0.9 and 0.1 give 0.18, not 0.5, because a proposal one side will
    almost surely pass wastes the daily slot of both. The result lies between min and 2·min,
    so it reads as a probability; it is computed as ``2·lo·(hi / (lo + hi))`` on the sorted
    pair, which is exactly symmetric and does not underflow for tiny probabilities.
    """
    p, q = np.asarray(p_ab, dtype=np.float64), np.asarray(p_ba, dtype=np.float64)
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    share = np.divide(hi, lo + hi, out=np.zeros(np.broadcast(lo, hi).shape), where=lo > 0)
    return 2.0 * lo * share


def _estimator(kind: ModelKind) -> Pipeline:
    """The untrained pipeline for ``kind``; seeds are fixed so training is deterministic."""
    # Median imputation for both: HistGradientBoosting's own NaN handling fails on a column
    # that is NaN throughout (scikit-learn 1.9), e.g. degree_diff where degrees are unknown.
    imputer = SimpleImputer(strategy="median", keep_empty_features=True)
    if kind == "logistic":
        return make_pipeline(imputer, StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    if kind == "gradient_boosting":
        monotone = [int(name in _BEHAVIOUR_RATES) for name in FEATURE_NAMES]
        return make_pipeline(
            imputer,
            HistGradientBoostingClassifier(
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=15,
                min_samples_leaf=40,
                monotonic_cst=monotone,
                early_stopping=False,
                random_state=_SEED,
            ),
        )
    raise ValueError(f"unknown model kind {kind!r}")


def train(
    features: np.ndarray,
    liked: np.ndarray,
    time: np.ndarray,
    prior: BehaviourPrior,
    kind: ModelKind = "logistic",
    validation_share: float = 0.2,
    version: str | None = None,
) -> ScoringModel:
    """Fit p(a→b), measure it on the latest pairs, then refit on all of them.

    The latest ``validation_share`` of pairs by ``time`` (a day number, a wave…) is held out:
    a random split would let the model see the same evening or day from both sides and
    flatter it. The returned model is refitted on every pair, since the newest decisions are
    the most valuable; its metrics are those of the time-split fit.
    """
    late = time >= np.quantile(time, 1 - validation_share)
    if late.all() or not late.any():
        raise ValueError("time needs distinct values on both sides of the validation cut")
    held_out_fit = _estimator(kind).fit(features[~late], liked[~late])
    metrics = _metrics(held_out_fit.predict_proba(features[late])[:, 1], liked[late])
    return ScoringModel(
        estimator=_estimator(kind).fit(features, liked),
        kind=kind,
        version=version or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        prior=prior,
        metrics=metrics,
    )


def evaluate(scorer: PairScorer, features: np.ndarray, liked: np.ndarray) -> Metrics:
    """Metrics of any scorer on labelled pairs, e.g. the live model on a candidate's
    validation pairs so that :func:`is_not_worse` compares like with like."""
    return _metrics(scorer.predict(features), liked)


def _metrics(p: np.ndarray, liked: np.ndarray) -> Metrics:
    if len(np.unique(liked)) < 2:
        raise ValueError("validation pairs need both likes and passes")
    return Metrics(
        roc_auc=float(roc_auc_score(liked, p)),
        log_loss=float(log_loss(liked, p, labels=[0, 1])),
        brier=float(brier_score_loss(liked, p)),
        n_pairs=len(liked),
        like_rate=float(np.mean(liked)),
    )


def is_not_worse(
    candidate: Metrics,
    live: Metrics,
    auc_tolerance: float = 0.005,
    brier_tolerance: float = 0.002,
    min_pairs: int = 500,
) -> bool:
    """Promotion rule: may the candidate replace the live model?

    Both metrics must come from the same validation pairs (see :func:`evaluate`). The
    candidate needs ``min_pairs`` of them — an AUC on a few hundred pairs moves by ±0.03 by
    chance — and may not rank worse than the live model by more than ``auc_tolerance`` nor be
    worse calibrated by more than ``brier_tolerance`` (the harmonic mean uses p's level, not
    only its order). The tolerances let a retrain on fresh data through when it is as good
    within noise. Before the first model the live scorer is :class:`ColdStartModel`, so a
    first model must be no worse than the hand-set prior.
    """
    if candidate.n_pairs < min_pairs:
        return False
    ranks_as_well = candidate.roc_auc >= live.roc_auc - auc_tolerance
    calibrated_as_well = candidate.brier <= live.brier + brier_tolerance
    return ranks_as_well and calibrated_as_well


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
