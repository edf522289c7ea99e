"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

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


def test_metrics_counts_requests_by_endpoint(client):
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'qingyuan_http_requests_total{endpoint="healthz",method="GET",status="200"}' in text
