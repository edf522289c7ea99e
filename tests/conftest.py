"""Fixtures: the same tests run on the embedded stack (SQLite + in-memory Redis, the default)
and, with `-m integration`, on real PostgreSQL and Redis.

Integration settings: QINGYUAN_TEST_DATABASE_URL (a PostgreSQL server URL; each test gets a
fresh database on it) and QINGYUAN_TEST_REDIS_URL (a Redis database flushed before each test).
With CI=true a missing service fails the run instead of skipping it.

Speed without changing what is tested:
- Migrations run once per test process into a template (a SQLite file, a PostgreSQL
  database); `install_migrated` gives a test's database that schema by copying the file or
  by `CREATE DATABASE … TEMPLATE`. The migration chain keeps its own tests
  (tests/platform/test_database.py), which run every migration on a fresh database.
- Test users are hashed with argon2's cheapest profile (QINGYUAN_PASSWORD_PROFILE); the tests
  about the production cost select it themselves.
- `pytest -n auto` (pytest-xdist): each worker process (gw0, gw1, …) has its own templates,
  its own databases (random names) and its own Redis database: the index of
  QINGYUAN_TEST_REDIS_URL minus the worker's number (…/15 gives gw0 15, gw1 14, …), so the
  workers never flush each other's keys.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from starlette.testclient import TestClient
from tortoise.backends.base.executor import EXECUTOR_CACHE

from qingyuan.parts import migrate
from qingyuan.platform import accounts
from qingyuan.platform.models import Role, User
from qingyuan.settings import Settings, load_settings
from qingyuan.web.app import create_app

PG_URL = os.environ.get("QINGYUAN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-42"
# What every test stack adds to the environment: cheap password hashes (see the docstring).
TEST_ENV = {"QINGYUAN_ENV": "test", "QINGYUAN_PASSWORD_PROFILE": "cheapest"}


def worker_number() -> int:
    """0 without xdist, else n of the worker "gwn" (xdist sets PYTEST_XDIST_WORKER)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def worker_redis_url(base: str, number: int) -> str:
    """This worker's Redis database: `base`'s index minus the worker number."""
    parts = urlsplit(base)
    index = int(parts.path.strip("/") or 0) - number
    if index < 0:
        raise ValueError(
            f"{base} leaves no Redis database for xdist worker {number}: use a higher "
            "database index in QINGYUAN_TEST_REDIS_URL or fewer workers (-n)"
        )
    return urlunsplit(parts._replace(path=f"/{index}"))


try:
    REDIS_URL = worker_redis_url(
        os.environ.get("QINGYUAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), worker_number()
    )
    _REDIS_URL_PROBLEM = ""
except ValueError as problem:
    REDIS_URL, _REDIS_URL_PROBLEM = "", str(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Return once something listens on 127.0.0.1:`port`; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable for integration tests: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def _create_pg_database(server_url: str) -> str:
    import asyncpg

    name = f"qy_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def _drop_pg_database(server_url: str, database_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        name = database_url.rsplit("/", 1)[1]
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# Migrated templates of this process, made on first use: "sqlite" → file, "postgres" → name.
_templates: dict[str, str] = {}
_template_dirs: list[Path] = []


def _sqlite_path(settings: Settings) -> Path | None:
    path = settings.database_url.removeprefix("sqlite://")
    return None if not settings.uses_sqlite or path.startswith(":memory:") else Path(path)


async def _pg_has_tables(database_url: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        return await conn.fetchval(query) > 0
    finally:
        await conn.close()


async def _pg_from_template(server_url: str, database_url: str, template: str) -> None:
    import asyncpg

    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()


def _template(backend: str) -> str:
    """This process's migrated template of `backend`, made (by `migrate`) on first use."""
    if backend not in _templates:
        _template_dirs.append(Path(tempfile.mkdtemp(prefix="qingyuan-template-")))
        environ = {"QINGYUAN_DATA_DIR": str(_template_dirs[-1])}
        if backend == "postgres":
            environ["QINGYUAN_DATABASE_URL"] = asyncio.run(_create_pg_database(PG_URL))
        settings = load_settings({**environ, **TEST_ENV}, env_file=None)
        asyncio.run(migrate(settings))
        path = _sqlite_path(settings)
        _templates[backend] = str(path) if path else settings.database_url.rsplit("/", 1)[1]
    return _templates[backend]


def install_migrated(settings: Settings) -> None:
    """Bring the database of `settings` up to date, as `migrate(settings)` does, but copy this
    process's migrated template into it when it is still empty (milliseconds, not seconds)."""
    if settings.uses_sqlite:
        path = _sqlite_path(settings)
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_template("sqlite"), path)
            return
    elif not asyncio.run(_pg_has_tables(settings.database_url)):
        template = _template("postgres")
        asyncio.run(_pg_from_template(PG_URL, settings.database_url, template))
        return
    asyncio.run(migrate(settings))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove this process's templates."""
    if "postgres" in _templates:
        server = PG_URL.rsplit("/", 1)[0]
        asyncio.run(_drop_pg_database(PG_URL, f"{server}/{_templates['postgres']}"))
    for data_dir in _template_dirs:
        shutil.rmtree(data_dir, ignore_errors=True)
    _templates.clear()
    _template_dirs.clear()


@pytest.fixture(params=["embedded", pytest.param("services", marks=pytest.mark.integration)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment variables selecting the database and Redis of one test (both empty)."""
    # Tortoise caches each model's INSERT statement per connection *name*, not per dialect:
    # a SQLite test and a PostgreSQL one in the same process must not share it.
    EXECUTOR_CACHE.clear()
    env = {"QINGYUAN_DATA_DIR": str(tmp_path / "var"), **TEST_ENV}
    if request.param == "embedded":
        yield {**env, "QINGYUAN_REDIS_URL": f"memory://{uuid.uuid4().hex}"}
        return
    if _REDIS_URL_PROBLEM:
        pytest.fail(_REDIS_URL_PROBLEM)
    try:
        database_url = asyncio.run(_create_pg_database(PG_URL))
        asyncio.run(_flush_redis(REDIS_URL))
    except Exception as exc:
        _unavailable("PostgreSQL/Redis", exc)
    yield {**env, "QINGYUAN_DATABASE_URL": database_url, "QINGYUAN_REDIS_URL": REDIS_URL}
    asyncio.run(_drop_pg_database(PG_URL, database_url))


class Clock:
    """The test's wall clock (time-machine): `advance` moves time.time() and datetime.now()
    forward at once, for the test and the app alike (session ages, offer deadlines, retry due
    times, and the in-memory Redis's key expiry); monotonic time, and so asyncio, runs on."""

    def __init__(self, machine: Any, redis_server: bool) -> None:
        self._machine = machine
        self._redis_server = redis_server

    def advance(self, seconds: float) -> None:
        self._machine.shift(seconds)

    def age_redis_keys(self, seconds: float) -> None:
        """Let `seconds` pass for Redis key expiry (TTL) too. A Redis server expires keys by
        its own clock, which no test can move: on the services stack this waits for real."""
        if self._redis_server:
            time.sleep(seconds)
        else:
            self.advance(seconds)


@pytest.fixture
def clock(time_machine: Any, stack: dict[str, str]) -> Clock:
    time_machine.move_to(datetime.now(UTC), tick=True)
    return Clock(time_machine, not stack["QINGYUAN_REDIS_URL"].startswith("memory://"))


@pytest.fixture
def make_settings(stack: dict[str, str]) -> Callable[..., Settings]:
    """Settings of this test's stack, with overrides (e.g. QINGYUAN_RATE_LOGIN_IP="3/60")."""

    def build(**overrides: str) -> Settings:
        return load_settings({**stack, **overrides}, env_file=None)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Start the app (migrated) for `settings`; several clients may share one app."""
    install_migrated(settings)
    opened: list[TestClient] = []

    def open_client(
        app_settings: Settings | None = None, *, run_worker: bool = False, **kwargs: Any
    ) -> TestClient:
        app = create_app(app_settings or settings, run_worker=run_worker)
        client = TestClient(app, **kwargs)
        client.__enter__()
        opened.append(client)
        return client

    yield open_client
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def run(client: TestClient, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a coroutine function inside the app's event loop (where the ORM lives)."""

    async def call() -> Any:
        return await func(*args, **kwargs)

    assert client.portal is not None
    return client.portal.call(call)


def add_user(client: TestClient, phone: str, role: Role = Role.MEMBER, name: str = "") -> User:
    """An account with the test PASSWORD, created in `client`'s app."""
    cipher = client.app.state.kernel.cipher
    return run(
        client,
        accounts.create_user,
        cipher,
        phone=phone,
        password=PASSWORD,
        role=role,
        display_name=name,
    )


@pytest.fixture
def make_user(client: TestClient) -> Callable[..., User]:
    counter = iter(range(10_000))

    def create(role: Role = Role.MEMBER, phone: str | None = None, name: str = "") -> User:
        return add_user(client, phone or f"137{next(counter):08d}", role, name)

    return create


def login(client: TestClient, user: User, password: str = PASSWORD) -> dict[str, Any]:
    """Log in over the JSON API; returns the response body (user + csrf_token)."""
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/api/v1/session", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return response.json()
