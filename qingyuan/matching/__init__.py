"""Matching (每日速配): pair features, the p(a likes b) model and the reciprocal pair score.

See DESIGN.md §6. The Speed Dating evaluation lives in :mod:`qingyuan.matching.speed_dating`.

The names below are re-exported lazily (PEP 562): pages that only need profiles or cards must
not pay for importing scikit-learn, which takes seconds when a web worker starts.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "features": (
        "FEATURE_NAMES",
        "Behaviour",
        "BehaviourPrior",
        "Members",
        "Preferences",
        "pair_features",
        "smoothed_rate",
    ),
    "model_store": ("ModelFileError", "load_model", "save_model"),
    "questionnaire": ("IMPORTANCE_WEIGHTS", "Questionnaire", "compare"),
    "scoring": (
        "ColdStartModel",
        "LinearScorer",
        "Metrics",
        "ModelKind",
        "PairScorer",
        "ScoringModel",
        "evaluate",
        "is_not_worse",
        "reciprocal_score",
        "train",
    ),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
