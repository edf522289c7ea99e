"""Matching (每日速配): pair features, the p(a likes b) model and the reciprocal pair score.

See DESIGN.md §6. The Speed Dating evaluation lives in :mod:`qingyuan.matching.speed_dating`.
"""

from qingyuan.matching.features import (
    FEATURE_NAMES,
    Behaviour,
    BehaviourPrior,
    Members,
    Preferences,
    pair_features,
    smoothed_rate,
)
from qingyuan.matching.model_store import ModelFileError, load_model, save_model
from qingyuan.matching.questionnaire import IMPORTANCE_WEIGHTS, Questionnaire, compare
from qingyuan.matching.scoring import (
    ColdStartModel,
    LinearScorer,
    Metrics,
    ModelKind,
    PairScorer,
    ScoringModel,
    evaluate,
    is_not_worse,
    reciprocal_score,
    train,
)

__all__ = [
    "FEATURE_NAMES",
    "IMPORTANCE_WEIGHTS",
    "Behaviour",
    "BehaviourPrior",
    "ColdStartModel",
    "LinearScorer",
    "Members",
    "Metrics",
    "ModelFileError",
    "ModelKind",
    "PairScorer",
    "Preferences",
    "Questionnaire",
    "ScoringModel",
    "compare",
    "evaluate",
    "is_not_worse",
    "load_model",
    "pair_features",
    "reciprocal_score",
    "save_model",
    "smoothed_rate",
    "train",
]
