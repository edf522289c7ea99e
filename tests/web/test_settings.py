"""The web section: proxies, server limits, the metrics token."""

from __future__ import annotations

import pytest

from qingyuan.platform.settings import SettingsError
from qingyuan.settings import load_settings
from qingyuan.web.server import server_config
from qingyuan.web.settings import web_settings


def _settings(tmp_path, **variables: str):
    return load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), **variables}, env_file=None)


def test_server_options_come_from_the_typed_fields(tmp_path):
    settings = _settings(
        tmp_path,
        QINGYUAN_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8",
        QINGYUAN_HTTP_HEADER_TIMEOUT="4",
        QINGYUAN_HTTP_MAX_CONCURRENCY="50",
    )
    config = server_config(settings, "qingyuan.web.app:create_app", factory=True)
    assert config.forwarded_allow_ips == ["127.0.0.1", "10.0.0.0/8"] and config.proxy_headers
    assert config.limit_concurrency == 50
    assert web_settings(settings).http_header_timeout == 4


def test_no_proxy_is_trusted_by_default(tmp_path):
    config = server_config(_settings(tmp_path), "qingyuan.web.app:create_app", factory=True)
    assert not config.proxy_headers


def test_a_proxy_that_is_not_an_address_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"^QINGYUAN_TRUSTED_PROXIES: 'nginx' is not an"):
        _settings(tmp_path, QINGYUAN_TRUSTED_PROXIES="127.0.0.1,nginx")


def test_the_metrics_token_is_secret(tmp_path):
    settings = _settings(tmp_path, QINGYUAN_METRICS_TOKEN="scrape-s3cret")
    token = web_settings(settings).metrics_token
    assert token is not None and token.get_secret_value() == "scrape-s3cret"
    assert "scrape-s3cret" not in repr(settings)
