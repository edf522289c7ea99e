"""Must-show 1: 200 simultaneous sign-ups over HTTP never overbook a 10 + 10 activity.

The app runs as real uvicorn processes: two workers (separate processes) on PostgreSQL, one
worker on SQLite, both with a real Redis (`-m integration`). The members are verified through
the mock departments; their sessions are opened in the shared Redis as a login does (200
argon2 logins would take minutes on a loaded 2-core machine and test nothing here). Their
passwords, like every test user's, are hashed at the cheapest argon2 profile (TEST_ENV, also
passed to the servers). Then all of them press "sign up" at the same instant, 20 of them twice.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from qingyuan.activities.models import Registration, RegistrationStatus
from qingyuan.platform.models import Role
from tests.activities.support import MemberSession, activity_body, verified_members
from tests.conftest import PASSWORD as STAFF_PASSWORD
from tests.conftest import (
    PG_URL,
    REDIS_URL,
    TEST_ENV,
    _create_pg_database,
    _drop_pg_database,
    _flush_redis,
    _unavailable,
    add_user,
    free_port,
    run,
    wait_for_port,
)

MEMBERS = 200
DOUBLE_CLICKERS = 20
RATE_LIMITS = {"QINGYUAN_RATE_LOGIN_IP": "100000/60", "QINGYUAN_RATE_LOGIN_ACCOUNT": "100/60"}


@contextmanager
def served(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "qingyuan.web.app:create_app"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    # Phones keep their connection open between logging in and pressing "sign up".
    command += ["--timeout-keep-alive", "600"]
    server = subprocess.Popen(command, env=env)
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


async def log_in(base: str, phone: str, password: str) -> httpx.AsyncClient:
    """A staff member's HTTP client, logged in over the API."""
    client = httpx.AsyncClient(base_url=base, timeout=120)
    answer = await client.post("/api/v1/session", json={"phone": phone, "password": password})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def phone_of(base: str, person: MemberSession) -> httpx.AsyncClient:
    """One member's phone: its own connection and session cookie."""
    return httpx.AsyncClient(
        base_url=base,
        timeout=120,
        cookies={"qy_session": person.session_id},
        headers={"X-CSRF-Token": person.csrf_token},
    )


async def scenario(base: str, people: list[MemberSession], admin_phone: str) -> dict:
    admin = await log_in(base, admin_phone, STAFF_PASSWORD)
    created = await admin.post(
        "/api/v1/admin/activities",
        json=activity_body(capacity=20, quotas={"male": 10, "female": 10}),
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/activities/{created.json()['id']}/registration"
    phones = [phone_of(base, p) for p in people]
    go = asyncio.Event()

    async def press(client: httpx.AsyncClient) -> httpx.Response:
        await go.wait()
        return await client.post(path)

    tasks = [asyncio.create_task(press(c)) for c in phones]
    tasks += [asyncio.create_task(press(c)) for c in phones[:DOUBLE_CLICKERS]]
    await asyncio.sleep(0.2)
    go.set()
    answers = await asyncio.gather(*tasks)
    result = {"activity_id": created.json()["id"], "answers": answers, "phones": phones}
    result["detail"] = (await phones[0].get(path.removesuffix("/registration"))).json()
    return result


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.integration),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def stack(request: pytest.FixtureRequest, tmp_path) -> Iterator[dict[str, str]]:
    """Both databases with a real Redis, which the uvicorn processes and the test share."""
    env = {
        "QINGYUAN_DATA_DIR": str(tmp_path / "var"),
        **TEST_ENV,
        "QINGYUAN_REDIS_URL": REDIS_URL,
    }
    try:
        asyncio.run(_flush_redis(REDIS_URL))
        database_url = (
            asyncio.run(_create_pg_database(PG_URL)) if request.param == "postgres" else ""
        )
    except Exception as exc:
        _unavailable("PostgreSQL/Redis", exc)
    # Tortoise caches each model's INSERT statement per connection *name*, not per dialect:
    # a SQLite test followed by a PostgreSQL one in the same process would reuse SQLite's SQL.
    EXECUTOR_CACHE.clear()
    if not database_url:
        yield env
    else:
        yield {**env, "QINGYUAN_DATABASE_URL": database_url}
        asyncio.run(_drop_pg_database(PG_URL, database_url))
    EXECUTOR_CACHE.clear()


def test_200_simultaneous_sign_ups_fill_exactly_the_quotas(stack, make_settings, make_client):
    settings = make_settings(**RATE_LIMITS)
    client = make_client(settings)
    kernel = client.app.state.kernel
    people = run(client, verified_members, kernel, MEMBERS, seed=21)
    add_user(client, "13800000001", Role.ADMIN, "管理员")
    workers = 1 if settings.uses_sqlite else 2
    env = {**os.environ, **stack, **RATE_LIMITS}
    with served(env, workers) as base:
        result = asyncio.run(_run_and_check(base, people, client))
    assert result == "ok"


async def _close(clients: list[httpx.AsyncClient]) -> None:
    for c in clients:
        await c.aclose()


async def _run_and_check(base: str, people: list[MemberSession], app_client) -> str:
    result = await scenario(base, people, "13800000001")
    answers: list[httpx.Response] = result["answers"]
    assert not [a for a in answers if a.status_code >= 500], "server errors"
    first, second = answers[:MEMBERS], answers[MEMBERS:]
    # The second press of a double click arrives at the same instant as the first; exactly one
    # of the two creates the registration, and both report the same status.
    for i, answer in enumerate(second):
        pair = sorted([first[i].status_code, answer.status_code])
        assert pair == [200, 201], pair
        assert answer.json()["status"] == first[i].json()["status"]
    assert [a.status_code for a in first if a.status_code not in (200, 201)] == []
    genders = Counter(p.gender for p in people)
    confirmed = Counter(
        p.gender for p, a in zip(people, first, strict=True) if a.json()["status"] == "confirmed"
    )
    assert confirmed == {"male": min(10, genders["male"]), "female": min(10, genders["female"])}
    waitlisted = [
        (p, a.json())
        for p, a in zip(people, first, strict=True)
        if a.json()["status"] == "waitlisted"
    ]
    assert len(waitlisted) == MEMBERS - sum(confirmed.values())
    counts = result["detail"]["counts"]
    assert counts["confirmed"] == dict(confirmed)
    assert counts["waitlisted"] == {g: genders[g] - confirmed[g] for g in ("male", "female")}
    await _check_waitlist_order(app_client, result["activity_id"], people, first)
    await _check_cancel_and_promotion(result, people)
    await _close(result["phones"])
    return "ok"


async def _check_waitlist_order(app_client, activity_id, people, first) -> None:
    """Positions told at sign-up are 1..n per gender and follow the stored queue order."""

    async def queue() -> list[tuple[int, int, str]]:
        return (
            await Registration.filter(activity_id=activity_id, status=RegistrationStatus.WAITLISTED)
            .order_by("waitlist_seq")
            .values_list("user_id", "waitlist_seq", "gender")
        )

    stored = await asyncio.to_thread(run, app_client, queue)
    seqs = [seq for _user, seq, _g in stored]
    assert seqs == list(range(1, len(seqs) + 1)), "queue places are unique and gapless"
    told = {
        p.user.id: a.json()["waitlist_position"]
        for p, a in zip(people, first, strict=True)
        if a.json()["status"] == "waitlisted"
    }
    for gender in ("male", "female"):
        in_order = [told[user] for user, _seq, g in stored if g == gender]
        assert in_order == list(range(1, len(in_order) + 1)), gender


async def _check_cancel_and_promotion(result, people) -> None:
    """A confirmed man cancels twice (harmless); his seat is offered to the first waiting man."""
    phones = dict(zip((p.user.id for p in people), result["phones"], strict=True))
    answers = dict(zip((p.user.id for p in people), result["answers"], strict=False))
    gender = {p.user.id: p.gender for p in people}
    path = f"/api/v1/activities/{result['activity_id']}"
    leaver = next(
        u for u, a in answers.items() if a.json()["status"] == "confirmed" and gender[u] == "male"
    )
    for _ in range(2):
        gone = await phones[leaver].delete(f"{path}/registration")
        assert gone.status_code == 200 and gone.json() == {"status": "cancelled"}
    first_man = next(
        u
        for u, a in answers.items()
        if gender[u] == "male" and a.json().get("waitlist_position") == 1
    )
    first_woman = next(
        u
        for u, a in answers.items()
        if gender[u] == "female" and a.json().get("waitlist_position") == 1
    )
    mine = (await phones[first_man].get(path)).json()["my_registration"]
    assert mine["status"] == "offered"
    theirs = (await phones[first_woman].get(path)).json()["my_registration"]
    assert theirs["status"] == "waitlisted" and theirs["waitlist_position"] == 1
    taken = await phones[first_man].post(f"{path}/registration")
    assert taken.status_code == 200 and taken.json()["status"] == "confirmed"
    detail = (await phones[first_man].get(path)).json()
    assert detail["counts"]["confirmed"] == {"male": 10, "female": 10}
