"""`qingyuan demo`: its own password for every login, hashed cheaply once and upgraded at the
first login; `--host` with its warning; `--reset` removing the demo's data and nothing else."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from argon2 import PasswordHasher

from qingyuan import cli, demo
from qingyuan.parts import connected, migrate
from qingyuan.platform import accounts, passwords
from qingyuan.platform.crypto import cipher_for
from qingyuan.platform.models import User
from qingyuan.settings import Settings, load_settings
from tests.conftest import free_port


def _stored_hash(settings: Settings, phone: str) -> str:
    async def read() -> str:
        cipher = cipher_for(settings)
        async with connected(settings):
            user = await accounts.find_by_phone(cipher, phone)
            assert user is not None
            return user.password_hash

    return asyncio.run(read())


def _cost(stored_hash: str, profile: str) -> bool:
    """Whether `stored_hash` was made at `profile`'s cost."""
    hasher: PasswordHasher = passwords.hasher_for(profile)
    return not hasher.check_needs_rehash(stored_hash)


def test_demo_member_seeded_hash_is_upgraded_at_first_login(make_settings, make_client):
    settings = make_settings(QINGYUAN_PASSWORD_PROFILE="production")
    asyncio.run(migrate(settings))
    said: list[str] = []
    logins = asyncio.run(demo.seed(settings, members=3, progress=said.append))
    assert any("Verifying 5 members" in line for line in said), said
    assert any("Running today's match" in line for line in said), said
    members = [login for login in logins if login.role == "member"]
    assert len({login.password for login in logins}) == len(logins)  # each their own

    member = members[2]
    assert _cost(_stored_hash(settings, member.phone), "cheapest")

    client = make_client(settings)
    body = client.post("/api/v1/session", json={"phone": member.phone, "password": member.password})
    assert body.status_code == 200, body.text
    upgraded = _stored_hash(settings, member.phone)
    assert _cost(upgraded, "production") and not _cost(upgraded, "cheapest")
    other = client.post(
        "/api/v1/session", json={"phone": members[3].phone, "password": member.password}
    )
    assert other.status_code == 422  # one member's password opens no other account


def test_demo_seeds_cheap_hashes_and_keeps_the_logins_private(make_settings):
    settings = make_settings(QINGYUAN_PASSWORD_PROFILE="production")
    asyncio.run(migrate(settings))
    logins = asyncio.run(demo.seed(settings, members=2))

    async def hashes() -> list[str]:
        async with connected(settings):
            return list(await User.all().values_list("password_hash", flat=True))

    assert all(_cost(stored, "cheapest") for stored in asyncio.run(hashes()))
    path = settings.data_dir / demo.ACCOUNTS_FILE
    assert path.stat().st_mode & 0o077 == 0
    assert asyncio.run(demo.seed(settings, members=2)) == logins  # the same passwords again


def test_demo_on_the_network_warns_that_it_is_for_trying_only(tmp_path, monkeypatch, capsys):
    env = _embedded(tmp_path / "var")
    asyncio.run(migrate(load_settings(env, env_file=None)))  # refused below: nothing is served
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["demo", "--host", "0.0.0.0", "--reset"]) == 2  # noqa: S104
    err = capsys.readouterr().err
    assert "for trying it on a phone only" in err and "no TLS" in err and "SQLite" in err
    assert cli.main(["demo", "--host", "127.0.0.1", "--reset"]) == 2
    assert "for trying" not in capsys.readouterr().err


def test_demo_parses_host_and_reset():
    parsed = cli.build_parser().parse_args(["demo", "--host", "192.168.1.20", "--reset"])
    assert (parsed.host, parsed.reset, parsed.port) == ("192.168.1.20", True, 8000)
    default = cli.build_parser().parse_args(["demo"])
    assert (default.host, default.reset) == ("127.0.0.1", False)


def _embedded(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"QINGYUAN_DATA_DIR": str(data_dir), "QINGYUAN_ENV": "development", **extra}


def test_reset_refuses_a_database_the_demo_did_not_make(tmp_path, monkeypatch, capsys):
    env = _embedded(tmp_path / "var")
    asyncio.run(migrate(load_settings(env, env_file=None)))  # someone's development data
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["demo", "--reset"]) == 2
    assert "was not made by `qingyuan demo`" in capsys.readouterr().err
    assert (tmp_path / "var" / demo.DATABASE_FILE).is_file()


def test_reset_refuses_a_database_outside_the_data_dir(tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere.sqlite3"
    env = _embedded(tmp_path / "var", QINGYUAN_DATABASE_URL=f"sqlite://{elsewhere}")
    settings = load_settings(env, env_file=None)
    asyncio.run(migrate(settings))
    asyncio.run(demo.seed(settings, members=1))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["demo", "--reset"]) == 2
    assert "QINGYUAN_DATABASE_URL points elsewhere" in capsys.readouterr().err
    assert elsewhere.is_file() and (tmp_path / "var" / demo.ACCOUNTS_FILE).is_file()


def test_demo_reset_seeds_anew_and_serves_on_the_host_given(tmp_path):
    """The whole command in its own process: reset, new data, serving on --host."""
    data_dir = tmp_path / "var"
    env = _embedded(data_dir)
    settings = load_settings(env, env_file=None)
    asyncio.run(migrate(settings))
    before = asyncio.run(demo.seed(settings, members=1))
    keys_before = (data_dir / "generated-keys.json").read_text()
    (data_dir / "notes.txt").write_text("not the demo's")
    port = free_port()
    host = ["--host", "127.0.0.2", "--port", str(port)]  # loopback, but not the default
    process = subprocess.Popen(
        [sys.executable, "-m", "qingyuan", "demo", "--reset", "--members", "1", *host],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        out = []
        for line in process.stdout:
            out.append(line)
            if line.startswith("Qingyuan demo is running at"):
                break
        assert out and out[-1].strip() == f"Qingyuan demo is running at http://127.0.0.2:{port}/"
        with urllib.request.urlopen(f"http://127.0.0.2:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert any(line.startswith("Removed the demo data") for line in out)
    assert "for trying" not in err  # 127.0.0.2 is loopback: nobody else can reach it
    after = json.loads((data_dir / demo.ACCOUNTS_FILE).read_text())
    assert {entry["phone"] for entry in after} == {login.phone for login in before}
    assert not {entry["password"] for entry in after} & {login.password for login in before}
    assert (data_dir / "generated-keys.json").read_text() != keys_before
    assert (data_dir / "notes.txt").read_text() == "not the demo's"
