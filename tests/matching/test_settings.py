"""Matching's section: the matcher's knobs."""

from __future__ import annotations

import pytest

from qingyuan.matching.settings import matching_settings
from qingyuan.platform.settings import SettingsError
from qingyuan.settings import load_settings


def _settings(tmp_path, **variables: str):
    return load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), **variables}, env_file=None)


def test_matcher_knobs_are_typed(tmp_path):
    config = matching_settings(
        _settings(
            tmp_path,
            QINGYUAN_MATCHES_PER_DAY="2",
            QINGYUAN_MATCH_LOCK_SECONDS="1.5",
            QINGYUAN_MODEL_MIN_DECISIONS="40",
        )
    )
    assert (config.matches_per_day, config.match_lock_seconds) == (2, 1.5)
    assert config.model_min_decisions == 40 and config.match_partition_delay == 0
    with pytest.raises(SettingsError, match=r"^QINGYUAN_MATCH_CANDIDATES: "):
        _settings(tmp_path, QINGYUAN_MATCH_CANDIDATES="thirty")
