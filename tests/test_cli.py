"""The `qingyuan` command: refusals with clear messages, staff creation, idempotent demo."""

from __future__ import annotations

import asyncio
import json

import pytest

from qingyuan import cli, demo
from qingyuan.parts import connected
from qingyuan.platform.models import AuditEntry, Role, User
from qingyuan.verification.models import Member
from tests.conftest import install_migrated


@pytest.fixture
def env(stack, monkeypatch):
    for name, value in stack.items():
        monkeypatch.setenv(name, value)
    return stack


def test_serve_refuses_two_workers_on_in_memory_redis(env, monkeypatch, capsys):
    monkeypatch.setenv("QINGYUAN_REDIS_URL", "memory://")
    assert cli.main(["serve", "--workers", "2"]) == 2
    assert "memory://" in capsys.readouterr().err


def test_worker_needs_a_redis_server(env, monkeypatch, capsys):
    monkeypatch.setenv("QINGYUAN_REDIS_URL", "memory://")
    assert cli.main(["worker"]) == 2
    assert "needs a Redis server" in capsys.readouterr().err


def test_production_serve_lists_the_problems(env, monkeypatch, capsys):
    monkeypatch.setenv("QINGYUAN_ENV", "production")
    assert cli.main(["serve"]) == 2
    assert "Refusing to start in production" in capsys.readouterr().err


def test_createuser_makes_a_staff_account_and_audits_it(env, settings, capsys):
    assert cli.main(["migrate"]) == 0
    assert (
        cli.main(
            [
                "createuser",
                "--role",
                "matchmaker",
                "--phone",
                "138 1234 5678",
                "--name",
                "红娘王姐",
                "--password",
                "volunteer-2026",
            ]
        )
        == 0
    )
    assert "Created matchmaker account" in capsys.readouterr().out

    async def check() -> tuple[User, AuditEntry]:
        async with connected(settings):
            return await User.get(), await AuditEntry.get(action="account.created")

    user, entry = asyncio.run(check())
    assert user.role == Role.MATCHMAKER and user.display_name == "红娘王姐"
    assert entry.target_id == str(user.id)
    assert "13812345678" not in user.phone_encrypted


def test_createuser_reports_bad_input_without_a_traceback(env, capsys):
    assert cli.main(["migrate"]) == 0
    assert (
        cli.main(
            ["createuser", "--role", "admin", "--phone", "123", "--password", "volunteer-2026"]
        )
        == 2
    )
    assert "11 位" in capsys.readouterr().err  # the operator's locale defaults to zh-CN


def test_demo_seed_is_idempotent_and_writes_every_login(settings):
    install_migrated(settings)
    first = asyncio.run(demo.seed(settings, members=5))
    second = asyncio.run(demo.seed(settings, members=5))
    assert first == second

    async def count() -> tuple[int, list[str]]:
        async with connected(settings):
            statuses = await Member.all().values_list("status", flat=True)
            return await User.all().count(), sorted(statuses)

    users, statuses = asyncio.run(count())
    assert users == 2 + 5 + 2  # staff, members, the two showcase personas
    assert statuses == ["rejected"] * 2 + ["verified"] * 5  # verified by the departments
    written = json.loads((settings.data_dir / demo.ACCOUNTS_FILE).read_text())
    assert {entry["role"] for entry in written} == {"admin", "matchmaker", "member"}
    assert all(set(entry) >= {"role", "phone", "password"} for entry in written)
    for name in (demo.ACCOUNTS_FILE, demo.REGISTRY_FILE):  # logins, names and ID numbers
        assert (settings.data_dir / name).stat().st_mode & 0o077 == 0, name
    assert "http://127.0.0.1:8000/" in demo.banner("http://127.0.0.1:8000/", first, settings)


def test_model_train_needs_the_configured_number_of_decisions(env, settings, monkeypatch, capsys):
    """`qingyuan model train` once ignored QINGYUAN_MODEL_MIN_DECISIONS (always 200)."""
    install_migrated(settings)
    monkeypatch.setenv("QINGYUAN_MODEL_MIN_DECISIONS", "7")
    assert cli.main(["model", "train"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["trained"] is False and "at least 7 decisions" in result["reason"]
