"""The database: one Tortoise configuration, built-in migrations, and the migrated check.

Every part of Qingyuan registers its models as its own Tortoise app (its migrations live
beside its models). The platform names none of them: the functions here take the apps (`App`)
from the composition root, `qingyuan.parts`, which binds them (`parts.migrate(settings)`, …).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from qingyuan.platform.files import DIRECTORY_MODE, private_directory, private_file
from qingyuan.platform.settings import PlatformSettings, load


@dataclass(frozen=True)
class App:
    """One Tortoise app: its label (recorded with every applied migration), the module of its
    models and the package of its migrations."""

    label: str
    models: str
    migrations: str


_MIGRATING: ContextVar[PlatformSettings | None] = ContextVar("qingyuan_migrating", default=None)


class DatabaseNotMigrated(RuntimeError):
    """Raised at start-up when migrations are pending: serving would fail on every query."""


def tortoise_config(database_url: str, apps: Sequence[App]) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            app.label: {
                "models": [app.models],
                "migrations": app.migrations,
                "default_connection": "default",
            }
            for app in apps
        },
        "use_tz": True,
        "timezone": "UTC",
    }


@cache
def stateless_connection() -> type:
    """asyncpg's connection class, taken back by the pool as it is. asyncpg's default reset
    before reuse (unlock advisory locks, close cursors, UNLISTEN, RESET ALL) is one more round
    trip for every query, and we leave none of that state on a connection: no advisory locks,
    cursors, LISTEN or SET. An open transaction is still rolled back by the pool. (asyncpg is
    imported here: it is installed with PostgreSQL support only.)"""
    import asyncpg  # type: ignore[import-untyped]

    class StatelessConnection(asyncpg.Connection):
        def get_reset_query(self) -> str:
            return ""

    return StatelessConnection


def _connection(database_url: str) -> str | dict[str, Any]:
    """The URL as Tortoise takes it.

    SQLite runs with `secure_delete=on` (URL parameters are pragmas there), so overwritten and
    deleted rows (plaintext before its encryption, a deleted account) are zeroed instead of
    lingering in free pages of the file. Operators write libpq's `sslmode=verify-full`, but
    Tortoise passes URL parameters to asyncpg as keywords and `asyncpg.connect()` has no
    `sslmode` (a TypeError at start); its `ssl` argument takes the same mode names with
    libpq's meaning (root certificate from PGSSLROOTCERT or ~/.postgresql/root.crt).
    PostgreSQL connections are `stateless_connection()`s."""
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    if parts.scheme == "sqlite" and "secure_delete" not in query:
        return database_url + ("&" if parts.query else "?") + "secure_delete=on"
    mode = query.pop("sslmode", [None])[-1]
    config = expand_db_url(parts._replace(query=urlencode(query, doseq=True)).geturl())
    if mode is not None:
        config["credentials"]["ssl"] = mode
    if config["engine"] == "tortoise.backends.asyncpg":
        config["credentials"]["connection_class"] = stateless_connection()
    return config


def _prepare(settings: PlatformSettings) -> None:
    """The SQLite file and its directory exist, private, before SQLite opens them: SQLite
    creates its -wal and -shm files with the database file's permissions."""
    if settings.uses_sqlite:
        database = Path(settings.database_url.removeprefix("sqlite://").partition("?")[0])
        if database.name == ":memory:":
            return
        if database.parent.resolve() == settings.data_dir:
            private_directory(database.parent)
        else:  # someone else's directory: create it private if missing, never chmod it
            database.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
        for path in (database, *database.parent.glob(f"{database.name}-*")):
            private_file(path)


async def migrate(
    settings: PlatformSettings, apps: Sequence[App], *, target: str | None = None
) -> None:
    """Apply every pending migration (idempotent), or migrate to `target` ("app.name"),
    forwards or back; data migrations get the keys of `settings`."""
    _prepare(settings)
    token = _MIGRATING.set(settings)
    try:
        await run_migrations(config=tortoise_config(settings.database_url, apps), target=target)
    finally:
        _MIGRATING.reset(token)
        await Tortoise.close_connections()


def migration_settings() -> PlatformSettings:
    """The settings of the migration run, for data migrations that need the keys: those given
    to `migrate`, or the environment's when Tortoise's own `tortoise migrate` runs them."""
    return _MIGRATING.get() or load(PlatformSettings, strict=False)


async def pending_migrations(settings: PlatformSettings, apps: Sequence[App]) -> list[str]:
    """Names of the migrations not yet applied to the configured database."""
    _prepare(settings)
    config = tortoise_config(settings.database_url, apps)
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(get_connection("default"), config["apps"])
        steps = await executor.plan(None)
        return [f"{step.migration.app_label}.{step.migration.name}" for step in steps]
    finally:
        await Tortoise.close_connections()


async def ensure_migrated(settings: PlatformSettings, apps: Sequence[App]) -> None:
    pending = await pending_migrations(settings, apps)
    if pending:
        raise DatabaseNotMigrated(
            f"The database has {len(pending)} unapplied migration(s) "
            f"({', '.join(pending[:5])}). Run `qingyuan migrate` first."
        )


@asynccontextmanager
async def connected(settings: PlatformSettings, apps: Sequence[App]) -> AsyncIterator[None]:
    """The ORM for a command-line task or a job worker (the web app uses RegisterTortoise)."""
    _prepare(settings)
    await Tortoise.init(config=tortoise_config(settings.database_url, apps))
    try:
        yield
    finally:
        await Tortoise.close_connections()
