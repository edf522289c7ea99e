"""Connections' section: the chat safety rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from qingyuan.connections import safety
from qingyuan.platform.settings import RateLimit, SettingsError
from qingyuan.settings import load_settings


def _settings(tmp_path, **variables: str):
    return load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), **variables}, env_file=None)


def test_safety_rules_come_from_the_typed_fields(tmp_path):
    settings = _settings(
        tmp_path,
        QINGYUAN_RATE_CHAT_NEW="6/60",
        QINGYUAN_CHAT_NEW_MEMBER_DAYS="3",
        QINGYUAN_CHAT_MAX_LENGTH="200",
    )
    rules = safety.safety_settings(settings)
    assert rules.limits[safety.Level.NEW] == RateLimit(6, 60)
    assert rules.limits[safety.Level.ESTABLISHED] == RateLimit(300, 3600)
    assert rules.new_member == timedelta(days=3) and rules.max_length == 200
    assert set(rules.scam_patterns) == set(safety.DEFAULT_SCAM_PATTERNS)


def test_scam_patterns_replace_the_defaults(tmp_path):
    patterns = json.dumps({"crypto": ["usdt", "币圈"]})
    rules = safety.safety_settings(_settings(tmp_path, QINGYUAN_CHAT_SCAM_PATTERNS=patterns))
    assert set(rules.scam_patterns) == {"crypto"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('{"money": "转账"}', "valid list"),
        ("[money]", "is not JSON"),
        ('{"money": ["[转账"]}', "not a regex"),
    ],
)
def test_malformed_scam_patterns_stop_the_start(tmp_path, value, why):
    with pytest.raises(SettingsError, match=r"^QINGYUAN_CHAT_SCAM_PATTERNS") as error:
        _settings(tmp_path, QINGYUAN_CHAT_SCAM_PATTERNS=value)
    assert why in str(error.value)
