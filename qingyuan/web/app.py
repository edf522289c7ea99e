"""The Starlette application: plain route and middleware lists, and a lifespan.

`uvicorn --factory qingyuan.web.app:create_app` builds it from the environment. In the
embedded mode (the default with `memory://` Redis) the job worker runs inside the lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from qingyuan.parts import build_kernel, build_services, ensure_migrated, tortoise_config
from qingyuan.platform.jobs import Worker
from qingyuan.platform.settings import deploy_problems
from qingyuan.settings import Settings, load_settings
from qingyuan.web.bodies import BodyLimitMiddleware
from qingyuan.web.errors import EXCEPTION_HANDLERS
from qingyuan.web.middleware import LocaleMiddleware, MetricsMiddleware, SecurityHeadersMiddleware
from qingyuan.web.routes import (
    activities,
    activities_staff,
    api,
    chat,
    health,
    introductions,
    matches,
    moderation,
    notifications,
    pages,
    profiles,
    verification,
)


class UnsafeProductionSettings(RuntimeError):
    """Production refuses to start on settings that `qingyuan check --deploy` lists."""


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> Starlette:
    """Assemble the app; `run_worker` defaults to the embedded mode (in-memory Redis)."""
    settings = settings or load_settings()
    if settings.is_production and (problems := deploy_problems(settings)):
        raise UnsafeProductionSettings("; ".join(problems))
    embedded_worker = settings.uses_memory_redis if run_worker is None else run_worker

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ensure_migrated(settings)
        services = build_services(build_kernel(settings))
        kernel = services.kernel
        app.state.kernel, app.state.services = kernel, services
        config = tortoise_config(settings.database_url)
        async with RegisterTortoise(app, config=config):
            await kernel.broker.startup()
            worker = Worker(kernel.broker, kernel.retries) if embedded_worker else None
            if worker:
                await worker.start()
            try:
                yield
            finally:
                if worker:
                    await worker.stop()
                await services.aclose()

    return Starlette(
        debug=settings.debug,
        routes=[
            *health.routes,
            *api.routes,
            *pages.routes,
            *verification.routes,
            *profiles.routes,
            *matches.routes,
            *notifications.routes,
            *activities.routes,
            *activities_staff.routes,
            *chat.routes,
            *moderation.routes,
            *introductions.routes,
            Mount(
                "/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"
            ),
        ],
        middleware=_middleware(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


def _middleware(settings: Settings) -> list[Middleware]:
    stack = [
        Middleware(MetricsMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.is_production),
        Middleware(LocaleMiddleware),
        Middleware(BodyLimitMiddleware),
    ]
    if "*" not in settings.allowed_hosts:
        stack.insert(1, Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts))
    return stack
