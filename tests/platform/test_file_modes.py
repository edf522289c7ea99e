"""The data directory is 0700 and the files in it that hold personal data or keys are 0600,
under the usual umask 022: the SQLite database with its -wal/-shm, the generated keys."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
from tortoise.connection import get_connection

from qingyuan.parts import connected, migrate
from qingyuan.settings import load_settings


@pytest.fixture(autouse=True)
def usual_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_files(settings):
    database = settings.data_dir / "qingyuan.sqlite3"
    return [database, *database.parent.glob(database.name + "-*")]


def test_data_directory_and_sqlite_files_are_private(tmp_path):
    settings = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path / "var")}, env_file=None)
    asyncio.run(migrate(settings))

    async def while_open() -> list:
        async with connected(settings):
            await get_connection("default").execute_query("SELECT count(*) FROM platform_user")
            files = sqlite_files(settings)
            return [(path.name, mode(path)) for path in files]

    opened = asyncio.run(while_open())
    assert {name for name, _ in opened} >= {"qingyuan.sqlite3", "qingyuan.sqlite3-wal"}
    assert all(m == 0o600 for _, m in opened), opened
    assert mode(settings.data_dir) == 0o700
    assert mode(settings.data_dir / "generated-keys.json") == 0o600


def test_a_readable_directory_and_database_of_an_older_version_are_tightened(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    (data_dir / "qingyuan.sqlite3").touch(mode=0o644)
    (data_dir / "qingyuan.sqlite3-shm").touch(mode=0o644)
    settings = load_settings({"QINGYUAN_DATA_DIR": str(data_dir)}, env_file=None)
    asyncio.run(migrate(settings))
    assert mode(data_dir) == 0o700
    assert all(mode(path) == 0o600 for path in sqlite_files(settings))


def test_a_database_outside_the_data_directory_leaves_its_directory_alone(tmp_path):
    """`sqlite://qingyuan.sqlite3` (relative) must not make the working directory 0700."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    settings = load_settings(
        {
            "QINGYUAN_DATA_DIR": str(tmp_path / "var"),
            "QINGYUAN_DATABASE_URL": f"sqlite://{shared / 'qingyuan.sqlite3'}",
        },
        env_file=None,
    )
    asyncio.run(migrate(settings))
    assert mode(shared) == 0o755
    assert mode(shared / "qingyuan.sqlite3") == 0o600
