"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise import connections

from qingyuan.web.security import kernel_of


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
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics),
]
