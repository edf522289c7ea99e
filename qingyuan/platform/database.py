"""The database: one Tortoise configuration, built-in migrations, and the migrated check.

Every part of Qingyuan registers its models as its own Tortoise app (its migrations live
beside its models), so adding a part means adding one line to `APPS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from qingyuan.platform.settings import Settings

APPS: dict[str, str] = {
    "platform": "qingyuan.platform",
    "verification": "qingyuan.verification",
    "matching": "qingyuan.matching",
    "events": "qingyuan.events",
}


class DatabaseNotMigrated(RuntimeError):
    """Raised at start-up when migrations are pending: serving would fail on every query."""


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            label: {
                "models": [f"{package}.models"],
                "migrations": f"{package}.migrations",
                "default_connection": "default",
            }
            for label, package in APPS.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _prepare(settings: Settings) -> None:
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)


_migrating: ContextVar[Settings] = ContextVar("qingyuan.migrating")


def migration_settings() -> Settings:
    """The settings of the `migrate` under way: data migrations need them for the PII keys."""
    return _migrating.get()


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (idempotent)."""
    _prepare(settings)
    token = _migrating.set(settings)
    try:
        await run_migrations(config=tortoise_config(settings.database_url))
    finally:
        _migrating.reset(token)
        await Tortoise.close_connections()


async def pending_migrations(settings: Settings) -> list[str]:
    """Names of the migrations not yet applied to the configured database."""
    _prepare(settings)
    config = tortoise_config(settings.database_url)
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(get_connection("default"), config["apps"])
        steps = await executor.plan(None)
        return [f"{step.migration.app_label}.{step.migration.name}" for step in steps]
    finally:
        await Tortoise.close_connections()


async def ensure_migrated(settings: Settings) -> None:
    pending = await pending_migrations(settings)
    if pending:
        raise DatabaseNotMigrated(
            f"The database has {len(pending)} unapplied migration(s) "
            f"({', '.join(pending[:5])}). Run `qingyuan migrate` first."
        )


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[None]:
    """The ORM for a command-line task or a job worker (the web app uses RegisterTortoise)."""
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


# For Tortoise's own CLI (`tortoise makemigrations`, see pyproject's [tool.tortoise]):
# generating migrations compares models with migration files and needs no real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
