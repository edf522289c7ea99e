"""Migrations: applied by `qingyuan migrate`, idempotent, and required before serving."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from qingyuan import cli
from qingyuan.parts import connected, migrate, pending_migrations, tortoise_config
from qingyuan.platform.database import DatabaseNotMigrated
from qingyuan.web.app import create_app
from tests.conftest import install_migrated


def test_fresh_database_has_pending_migrations_then_none(settings):
    assert "platform.0001_initial" in asyncio.run(pending_migrations(settings))
    asyncio.run(migrate(settings))
    asyncio.run(migrate(settings))  # a second run is harmless
    assert asyncio.run(pending_migrations(settings)) == []


def test_the_tests_migrated_template_has_no_pending_migrations(settings):
    """The other tests copy a migrated template (tests/conftest.py) instead of migrating:
    what they get must be what `migrate` gives."""
    install_migrated(settings)
    assert asyncio.run(pending_migrations(settings)) == []


def test_app_refuses_to_start_on_an_unmigrated_database(settings):
    app = create_app(settings, run_worker=False)
    with pytest.raises(DatabaseNotMigrated, match="qingyuan migrate"), TestClient(app):
        pass


def test_serve_refuses_an_unmigrated_database_with_a_clear_message(stack, monkeypatch, capsys):
    for name, value in stack.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 2
    assert "Run `qingyuan migrate` first" in capsys.readouterr().err


def test_migrate_command(stack, monkeypatch, capsys, settings):
    for name, value in stack.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert asyncio.run(pending_migrations(settings)) == []


def test_sslmode_in_the_database_url_reaches_asyncpg_as_its_ssl_mode():
    """`deploy_problems` asks for libpq's `sslmode=verify-full`; asyncpg has no `sslmode`."""
    url = "postgres://qingyuan:pw@db:5432/qingyuan?sslmode=verify-full&min_size=2"
    credentials = tortoise_config(url)["connections"]["default"]["credentials"]
    assert credentials["ssl"] == "verify-full" and "sslmode" not in credentials
    assert (credentials["host"], credentials["database"], credentials["min_size"]) == (
        "db",
        "qingyuan",
        2,
    )


@pytest.mark.integration
def test_a_database_url_with_sslmode_connects(settings, make_settings):
    """The local test server has no TLS, so `disable` is the mode it can answer; before the
    translation any `sslmode` failed with asyncpg's TypeError."""
    if settings.uses_sqlite:
        pytest.skip("sslmode is a PostgreSQL parameter")
    with_sslmode = make_settings(QINGYUAN_DATABASE_URL=f"{settings.database_url}?sslmode=disable")
    asyncio.run(migrate(with_sslmode))

    async def ask() -> None:
        async with connected(with_sslmode):
            from tortoise.connection import get_connection

            assert await get_connection("default").execute_query_dict("SELECT 1 AS one")

    asyncio.run(ask())


def test_postgresql_connections_skip_the_reset_round_trip():
    """asyncpg resets a pooled connection with one more query each time it is released (a
    second round trip for every query); ours keep no session state, so they skip it."""
    credentials = tortoise_config("postgres://qingyuan:pw@db:5432/qingyuan")["connections"][
        "default"
    ]["credentials"]
    assert credentials["connection_class"].get_reset_query(None) == ""
