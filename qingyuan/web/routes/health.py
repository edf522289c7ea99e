"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os
from ipaddress import ip_address

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise import connections

from qingyuan.platform.errors import NotFound
from qingyuan.web.security import kernel_of
from qingyuan.web.settings import web_settings


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when both the database and Redis answer; 503 names which one does not."""
    checks = {"database": await _database_ok(), "redis": await _redis_ok(request)}
    status = 200 if all(checks.values()) else 503
    return JSONResponse(
        {
            "status": "ok" if status == 200 else "unavailable",
            "checks": {k: "ok" if v else "down" for k, v in checks.items()},
        },
        status_code=status,
    )


async def _database_ok() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


async def _redis_ok(request: Request) -> bool:
    try:
        return bool(await kernel_of(request).redis.ping())
    except Exception:
        return False


async def metrics(request: Request) -> Response:
    """Prometheus metrics, for the scraper only (QINGYUAN_METRICS_TOKEN, else loopback).

    Under `qingyuan serve --workers N` every worker writes its samples to
    PROMETHEUS_MULTIPROC_DIR and this sums them; otherwise it would report whichever worker
    happened to answer.
    """
    if not _may_scrape(request):
        raise NotFound()
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _may_scrape(request: Request) -> bool:
    token = web_settings(kernel_of(request).settings).metrics_token
    if token:
        sent = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(sent, f"Bearer {token.get_secret_value()}".encode())
    try:
        return request.client is not None and ip_address(request.client.host).is_loopback
    except ValueError:  # not an address (a Unix socket, a test client)
        return False


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics),
]
