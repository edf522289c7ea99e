import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sklearn

from qingyuan.matching import FEATURE_NAMES, ModelFileError, ScoringModel, load_model, save_model


def test_round_trip_keeps_predictions_and_description(
    tmp_path: Path, trained: ScoringModel, labelled_pairs: tuple[np.ndarray, ...]
) -> None:
    path = save_model(trained, tmp_path / "models")
    loaded = load_model(path)
    assert path.name == "pair-model-test-1.joblib"
    assert (loaded.kind, loaded.version, loaded.prior, loaded.metrics) == (
        trained.kind, trained.version, trained.prior, trained.metrics,
    )  # fmt: skip
    features = labelled_pairs[0]
    np.testing.assert_array_equal(loaded.predict(features), trained.predict(features))


def test_description_is_readable_json(tmp_path: Path, trained: ScoringModel) -> None:
    description = json.loads(save_model(trained, tmp_path).with_suffix(".json").read_text())
    assert description["version"] == "test-1" and description["kind"] == "logistic"
    assert description["feature_names"] == list(FEATURE_NAMES)
    assert description["metrics"]["roc_auc"] == trained.metrics.roc_auc
    assert description["prior"]["like_rate"] == trained.prior.like_rate
    assert description["sklearn_version"] == sklearn.__version__


def test_a_version_is_never_overwritten(tmp_path: Path, trained: ScoringModel) -> None:
    save_model(trained, tmp_path)
    with pytest.raises(FileExistsError):
        save_model(trained, tmp_path)


def test_a_version_must_be_a_plain_file_name_part(tmp_path: Path, trained: ScoringModel) -> None:
    with pytest.raises(ValueError, match="version"):
        save_model(replace(trained, version="../live"), tmp_path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("feature_names", ["age_gap"]),
        ("sklearn_version", "0.1"),
        ("format", 99),
        ("sha256", "0" * 64),
    ],
)
def test_a_mismatched_model_file_is_refused(
    tmp_path: Path, trained: ScoringModel, field: str, value: object
) -> None:
    path = save_model(trained, tmp_path)
    description_path = path.with_suffix(".json")
    description = json.loads(description_path.read_text())
    description_path.write_text(json.dumps({**description, field: value}))
    with pytest.raises(ModelFileError, match=field):
        load_model(path)
