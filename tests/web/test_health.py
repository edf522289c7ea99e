"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qingyuan.cli import prepare_metrics_dir
from qingyuan.platform.models import User
from qingyuan.platform.redis import connect
from qingyuan.platform.sessions import SessionStore
from tests.conftest import run


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def break_redis(client) -> None:
    """Point the app at a Redis that refuses connections, as when the server goes down."""
    kernel = client.app.state.kernel
    kernel.redis = connect("redis://127.0.0.1:1/0")
    kernel.sessions = SessionStore(kernel.redis, idle_seconds=60, absolute_seconds=600)


def test_readyz_reports_redis_down(client):
    break_redis(client)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "down"


def test_redis_down_is_a_503_that_writes_nothing(client, make_user):
    user = make_user()
    break_redis(client)
    response = client.post(
        "/api/v1/session", json={"phone": "13700000000", "password": "whatever1"}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    client.cookies.set("qy_session", "x" * 40)
    page = client.get("/login")
    assert page.status_code == 503 and "<html" in page.text and "服务暂时不可用" in page.text
    assert run(client, User.get, id=user.id).last_login_at is None


SCRAPER = {"Authorization": "Bearer scrape-token-1"}


@pytest.fixture
def scraped(make_settings, make_client):
    return make_client(make_settings(QINGYUAN_METRICS_TOKEN="scrape-token-1"))


def test_metrics_counts_requests_by_endpoint(scraped):
    scraped.get("/healthz")
    text = scraped.get("/metrics", headers=SCRAPER).text
    assert 'qingyuan_http_requests_total{endpoint="healthz",method="GET",status="200"}' in text


def test_metrics_without_a_token_setting_are_for_loopback_only(client):
    assert client.get("/metrics").status_code == 404  # the test client is not 127.0.0.1


def test_metrics_need_the_token(scraped):
    assert scraped.get("/metrics").status_code == 404
    assert scraped.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 404


def test_metrics_sum_every_worker(scraped, tmp_path, monkeypatch):
    """`serve --workers N` runs N processes: /metrics must add up all of them."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    worker = (
        "from qingyuan.web.middleware import REQUESTS;"
        "REQUESTS.labels('GET', 'elsewhere', '200').inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], check=True, env=dict(os.environ))
    text = scraped.get("/metrics", headers=SCRAPER).text
    line = 'qingyuan_http_requests_total{endpoint="elsewhere",method="GET",status="200"} 2.0'
    assert line in text


def test_serve_starts_multiprocess_metrics_in_an_emptied_directory(settings, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    stale = settings.data_dir / "metrics" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an earlier run")
    directory = prepare_metrics_dir(settings)
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory) == str(stale.parent)
    assert not stale.exists()
