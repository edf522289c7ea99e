"""Sign-ups under contention: everyone at once for one 10 + 10 activity, against the same
number of simultaneous sign-ups spread over separate activities (no lock shared), same run.

Setup: a fresh PostgreSQL database (or SQLite with --backend sqlite) and Redis db 13, the
app as `uvicorn --workers N` processes. The members are seeded in this process through the
real services — `create_member` (one precomputed argon2 hash for all: hashing is not what is
measured) and `check_member` against the in-process mock departments — and their sessions are
opened in Redis. Each member is one HTTP client with its own connection.

Per round (after one warm-up round, not counted; the two modes alternate which goes first):
- contended: every member POSTs /api/v1/activities/{id}/registration for the same activity
  (20 seats, 10 + 10): all serialise on that activity's seat lock;
- uncontended: every member POSTs for an activity of their own (the same shape), at the same
  moment: the same work without a shared lock.

Figures: sign-ups/s (requests / wall time from the start signal to the last answer) and the
p50/p95/max latency of one sign-up, median over the rounds, and the ratios contended /
uncontended. Every answer must be 201 and the contended activity must hold exactly 10 + 10.

    python -m bench.activities [--members 200] [--rounds 3] [--workers 2] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx

from bench.ports import free_port, port_open

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-member-2026"


async def seed(env: dict[str, str], members: int, rounds: int) -> dict:
    """Verified members with sessions, and every round's activities (created up front)."""
    from argon2 import PasswordHasher
    from tortoise.timezone import now

    from qingyuan.activities import activities
    from qingyuan.activities.schemas import ActivityBody
    from qingyuan.parts import build_kernel, build_services, connected, migrate
    from qingyuan.platform import accounts
    from qingyuan.platform.models import Role
    from qingyuan.platform.validation import validate
    from qingyuan.settings import load_settings
    from qingyuan.verification import registration
    from qingyuan.verification.departments import (
        generate_personas,
        load_registry,
        write_registry,
    )
    from qingyuan.verification.idnumber import parse_id_number
    from qingyuan.verification.pipeline import check_member

    settings = load_settings(env, env_file=None)
    await migrate(settings)
    stored = PasswordHasher().hash(PASSWORD)

    async def precomputed(password: str) -> str:
        return stored

    registration.hash_password = precomputed
    people = generate_personas(members, 5, today=now().date())
    write_registry([*load_registry(), *people], settings.data_dir / "mock-registry.jsonl")
    services = build_services(build_kernel(settings))
    kernel = services.kernel
    sessions = []
    async with connected(settings):
        for i, person in enumerate(people):
            application = registration.Application(
                str(13500000000 + i), PASSWORD, person.name, parse_id_number(person.id_number)
            )
            user, member = await registration.create_member(kernel.cipher, application, "v")
            assert (await check_member(services.verification, member.id)).value == "verified"
            session = await kernel.sessions.create(user.id, "member")
            sessions.append((session.id, session.csrf_token, member.gender))
        admin = await accounts.insert_user(
            kernel.cipher, phone="13400000000", password_hash=stored, role=Role.ADMIN
        )
        start = now() + timedelta(days=7)
        body = {
            "title": "bench",
            "kind": "frisbee",
            "place": "bench",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "registration_closes_at": (start - timedelta(hours=1)).isoformat(),
            "cancel_deadline": (start - timedelta(hours=1)).isoformat(),
            "capacity": 20,
            "quotas": {"male": 10, "female": 10},
        }
        form = validate(ActivityBody.configured(settings), body, strict=True)

        async def new_activity() -> int:
            return (await activities.create_activity(admin, form)).id

        plan = [
            {
                "contended": await new_activity(),
                "uncontended": [await new_activity() for _ in people],
            }
            for _ in range(rounds + 1)  # the first round warms up and is not counted
        ]
    await services.aclose()
    return {"sessions": sessions, "plan": plan}


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "qingyuan.web.app:create_app"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    command += ["--no-access-log", "--timeout-keep-alive", "600"]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the app did not start")
        time.sleep(0.1)
    return server, f"http://127.0.0.1:{port}"


async def burst(clients: list[httpx.AsyncClient], activity_ids: list[int]) -> dict:
    """Everyone presses at once; returns throughput, latencies and the statuses."""
    go = asyncio.Event()

    async def press(client: httpx.AsyncClient, activity_id: int) -> tuple[float, int, str]:
        await go.wait()
        began = time.perf_counter()
        answer = await client.post(f"/api/v1/activities/{activity_id}/registration")
        return time.perf_counter() - began, answer.status_code, answer.json().get("status", "")

    tasks = [asyncio.create_task(press(c, a)) for c, a in zip(clients, activity_ids, strict=True)]
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    latencies = sorted(r[0] for r in results)
    return {
        "signups_per_s": len(results) / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p95_ms": 1000 * latencies[int(len(latencies) * 0.95) - 1],
        "max_ms": 1000 * latencies[-1],
        "codes": Counter(r[1] for r in results),
        "statuses": Counter(r[2] for r in results),
    }


async def measure(base: str, seeded: dict) -> dict:
    clients = [
        httpx.AsyncClient(
            base_url=base,
            timeout=300,
            cookies={"qy_session": sid},
            headers={"X-CSRF-Token": csrf},
        )
        for sid, csrf, _gender in seeded["sessions"]
    ]
    await asyncio.gather(*(c.get("/healthz") for c in clients))  # open every connection
    genders = Counter(g for _s, _c, g in seeded["sessions"])
    runs: dict[str, list[dict]] = {"contended": [], "uncontended": []}
    for number, round_plan in enumerate(seeded["plan"]):
        # alternate the order so neither mode always runs on a fresher server
        for mode in ("uncontended", "contended")[:: 1 if number % 2 else -1]:
            targets = round_plan[mode]
            ids = [targets] * len(clients) if mode == "contended" else targets
            result = await burst(clients, ids)
            assert result["codes"] == {201: len(clients)}, result["codes"]
            if mode == "contended":
                confirmed = result["statuses"]["confirmed"]
                assert confirmed == min(10, genders["male"]) + min(10, genders["female"])
            if number:
                runs[mode].append(result)
    for client in clients:
        await client.aclose()
    summary = {}
    for mode, results in runs.items():
        summary[mode] = {
            key: round(statistics.median(r[key] for r in results), 1)
            for key in ("signups_per_s", "p50_ms", "p95_ms", "max_ms")
        }
    summary["ratio_contended_to_uncontended"] = {
        "signups_per_s": round(
            summary["contended"]["signups_per_s"] / summary["uncontended"]["signups_per_s"], 3
        ),
        "p95_ms": round(summary["contended"]["p95_ms"] / summary["uncontended"]["p95_ms"], 3),
    }
    return summary


async def create_pg_database() -> str:
    import asyncpg

    name = f"qy_bench_activities_{os.getpid()}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "QINGYUAN_DATA_DIR": data_dir,
            "QINGYUAN_ENV": "test",
            "QINGYUAN_REDIS_URL": REDIS_URL,
            "PYTHONPATH": str(ROOT),
        }
        asyncio.run(flush_redis())
        if args.backend == "postgres":
            env["QINGYUAN_DATABASE_URL"] = asyncio.run(create_pg_database())
        try:
            seeded = asyncio.run(seed(env, args.members, args.rounds))
            server, base = start_server(env, args.workers)
            try:
                figures = asyncio.run(measure(base, seeded))
            finally:
                server.terminate()
                server.wait(timeout=20)
        finally:
            if args.backend == "postgres":
                asyncio.run(drop_pg_database(env["QINGYUAN_DATABASE_URL"]))
            asyncio.run(flush_redis())
    report = {
        "backend": args.backend,
        "workers": args.workers,
        "members": args.members,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        **figures,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
