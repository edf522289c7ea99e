"""Verification throughput: registrations end to end, with the six departments answering.

Every registration (`POST /api/v1/registrations`) hashes a password with argon2id and queues
the department checks; the job worker then asks the six mock departments and marks the member
`verified`.  Each registered member polls `GET /api/v1/me/verification` with its own session
cookie every `--poll` seconds until it says `verified`, which gives the time to verified.

Scenarios, each on a fresh database, on two stacks:

* ``embedded`` — one uvicorn process, SQLite, in-memory Redis, the job worker inside the web
  process (what `qingyuan serve` and `qingyuan demo` run);
* ``scale`` — the web process and one `qingyuan worker` process, PostgreSQL and Redis.

and three ways to verify on each:

* ``reference`` — registration without verification: the same app, settings and endpoint,
  but no job worker runs (embedded: `create_app(run_worker=False)`; scale: no
  `qingyuan worker` process), so the jobs are queued and never taken.  Nothing polls.
* ``inprocess`` — the mock departments inside the process that runs the jobs, called over an
  ASGI transport (`QINGYUAN_DEPARTMENTS_URL=inprocess`);
* ``service`` — the mock departments as their own HTTP service on loopback
  (`qingyuan departments serve`), the platform calling them with real HTTP.

Per scenario: registrations/s (201s over the registration phase) with p50/p95 latency;
verified members/s (first POST to last member verified) with p50/p95 time from POST to the
first poll that saw `verified`; the same delay as the database records it (member created →
verified, without the registration response and the polling); and the CPU the server
processes (and, on the scale stack, the PostgreSQL backends) spent per member.  The ratios are
against the reference of the same stack, measured in the same run: CPU per member is the
steadier one on a shared machine, where other jobs move wall-clock throughput a lot.
With `--rounds N` every scenario runs N times, interleaved, and the median round is reported.
The scale stack needs PostgreSQL (`--postgres`: a database is created and dropped for each
scenario) and an empty Redis database (`--redis`, flushed after each scenario).

    python -m bench.verification [--clients 20] [--per-client 3] [--rounds 1]
                                 [--stacks embedded,scale] [--modes reference,inprocess,service]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.load import LoadResult
from bench.ports import free_port, port_open

MODES = ("reference", "inprocess", "service")
STACKS = ("embedded", "scale")
PASSWORD = "qingyuan2026"  # one password for every member: the hash costs the same anyway
CONSENTS = {"sensitive_personal_information": True, "matching": True}
ROOT = Path(__file__).resolve().parents[1]


def app_without_worker():
    """The embedded reference: the same app and settings, with the job worker switched off."""
    from qingyuan.web.app import create_app

    return create_app(run_worker=False)


# --- processes -------------------------------------------------------------------------------


class Processes:
    """The subprocesses of one scenario, each logging to its own file; all stopped on exit."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self._log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, *command], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()  # the child holds its own descriptor
        self._running.append((name, process))

    def wait_for_port(self, name: str, port: int) -> None:
        process = dict(self._running)[name]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_tail(name)}")
            if port_open(port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start: {self.log_tail(name)}")

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU each process has used so far (all its threads: argon2 too)."""
        return {name: _cpu_seconds(process.pid) for name, process in self._running}

    def check_alive(self) -> None:
        for name, process in self._running:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early: {self.log_tail(name)}")

    def stop_all(self) -> None:
        for _, process in reversed(self._running):
            if process.poll() is None:
                process.terminate()
        for _, process in reversed(self._running):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._running.clear()

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self._log_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self) -> dict[str, list[str]]:
        """Each distinct error in the process logs, as its last traceback lines (clean: none)."""
        problems: dict[str, list[str]] = {}
        for path in sorted(self._log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            seen: dict[str, int] = {}
            for index, line in enumerate(lines):
                if "Traceback" in line or " ERROR " in line or line.startswith("ERROR"):
                    block = lines[index : index + 60]
                    end = next(
                        (i for i, text in enumerate(block[1:], 1) if text and text[0] != " "),
                        len(block) - 1,
                    )
                    tail = " | ".join(text.strip() for text in block[max(0, end - 2) : end + 1])
                    summary = re.sub(r"\d+", "#", tail)  # "member 5", line numbers aside
                    seen[summary] = seen.get(summary, 0) + 1
            if seen:
                problems[path.stem] = [f"{count}x {text}" for text, count in seen.items()]
        return problems


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """From /proc (Linux): the machine is shared, so CPU used says more than wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


# --- backing services of the scale stack -----------------------------------------------------


async def _postgres(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _backend_pids(admin_url: str, database: str) -> list[int]:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


def _postgres_cpu(admin_url: str, database: str | None) -> dict[int, float]:
    """CPU of the PostgreSQL backends serving the bench database (scale stack only)."""
    if database is None:
        return {}
    pids = asyncio.run(_backend_pids(admin_url, database))
    return {pid: _cpu_seconds(pid) for pid in pids}


_SERVER_SIDE = (
    "SELECT created_at, verified_at FROM verification_member WHERE id > {warm} "
    "AND verified_at IS NOT NULL",
    "SELECT count(*) FROM verification_department_check WHERE member_id > {warm} "
    "AND (attempts <> 1 OR status <> 'confirmed')",
)


def server_side(data_dir: Path, admin_url: str, database: str | None, warm: int) -> dict:
    """What the database says: member created (inside the registration) → verified."""
    members_sql, odd_checks_sql = (query.format(warm=int(warm)) for query in _SERVER_SIDE)
    if database is None:
        import sqlite3

        uri = f"file:{data_dir / 'qingyuan.sqlite3'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            rows = [
                tuple(datetime.fromisoformat(value) for value in row)
                for row in connection.execute(members_sql)
            ]
            odd_checks = connection.execute(odd_checks_sql).fetchone()[0]
    else:
        rows, odd_checks = asyncio.run(
            _postgres_rows(admin_url, database, members_sql, odd_checks_sql)
        )
    delays = [(verified - created).total_seconds() for created, verified in rows]
    figures = LoadResult(len(delays), 0, 1.0, delays)
    return {
        "created_to_verified_p50_ms": round(figures.percentile(0.50)),
        "created_to_verified_p95_ms": round(figures.percentile(0.95)),
        "checks_retried_or_not_confirmed": odd_checks,
    }


async def _postgres_rows(admin_url: str, database: str, members_sql: str, checks_sql: str):
    import asyncpg

    connection = await asyncpg.connect(_database_url(admin_url, database))
    try:
        rows = [tuple(row) for row in await connection.fetch(members_sql)]
        return rows, await connection.fetchval(checks_sql)
    finally:
        await connection.close()


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _redis_size(url: str, flush: bool = False) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        if flush:
            client.flushdb()
        return client.dbsize()
    finally:
        client.close()


# --- load ------------------------------------------------------------------------------------


class _NoCookies(CookieJar):
    """Every member sends its own session cookie; the shared client must remember none."""

    def extract_cookies(self, response, request) -> None:
        return None


@dataclass
class Figures:
    started: float = 0.0
    registered_at: list[float] = field(default_factory=list)
    registration_latencies: list[float] = field(default_factory=list)
    registration_errors: Counter = field(default_factory=Counter)
    to_verified: list[float] = field(default_factory=list)
    verified_at: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    sessions: list[str] = field(default_factory=list)
    poll_latencies: list[float] = field(default_factory=list)
    poll_retries: int = 0
    waiting: int = 0
    most_waiting: int = 0


def _body(person, phone: str) -> dict:
    return {
        "phone": phone,
        "password": PASSWORD,
        "real_name": person.name,
        "id_number": person.id_number,
        "consents": CONSENTS,
    }


async def _register(client: httpx.AsyncClient, person, phone: str) -> tuple[int, str | None]:
    response = await client.post("/api/v1/registrations", json=_body(person, phone))
    return response.status_code, response.cookies.get("qy_session")


async def _status(client: httpx.AsyncClient, session: str) -> str:
    response = await client.get(
        "/api/v1/me/verification", headers={"Cookie": f"qy_session={session}"}
    )
    if response.status_code != 200:
        return f"http {response.status_code}"
    return response.json()["status"]


async def _wait_verified(
    client: httpx.AsyncClient,
    session: str,
    posted: float,
    figures: Figures,
    args: argparse.Namespace,
) -> None:
    figures.waiting += 1
    figures.most_waiting = max(figures.most_waiting, figures.waiting)
    try:
        deadline = posted + args.verify_timeout
        status = "timeout"
        while time.perf_counter() < deadline:
            await asyncio.sleep(args.poll)
            asked = time.perf_counter()
            try:
                status = await _status(client, session)
            except httpx.TransportError:
                # A keep-alive connection the server closed just as it was reused: the GET
                # is safe to repeat once; counted, since a real outage would show here too.
                figures.poll_retries += 1
                try:
                    status = await _status(client, session)
                except httpx.HTTPError as error:
                    status = type(error).__name__
            figures.poll_latencies.append(time.perf_counter() - asked)
            if status == "verified":
                now = time.perf_counter()
                figures.to_verified.append(now - posted)
                figures.verified_at.append(now)
                break
            if status != "pending":
                break  # rejected, or an error: counted under its name
        figures.outcomes[status if status != "pending" else "timeout"] += 1
    finally:
        figures.waiting -= 1


async def _client_loop(
    client: httpx.AsyncClient,
    batch: list[tuple[str, object]],
    figures: Figures,
    waiters: list[asyncio.Task],
    verify: bool,
    args: argparse.Namespace,
) -> None:
    for phone, person in batch:
        posted = time.perf_counter()
        try:
            status, session = await _register(client, person, phone)
        except httpx.HTTPError as error:
            figures.registration_errors[type(error).__name__] += 1
            continue
        if status != 201 or session is None:
            figures.registration_errors[f"http {status}"] += 1
            continue
        done = time.perf_counter()
        figures.registration_latencies.append(done - posted)
        figures.registered_at.append(done)
        figures.sessions.append(session)
        if verify:
            waiters.append(
                asyncio.create_task(_wait_verified(client, session, posted, figures, args))
            )


def _client(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        cookies=_NoCookies(),
        timeout=httpx.Timeout(120.0),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=200),
    )


async def warm_up(
    port: int, people: list[tuple[str, object]], verify: bool, args: argparse.Namespace
) -> list[str]:
    """A few members one after the other (first token, JWKS, connections); their sessions."""
    sessions = []
    async with _client(port) as client:
        for phone, person in people:
            status, session = await _register(client, person, phone)
            if status != 201 or session is None:
                raise RuntimeError(f"warm-up registration answered {status}")
            figures = Figures()
            if verify:
                await _wait_verified(client, session, time.perf_counter(), figures, args)
                if figures.outcomes["verified"] != 1:
                    raise RuntimeError(f"warm-up member not verified: {dict(figures.outcomes)}")
            sessions.append(session)
    return sessions


async def load(
    port: int, people: list[tuple[str, object]], verify: bool, args: argparse.Namespace
) -> Figures:
    """`--clients` concurrent clients, each registering its share back to back."""
    figures = Figures()
    waiters: list[asyncio.Task] = []
    batches = [people[i :: args.clients] for i in range(args.clients)]
    async with _client(port) as client:
        figures.started = time.perf_counter()
        await asyncio.gather(
            *(_client_loop(client, batch, figures, waiters, verify, args) for batch in batches)
        )
        await asyncio.gather(*waiters)
    return figures


async def statuses_now(port: int, sessions: list[str]) -> Counter:
    """Where some members stand now (the reference's must all still be pending)."""
    async with _client(port) as client:
        return Counter(await asyncio.gather(*(_status(client, s) for s in sessions)))


def summarise(figures: Figures, verify: bool) -> dict:
    """Registrations/s over the registration phase; verified/s from the first POST to the last
    member verified; latencies through `LoadResult` as every benchmark here reports them."""
    registered = len(figures.registration_latencies)
    span = (max(figures.registered_at) - figures.started) if registered else 0.0
    failed = sum(figures.registration_errors.values())
    registrations = LoadResult(registered, failed, span or 1.0, figures.registration_latencies)
    result = {
        "registrations": {
            "count": registered,
            "per_s": round(registrations.rps, 2),
            "p50_ms": round(registrations.percentile(0.50)),
            "p95_ms": round(registrations.percentile(0.95)),
            "seconds": round(span, 2),
            "errors": dict(figures.registration_errors),
        }
    }
    if verify:
        count = len(figures.to_verified)
        end = (max(figures.verified_at) - figures.started) if count else 0.0
        verified = LoadResult(count, registered - count, end or 1.0, figures.to_verified)
        polls = LoadResult(len(figures.poll_latencies), 0, 1.0, figures.poll_latencies)
        result["verified"] = {
            "count": count,
            "per_s": round(verified.rps, 2),
            "p50_ms": round(verified.percentile(0.50)),
            "p95_ms": round(verified.percentile(0.95)),
            "seconds": round(end, 2),
            "outcomes": dict(figures.outcomes),
            "status_polls": len(polls.latencies),
            "status_poll_p50_ms": round(polls.percentile(0.50)),
            "status_poll_p95_ms": round(polls.percentile(0.95)),
            "status_polls_repeated": figures.poll_retries,
            "most_members_waiting": figures.most_waiting,
        }
    return result


# --- scenarios -------------------------------------------------------------------------------


def _members(count: int, today: date) -> list[tuple[str, object]]:
    """Distinct clean personas (all pass every gate) with distinct phone numbers."""
    from qingyuan.verification.departments import generate_personas

    people = generate_personas(count, seed=20261127, today=today)
    return [(f"1390000{i:04d}", person) for i, person in enumerate(people)]


def migrated_template(
    workdir: Path, base_env: dict[str, str], database: str | None, args: argparse.Namespace
) -> Path:
    """Migrate once (the SQLite file, the development keys and, for the scale stack, a
    PostgreSQL template database); every scenario starts from a copy of them."""
    template = workdir / "template"
    env = {**base_env, "QINGYUAN_DATA_DIR": str(template)}
    migrate = [sys.executable, "-m", "qingyuan", "migrate"]
    subprocess.run(migrate, env=env, check=True, stdout=subprocess.DEVNULL)
    if database:
        asyncio.run(_postgres(args.postgres, f'CREATE DATABASE "{database}"'))
        env["QINGYUAN_DATABASE_URL"] = _database_url(args.postgres, database)
        subprocess.run(migrate, env=env, check=True, stdout=subprocess.DEVNULL)
    return template


def run_scenario(
    stack: str,
    mode: str,
    base_env: dict[str, str],
    workdir: Path,
    template: tuple[Path, str | None],
    members: list[tuple[str, object]],
    warm: list[tuple[str, object]],
    args: argparse.Namespace,
    number: int,
) -> dict:
    data_dir = workdir / f"{stack}-{mode}-{number}"
    shutil.copytree(template[0], data_dir)  # same keys: every process derives the same secrets
    env = {**base_env, "QINGYUAN_DATA_DIR": str(data_dir)}
    database = f"qingyuan_bench_{os.getpid()}_{number}" if stack == "scale" else None
    processes = Processes(data_dir)
    verify = mode != "reference"
    try:
        if database:
            create = f'CREATE DATABASE "{database}" TEMPLATE "{template[1]}"'
            asyncio.run(_postgres(args.postgres, create))
            env["QINGYUAN_DATABASE_URL"] = _database_url(args.postgres, database)
            env["QINGYUAN_REDIS_URL"] = args.redis
        if mode == "service":
            departments_port = free_port()
            command = ["-m", "qingyuan", "departments", "serve", "--port", str(departments_port)]
            processes.start("departments", command, env)
            env["QINGYUAN_DEPARTMENTS_URL"] = f"http://127.0.0.1:{departments_port}"
        if stack == "scale" and verify:
            processes.start("worker", ["-m", "qingyuan", "worker"], env)
        target = (
            "bench.verification:app_without_worker"
            if stack == "embedded" and not verify
            else "qingyuan.web.app:create_app"
        )
        port = free_port()
        uvicorn = ["-m", "uvicorn", "--factory", target, "--port", str(port)]
        processes.start("web", [*uvicorn, "--log-level", "warning", "--no-access-log"], env)
        if mode == "service":
            processes.wait_for_port("departments", departments_port)
        processes.wait_for_port("web", port)
        warm_sessions = asyncio.run(warm_up(port, warm, verify, args))
        load_before, cpu_before = os.getloadavg()[0], processes.cpu_seconds()
        pg_before = _postgres_cpu(args.postgres, database)
        figures = asyncio.run(load(port, members, verify, args))
        cpu_after, pg_after = processes.cpu_seconds(), _postgres_cpu(args.postgres, database)
        processes.check_alive()
        result = summarise(figures, verify)
        if verify:
            result["verified"]["server_side"] = server_side(
                data_dir, args.postgres, database, args.warm_up
            )
        cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        if database:
            cpu["postgres"] = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
        done = len(figures.to_verified) if verify else len(figures.registered_at)
        result["cpu_ms_per_member"] = _per_member(cpu, done)
        result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        sample = warm_sessions + figures.sessions[:10]
        result["sample_statuses_after"] = dict(asyncio.run(statuses_now(port, sample)))
        problems = processes.log_problems()
        if problems:
            result["log_problems"] = problems
        return result
    finally:
        processes.stop_all()
        if database:
            asyncio.run(
                _postgres(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            )
            _redis_size(args.redis, flush=True)


def _per_member(cpu: dict[str, float], members: int) -> dict[str, float]:
    """CPU milliseconds per member, in total and by process."""
    members = max(members, 1)
    by_process = {name: round(1000 * seconds / members, 1) for name, seconds in cpu.items()}
    return {"total": round(1000 * sum(cpu.values()) / members, 1), **by_process}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _median(results: list[dict]) -> dict:
    """The round with the median throughput (noisy machine: the middle, not the best)."""
    key = "verified" if "verified" in results[0] else "registrations"
    return sorted(results, key=lambda r: r[key]["per_s"])[len(results) // 2]


def _ratios(results: dict[str, dict]) -> dict[str, float | None]:
    """Each way of verifying against the reference of its stack (and the two against each other)."""
    reference = results.get("reference")
    ratios: dict[str, float | None] = {}
    for mode in ("inprocess", "service"):
        if mode not in results or reference is None:
            continue
        figures = results[mode]
        base = reference["registrations"]["per_s"]
        ratios[f"{mode}_registrations_per_s"] = _ratio(figures["registrations"]["per_s"], base)
        ratios[f"{mode}_verified_per_s"] = _ratio(figures["verified"]["per_s"], base)
        ratios[f"{mode}_cpu_per_member"] = _ratio(
            figures["cpu_ms_per_member"]["total"], reference["cpu_ms_per_member"]["total"]
        )
    if {"inprocess", "service"} <= results.keys():
        ratios["service_vs_inprocess_verified_per_s"] = _ratio(
            results["service"]["verified"]["per_s"], results["inprocess"]["verified"]["per_s"]
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--per-client", type=int, default=3, help="registrations per client and scenario"
    )
    parser.add_argument("--rounds", type=int, default=1, help="the median round is reported")
    parser.add_argument("--warm-up", type=int, default=2, help="members before measuring")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between status polls")
    parser.add_argument("--verify-timeout", type=float, default=120.0)
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/test",
        help="where to create (and drop) a database per scale scenario",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/12",
        help="a Redis database of its own: must be empty, flushed after",
    )
    args = parser.parse_args()
    stacks = [s for s in args.stacks.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    if set(stacks) - set(STACKS) or set(modes) - set(MODES):
        parser.error(f"stacks are {STACKS}, modes {MODES}")
    if "scale" in stacks and _redis_size(args.redis):
        parser.error(f"{args.redis} is not empty: pick another --redis database")

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    count = args.clients * args.per_client
    everyone = _members(count + args.warm_up, today)
    warm, members = everyone[: args.warm_up], everyone[args.warm_up :]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("QINGYUAN_")}
    base_env.update(
        {
            "PYTHONPATH": str(ROOT),
            "QINGYUAN_ENV": "development",
            "QINGYUAN_RATE_REGISTRATION_IP": "100000/3600",
            "QINGYUAN_DEPARTMENTS_URL": "inprocess",
        }
    )
    report: dict = {
        "date": today.isoformat(),
        "clients": args.clients,
        "registrations_per_scenario": count,
        "poll_s": args.poll,
        "rounds": args.rounds,
        "stacks": {},
    }
    with tempfile.TemporaryDirectory(prefix="qingyuan-bench-") as workdir:
        from qingyuan.verification.departments import write_registry

        registry = Path(workdir) / "registry.jsonl"
        write_registry([person for _, person in everyone], registry)
        base_env["QINGYUAN_MOCK_REGISTRY"] = str(registry)
        template_db = f"qingyuan_bench_{os.getpid()}_template" if "scale" in stacks else None
        runs: dict[tuple[str, str], list[dict]] = {}
        try:
            template = (migrated_template(Path(workdir), base_env, template_db, args), template_db)
            number = 0
            for _ in range(args.rounds):
                for stack in stacks:
                    for mode in modes:
                        number += 1
                        started = time.monotonic()
                        result = run_scenario(
                            stack,
                            mode,
                            base_env,
                            Path(workdir),
                            template,
                            members,
                            warm,
                            args,
                            number,
                        )
                        result["scenario_s"] = round(time.monotonic() - started, 1)
                        print(f"{stack}/{mode}: {json.dumps(result)}", file=sys.stderr)
                        runs.setdefault((stack, mode), []).append(result)
        finally:
            if template_db:
                drop = f'DROP DATABASE IF EXISTS "{template_db}" WITH (FORCE)'
                asyncio.run(_postgres(args.postgres, drop))
    for stack in stacks:
        results = {mode: _median(runs[stack, mode]) for mode in modes}
        results["ratios"] = _ratios(results)
        report["stacks"][stack] = results
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
