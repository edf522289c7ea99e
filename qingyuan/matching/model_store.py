"""Versioned model files: ``pair-model-<version>.joblib`` with a JSON description beside it.

The JSON holds what people and the promotion rule read — version, kind, metrics, feature
names, the behaviour prior, library versions, the joblib file's SHA-256 — so a model can be
judged without unpickling it. Loading refuses a file whose features, scikit-learn version or
checksum do not match: a model scored on different columns than it was trained on returns
numbers that look plausible and are wrong. Joblib files are pickles; load only files this
platform wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import joblib
import sklearn

from qingyuan.matching.features import FEATURE_NAMES, BehaviourPrior
from qingyuan.matching.scoring import Metrics, ScoringModel

FORMAT = 1


class ModelFileError(Exception):
    """The model file cannot be used by this version of the code."""


def save_model(model: ScoringModel, directory: Path) -> Path:
    """Write the model and its description; return the joblib path. Versions are immutable."""
    if not re.fullmatch(r"[\w.-]+", model.version):
        raise ValueError(f"model version {model.version!r} is not a plain file-name part")
    path = directory / f"pair-model-{model.version}.joblib"
    if path.exists():
        raise FileExistsError(f"model version {model.version} already saved at {path}")
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model.estimator, buffer)
    blob = buffer.getvalue()
    _write_atomically(path, blob)
    _write_atomically(
        _description_path(path), json.dumps(_describe(model, blob), indent=2).encode()
    )
    return path


def load_model(path: Path) -> ScoringModel:
    """Read a model written by :func:`save_model`, checking it fits the running code."""
    description = json.loads(_description_path(path).read_text())
    blob = path.read_bytes()
    _check(description, blob)
    return ScoringModel(
        estimator=joblib.load(io.BytesIO(blob)),
        kind=description["kind"],
        version=description["version"],
        prior=BehaviourPrior(**description["prior"]),
        metrics=Metrics(**description["metrics"]),
        feature_names=tuple(description["feature_names"]),
    )


def _describe(model: ScoringModel, blob: bytes) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": model.version,
        "kind": model.kind,
        "metrics": asdict(model.metrics),
        "feature_names": list(model.feature_names),
        "prior": asdict(model.prior),
        "sklearn_version": sklearn.__version__,
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


def _check(description: dict[str, Any], blob: bytes) -> None:
    checks = {
        "format": (description.get("format"), FORMAT),
        "feature_names": (tuple(description.get("feature_names", ())), FEATURE_NAMES),
        "sklearn_version": (description.get("sklearn_version"), sklearn.__version__),
        "sha256": (description.get("sha256"), hashlib.sha256(blob).hexdigest()),
    }
    for field, (found, expected) in checks.items():
        if found != expected:
            raise ModelFileError(f"{field} of the model file is {found!r}, expected {expected!r}")


def _description_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename, so a crash never leaves half a model behind."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
