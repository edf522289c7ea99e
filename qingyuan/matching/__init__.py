"""Matching (每日速配): profiles and the questionnaire (`profiles`), the daily proposals and
their cards (`daily`, `cards`), likes and passes (`decisions`), and the matcher behind them:
pair features, the p(a likes b) model, the reciprocal pair score and its training.

See docs/brief.md §6. The Speed Dating evaluation lives in :mod:`qingyuan.matching.speed_dating`.

The matcher's names below are re-exported lazily (PEP 562): pages that only need profiles or
cards must not pay for importing scikit-learn, which takes seconds when a web worker starts;
only job workers import it (tests/web/test_app_imports.py).
"""

from __future__ import annotations

import importlib
from typing import Any

from qingyuan.matching.models import Decision, Profile, Proposal

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
__all__ = ["Decision", "Profile", "Proposal", *sorted(_HOME)]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
