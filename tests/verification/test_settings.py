"""Verification's section: shared secrets derived in development, given ones in production."""

from __future__ import annotations

import pytest

from qingyuan.platform.settings import RateLimit, SettingsError
from qingyuan.settings import load_settings
from qingyuan.verification.settings import verification_settings


def _settings(tmp_path, **variables: str):
    return verification_settings(
        load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), **variables}, env_file=None)
    )


def test_development_derives_the_department_secrets_from_the_secret_key(tmp_path):
    one = _settings(tmp_path, QINGYUAN_SECRET_KEY="a" * 48)
    other = _settings(tmp_path, QINGYUAN_SECRET_KEY="b" * 48)
    assert len(one.client_secret) == 64 and one.client_secret != other.client_secret
    assert one.subject_key != other.subject_key
    assert one.in_process and one.registry is None  # the bundled personas


def test_given_secrets_win_and_stay_out_of_the_repr(tmp_path):
    config = _settings(
        tmp_path,
        QINGYUAN_DEPARTMENTS_CLIENT_SECRET="client-s3cret",
        QINGYUAN_ATTESTATION_SUBJECT_KEY="subject-s3cret",
        QINGYUAN_DEPARTMENTS_URL="https://departments.example.cn",
    )
    assert config.client_secret == "client-s3cret" and config.subject_key == b"subject-s3cret"
    assert not config.in_process
    assert "s3cret" not in repr(config)


def test_limits_and_bounds_are_typed(tmp_path):
    config = _settings(
        tmp_path,
        QINGYUAN_RATE_APPEAL="2/86400",
        QINGYUAN_MAX_MEMBER_AGE="40",
        QINGYUAN_DEPARTMENT_TIMEOUT="2.5",
    )
    assert config.rate_appeal == RateLimit(2, 86400) and config.rate_unmask == RateLimit(30, 3600)
    assert config.max_member_age == 40 and config.department_timeout == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QINGYUAN_RATE_REGISTRATION_IP", "20/0"),
        ("QINGYUAN_ATTESTATION_VALID_DAYS", "half a year"),
        ("QINGYUAN_DEPARTMENT_TIMEOUT", "-1"),
    ],
)
def test_a_malformed_value_is_refused_naming_it(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"^{name}: "):
        _settings(tmp_path, **{name: value})


def test_the_demo_registry_in_the_data_dir_is_used_when_present(tmp_path):
    (tmp_path / "mock-registry.jsonl").write_text("")
    assert _settings(tmp_path).registry == tmp_path / "mock-registry.jsonl"
    given = tmp_path / "citizens.jsonl"
    given.write_text("")
    assert _settings(tmp_path, QINGYUAN_MOCK_REGISTRY=str(given)).registry == given


def test_a_registry_path_that_is_no_file_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="QINGYUAN_MOCK_REGISTRY: no such file"):
        _settings(tmp_path, QINGYUAN_MOCK_REGISTRY=str(tmp_path / "citizen.jsonl"))
