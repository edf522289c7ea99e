"""`qingyuan match run` end to end: seeded members in SQLite and PostgreSQL, timed.

For each backend and size: a fresh database (a temp dir for SQLite; a database created and
dropped on the local PostgreSQL, Redis db 11 (QINGYUAN_BENCH_REDIS_URL) flushed before and
after), `qingyuan migrate`,
a bulk seeder writing N verified, consenting, opted-in members (User, Member, two Consents,
Profile, questionnaire Answers) with attributes from `synthetic_population`, then

- the reference, in its own process: `load_population` from that database, then the pure
  in-memory matcher (`candidate_graph` + `assign`, per province, the same scorer, settings
  and seed as `run_day`) on the loaded arrays — nothing stored;
- `python -m qingyuan match run --date 2026-11-27`, timed, with its JSON and peak RSS;
- the same command again: it must propose 0 (idempotent); its time is recorded too.

The seeder bypasses the real pipeline on purpose: one precomputed argon2 hash for every
password, a fixed dummy string for every encrypted column (nothing decrypts them during a
run), sha256 of the row number as the phone and ID blind indexes, no department checks
(`Member.status='verified'` with degree/employment/hukou set directly).

    python -m bench.match_run [--sizes 10000 100000] [--backends sqlite postgres]
        [--date 2026-11-27] [--timeout 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
PG_BASE = "postgres://postgres@127.0.0.1:5432/"
REDIS_URL = os.environ.get("QINGYUAN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
BATCH = 5000
PROVINCES = (31, 32, 33)  # 上海, 江苏, 浙江: three partitions
ANSWERED = 6  # questionnaire answers per member
DEGREES = {1: "high_school", 2: "associate", 3: "bachelor", 4: "master", 5: "doctorate"}
DUMMY_CIPHERTEXT = "v1:bench:" + "A" * 60  # never decrypted by the daily run
ROOT = Path(__file__).resolve().parents[1]


# ---- seeding (runs in its own process, with the bench's environment) --------------------


async def seed(n: int, day: date, seed_value: int) -> dict:
    import numpy as np
    from argon2 import PasswordHasher

    from qingyuan.matching.models import Answer, Profile
    from qingyuan.matching.questions import INTEREST_TAGS, QUESTIONS
    from qingyuan.matching.synthetic import synthetic_population
    from qingyuan.parts import connected
    from qingyuan.platform.models import User
    from qingyuan.settings import load_settings
    from qingyuan.verification.models import Consent, Member, VerificationStatus

    started = time.perf_counter()
    pop = synthetic_population(n, seed=seed_value, provinces=PROVINCES)
    m, f = pop.members, pop.filters
    rng = np.random.default_rng(seed_value)
    tags = list(INTEREST_TAGS)
    options = [len(q.options) for q in QUESTIONS]
    password_hash = PasswordHasher().hash("bench-password")
    stamp = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    generated = time.perf_counter() - started
    counts = {"users": 0, "members": 0, "consents": 0, "profiles": 0, "answers": 0}
    settings = load_settings(env_file=None)
    async with connected(settings):
        for start in range(0, n, BATCH):
            rows = range(start, min(start + BATCH, n))
            users, members, consents, profiles, answers = [], [], [], [], []
            for i in rows:
                uid = i + 1
                gender = "male" if m.gender[i] == 1 else "female"
                city = int(m.region[i]) // 100
                seeks = int(f.seeks[i])
                seek = {1: "female", 2: "male"}.get(seeks, "female" if gender == "male" else "male")
                age = float(m.age[i])
                users.append(
                    User(
                        id=uid,
                        phone_encrypted=DUMMY_CIPHERTEXT,
                        phone_index=hashlib.sha256(f"phone:{uid}".encode()).hexdigest(),
                        display_name=f"m{uid}",
                        password_hash=password_hash,
                        last_login_at=stamp - timedelta(days=int(rng.integers(0, 30))),
                    )
                )
                members.append(
                    Member(
                        id=uid,
                        user_id=uid,
                        real_name_encrypted=DUMMY_CIPHERTEXT,
                        id_number_encrypted=DUMMY_CIPHERTEXT,
                        id_number_index=hashlib.sha256(f"id:{uid}".encode()).hexdigest(),
                        birth_date=day - timedelta(days=int(age * 365.25)),
                        gender=gender,
                        status=VerificationStatus.VERIFIED,
                        degree=DEGREES[int(m.degree[i])],
                        employment="employed",
                        hukou_region=str(city * 100 + 1),
                        verified_at=stamp,
                    )
                )
                for purpose in ("sensitive_personal_information", "matching"):
                    consents.append(
                        Consent(member_id=uid, purpose=purpose, policy_version="2026-01")
                    )
                age_min, age_max = m.preferences.age_min[i], m.preferences.age_max[i]
                profiles.append(
                    Profile(
                        user_id=uid,
                        nickname=f"m{uid}",
                        city=city,
                        interests=[tags[j] for j in np.flatnonzero(m.interests[i][: len(tags)])],
                        seek_gender=seek,
                        age_min=20 if np.isnan(age_min) else int(max(18, age_min)),
                        age_max=45 if np.isnan(age_max) else int(min(80, age_max)),
                        cities=[int(c) for c in m.preferences.cities[i] if c],
                        min_degree=int(m.preferences.min_degree[i]),
                    )
                )
                asked = rng.choice(len(QUESTIONS), ANSWERED, replace=False)
                for q in asked:
                    top = options[q]
                    own = int(m.questionnaire.answers[i, q % 16])
                    own = (own if own >= 0 else int(rng.integers(0, top))) % top
                    acceptable = (int(m.questionnaire.acceptable[i, q % 16]) | (1 << own)) & (
                        (1 << top) - 1
                    )
                    answers.append(
                        Answer(
                            user_id=uid,
                            question=QUESTIONS[q].key,
                            answer=own,
                            acceptable=acceptable,
                            importance=int(m.questionnaire.importance[i, q % 16]),
                        )
                    )
            await User.bulk_create(users)
            await Member.bulk_create(members)
            await Consent.bulk_create(consents)
            await Profile.bulk_create(profiles)
            await Answer.bulk_create(answers, batch_size=BATCH * 2)
            for key, rows_ in zip(
                counts, (users, members, consents, profiles, answers), strict=True
            ):
                counts[key] += len(rows_)
    return {"generate_seconds": round(generated, 2), **counts}


# ---- reference: load_population, then the pure in-memory matcher on the loaded arrays ----


async def reference(day: date) -> dict:
    import numpy as np

    from qingyuan.matching.assignment import assign
    from qingyuan.matching.candidates import CandidateSettings, candidate_graph
    from qingyuan.matching.daily import PROVINCE
    from qingyuan.matching.features import BehaviourPrior
    from qingyuan.matching.population import load_population
    from qingyuan.matching.settings import matching_settings
    from qingyuan.matching.training import live_scorer, model_dir
    from qingyuan.parts import build_kernel, connected
    from qingyuan.settings import load_settings

    settings = load_settings(env_file=None)
    kernel = build_kernel(settings)
    try:
        async with connected(settings):
            started = time.perf_counter()
            population = await load_population(day)
            loaded = time.perf_counter() - started
    finally:
        await kernel.close()
    ms = matching_settings(kernel.settings)
    provinces = population.members.region // PROVINCE
    seconds = {"candidates": 0.0, "assign": 0.0}
    pairs, total, edges = 0, 0.0, 0
    for province in np.unique(provinces):
        part = np.flatnonzero(provinces == province)
        t0 = time.perf_counter()
        graph = candidate_graph(
            population.members,
            population.filters,
            live_scorer(model_dir(ms), BehaviourPrior.fit(population.members.behaviour)),
            CandidateSettings(k=ms.match_candidates, seed=day.toordinal()),
            partition=part,
        )
        t1 = time.perf_counter()
        chosen = assign(
            graph,
            capacity=ms.matches_per_day,
            exposure=population.members.behaviour.proposals_received,
        )
        t2 = time.perf_counter()
        seconds["candidates"] += t1 - t0
        seconds["assign"] += t2 - t1
        pairs += len(chosen)
        total += chosen.total
        edges += len(graph.a)
    return {
        "eligible": len(population),
        "load_population_seconds": round(loaded, 3),
        "candidates_seconds": round(seconds["candidates"], 3),
        "assign_seconds": round(seconds["assign"], 3),
        "matcher_seconds": round(seconds["candidates"] + seconds["assign"], 3),
        "edges": edges,
        "proposed_pairs": pairs,
        "mean_score": round(total / pairs, 4) if pairs else None,
    }


async def db_counts() -> dict:
    from qingyuan.matching.models import MatchRun, Proposal
    from qingyuan.parts import connected
    from qingyuan.platform.models import Notification
    from qingyuan.settings import load_settings

    async with connected(load_settings(env_file=None)):
        runs = await MatchRun.all().values("partition", "finished_at", "stats")
        return {
            "proposals": await Proposal.all().count(),
            "notifications": await Notification.all().count(),
            "runs": [
                {"partition": r["partition"], "finished": r["finished_at"] is not None}
                for r in runs
            ],
        }


# ---- orchestration ------------------------------------------------------------------------


def _child(command: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run a child to completion; its wall time, exit code, stdout and own peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "rc": process.returncode,
            "timed_out": time.monotonic() > deadline,
            "wall_seconds": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stdout": out.read(),
            "stderr": err.read()[-3000:],
        }


def _json_of(result: dict) -> dict | None:
    lines = [line for line in result["stdout"].splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def _self(mode: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bench.match_run", mode, *extra]


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _flush_redis() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def run_one(backend: str, n: int, args: argparse.Namespace) -> dict:
    figures: dict = {"backend": backend, "members": n}
    database = f"qy_bench_{os.getpid()}_{n}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "QINGYUAN_DATA_DIR": data_dir,
            "QINGYUAN_ENV": "development",
            "PYTHONPATH": str(ROOT),
        }
        if backend == "postgres":
            env["QINGYUAN_DATABASE_URL"] = PG_BASE + database
            env["QINGYUAN_REDIS_URL"] = REDIS_URL
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}"'))
            asyncio.run(_pg(f'CREATE DATABASE "{database}"'))
            asyncio.run(_flush_redis())
        else:
            env["QINGYUAN_DATABASE_URL"] = f"sqlite://{data_dir}/qingyuan.sqlite3"
            env["QINGYUAN_REDIS_URL"] = "memory://"
        try:
            match_run = [sys.executable, "-m", "qingyuan", "match", "run", "--date", args.date]
            steps = [
                ("migrate", [sys.executable, "-m", "qingyuan", "migrate"]),
                ("seed", _self("_seed", str(n), args.date)),
                ("reference", _self("_reference", args.date)),
                ("match_run", match_run),
                ("match_run_again", match_run),
                ("counts", _self("_counts")),
            ]
            for name, command in steps:
                result = _child(command, env, args.timeout)
                figures[name] = {
                    "wall_seconds": result["wall_seconds"],
                    "peak_rss_mb": result["peak_rss_mb"],
                    "output": _json_of(result),
                }
                print(f"[{backend} {n}] {name}: {result['wall_seconds']} s", file=sys.stderr)
                if result["rc"] != 0:
                    figures[name]["error"] = (
                        "timed out" if result["timed_out"] else result["stderr"].strip()
                    )
                    if name in ("migrate", "seed"):
                        break
        finally:
            if backend == "postgres":
                asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                asyncio.run(_flush_redis())
    _summarise(figures)
    return figures


def _summarise(figures: dict) -> None:
    ref = (figures.get("reference") or {}).get("output") or {}
    run = figures.get("match_run") or {}
    out = run.get("output") or {}
    if ref and out:
        seconds = out["seconds"]
        load, matcher = ref["load_population_seconds"], ref["matcher_seconds"]
        figures["summary"] = {
            "run_seconds": seconds,
            "run_wall_seconds": run["wall_seconds"],
            "reference_matcher_seconds": matcher,
            "ratio_run_over_matcher": round(seconds / matcher, 2) if matcher else None,
            "load_population_seconds": load,
            "store_and_rest_seconds_est": round(seconds - load - matcher, 2),
            "same_pairs_as_reference": out["proposed_pairs"] == ref["proposed_pairs"],
            "second_run_pairs": ((figures.get("match_run_again") or {}).get("output") or {}).get(
                "proposed_pairs"
            ),
        }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        mode, rest = sys.argv[1], sys.argv[2:]
        if mode == "_seed":
            result = asyncio.run(seed(int(rest[0]), date.fromisoformat(rest[1]), 1))
        elif mode == "_reference":
            result = asyncio.run(reference(date.fromisoformat(rest[0])))
        else:
            result = asyncio.run(db_counts())
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--date", default="2026-11-27")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds per child step")
    args = parser.parse_args()
    report = [run_one(backend, n, args) for n in args.sizes for backend in args.backends]
    print(json.dumps({"date": args.date, "runs": report}, indent=2, default=str))


if __name__ == "__main__":
    main()
