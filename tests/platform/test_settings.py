"""Settings: development defaults with kept keys; production refuses unsafe choices."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from qingyuan import cli
from qingyuan.platform.settings import (
    PlatformSettings,
    RateLimit,
    SettingsError,
    deploy_problems,
    load,
    parse_pii_keys,
)
from qingyuan.settings import load_settings
from qingyuan.web.app import UnsafeProductionSettings, create_app

KEY = base64.b64encode(b"k" * 32).decode()
SOUND = {
    "QINGYUAN_ENV": "production",
    "QINGYUAN_SECRET_KEY": "s" * 48,
    "QINGYUAN_PII_KEYS": f"k2:{KEY},k1:{KEY}",
    "QINGYUAN_BLIND_INDEX_KEY": "b" * 48,
    "QINGYUAN_DATABASE_URL": "postgres://qingyuan@db:5432/qingyuan?sslmode=verify-full",
    "QINGYUAN_REDIS_URL": "rediss://redis:6380/0",
    "QINGYUAN_ALLOWED_HOSTS": "qingyuan.example.cn",
    "QINGYUAN_DEPARTMENTS_URL": "https://departments.example.cn",
}


def test_development_defaults(tmp_path):
    settings = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.env == "development"
    assert settings.database_url == f"sqlite://{tmp_path}/qingyuan.sqlite3"
    assert settings.redis_url == "memory://"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.generated_keys and len(settings.secret_key) >= 32


def test_generated_keys_are_kept_between_starts(tmp_path):
    first = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=None)
    second = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=None)
    assert first.secret_key == second.secret_key and first.pii_keys == second.pii_keys
    assert (tmp_path / "generated-keys.json").stat().st_mode & 0o077 == 0


def test_dotenv_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("QINGYUAN_TIMEZONE=Asia/Urumqi\n")
    settings = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=env_file)
    assert settings.timezone == "Asia/Urumqi"


def test_production_never_generates_keys(tmp_path):
    settings = load_settings(
        {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_ENV": "production"}, env_file=None
    )
    assert settings.generated_keys and not settings.pii_keys.get_secret_value()
    assert not (tmp_path / "generated-keys.json").exists()


def test_deploy_problems_name_every_unsafe_default(tmp_path):
    problems = deploy_problems(
        load_settings(
            {
                "QINGYUAN_DATA_DIR": str(tmp_path),
                "QINGYUAN_ENV": "production",
                "QINGYUAN_DEBUG": "true",
            },
            env_file=None,
        )
    )
    text = "\n".join(problems)
    for expected in [
        "generated development keys",
        "memory://",
        "SQLite",
        "QINGYUAN_DEBUG",
        "QINGYUAN_ALLOWED_HOSTS",
        "QINGYUAN_PII_KEYS is empty",
        "inprocess",
    ]:
        assert expected in text


def test_sound_settings_have_no_problems(tmp_path):
    settings = load_settings({**SOUND, "QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=None)
    assert deploy_problems(settings) == []
    assert [key_id for key_id, _ in settings.pii_keys.get_secret_value()] == ["k2", "k1"]


def test_production_app_refuses_to_start_on_unsafe_settings(tmp_path):
    settings = load_settings(
        {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_ENV": "production"}, env_file=None
    )
    with pytest.raises(UnsafeProductionSettings, match="memory://"):
        create_app(settings)


def test_check_deploy_exits_non_zero_and_lists_problems(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QINGYUAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QINGYUAN_ENV", "production")
    assert cli.main(["check", "--deploy"]) == 1
    out = capsys.readouterr().out
    assert "SQLite" in out and "memory://" in out and "problem(s) found" in out


def test_check_deploy_exits_zero_when_sound(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("QINGYUAN_PASSWORD_PROFILE", raising=False)  # a developer's export
    for name, value in {**SOUND, "QINGYUAN_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["check", "--deploy"]) == 0
    assert "No problems found" in capsys.readouterr().out


def test_check_deploy_refuses_the_cheapest_password_profile(tmp_path, monkeypatch, capsys):
    """The test suite's cheap hashes must never reach production."""
    environ = {**SOUND, "QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_PASSWORD_PROFILE": "cheapest"}
    assert deploy_problems(load_settings(environ, env_file=None)) == [
        "QINGYUAN_PASSWORD_PROFILE is below the production argon2id cost: unset it."
    ]
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["check", "--deploy"]) == 1
    assert "QINGYUAN_PASSWORD_PROFILE" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["fast", "Production", ""])
def test_unknown_password_profiles_are_refused(tmp_path, name):
    with pytest.raises(SettingsError, match="QINGYUAN_PASSWORD_PROFILE: must be one of"):
        load_settings(
            {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_PASSWORD_PROFILE": name}, env_file=None
        )


@pytest.mark.parametrize("text", ["abc", "0/60", "5/0", "k1:short"])
def test_malformed_values_are_rejected(text):
    with pytest.raises(ValueError):
        RateLimit.parse(text) if "/" in text or text == "abc" else parse_pii_keys(text)


def test_rate_limit_parsing():
    assert RateLimit.parse("5/900") == RateLimit(5, 900)


def _problems_with(tmp_path, **overrides: str) -> list[str]:
    environ = {**SOUND, "QINGYUAN_DATA_DIR": str(tmp_path), **overrides}
    return deploy_problems(load_settings(environ, env_file=None))


@pytest.mark.parametrize(
    "url", ["http://departments.example.cn", "HTTP://departments.example.cn", "departments:8100"]
)
def test_deploy_refuses_departments_without_https(tmp_path, url):
    problems = _problems_with(tmp_path, QINGYUAN_DEPARTMENTS_URL=url)
    assert any("QINGYUAN_DEPARTMENTS_URL is not https://" in p for p in problems), problems


@pytest.mark.parametrize("url", ["redis://redis:6379/0", "redis://user@redis:6379/0"])
def test_deploy_refuses_redis_without_tls_or_password(tmp_path, url):
    problems = _problems_with(tmp_path, QINGYUAN_REDIS_URL=url)
    assert any("QINGYUAN_REDIS_URL has neither TLS" in p for p in problems), problems


@pytest.mark.parametrize(
    "url",
    ["rediss://redis:6380/0", "redis://:s3cret@redis:6379/0", "redis://redis:6379/0?password=x"],
)
def test_deploy_accepts_redis_with_tls_or_a_password(tmp_path, url):
    assert _problems_with(tmp_path, QINGYUAN_REDIS_URL=url) == []


@pytest.mark.parametrize(
    "query", ["", "?sslmode=require", "?sslmode=verify-ca", "?ssl=true", "?sslmode=prefer"]
)
def test_deploy_refuses_postgres_without_sslmode_verify_full(tmp_path, query):
    url = f"postgres://qingyuan@db:5432/qingyuan{query}"
    problems = _problems_with(tmp_path, QINGYUAN_DATABASE_URL=url)
    assert any("sslmode=verify-full" in p for p in problems), problems


@pytest.mark.parametrize("name", ["prod", "Production", "staging", ""])
def test_unknown_environment_name_is_an_error_naming_the_variable(tmp_path, name):
    with pytest.raises(SettingsError, match="QINGYUAN_ENV: must be one of development, test"):
        load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_ENV": name}, env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("QINGYUAN_ENV", "staging"), ("QINGYUAN_PASSWORD_PROFILE", "fast")],
)
def test_a_malformed_setting_stops_a_command_with_a_message_naming_it(
    tmp_path, monkeypatch, capsys, name, value
):
    monkeypatch.setenv("QINGYUAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    assert cli.main(["check"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("qingyuan: ") and name in error and "Traceback" not in error


def test_processes_starting_at_once_on_a_new_data_dir_share_one_set_of_keys(tmp_path):
    """Test workers, or `serve --workers`, may all generate development keys at the same
    moment: one wins, and every other reads the winner's keys instead of failing."""
    from concurrent.futures import ThreadPoolExecutor

    environ = {"QINGYUAN_DATA_DIR": str(tmp_path / "var")}
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: load_settings(environ, env_file=None), range(32)))
    assert len({(s.secret_key, s.pii_keys, s.blind_index_key) for s in loaded}) == 1
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["generated-keys.json"]


def test_the_settings_repr_shows_no_secret(tmp_path):
    environ = {
        "QINGYUAN_DATA_DIR": str(tmp_path),
        "QINGYUAN_SECRET_KEY": "s3cret-" * 8,
        "QINGYUAN_BLIND_INDEX_KEY": "bl1nd-" * 8,
        "QINGYUAN_PII_KEYS": "k1:" + base64.b64encode(b"p" * 32).decode(),
        "QINGYUAN_REDIS_URL": "redis://:redis-pass@127.0.0.1:6379/0",
        "QINGYUAN_DATABASE_URL": "postgres://qy:db-pass@127.0.0.1/qy",
        "QINGYUAN_CHECKIN_KEY": "checkin-secret",
    }
    shown = repr(load_settings(environ, env_file=None))
    assert "Settings(" in shown and "development" in shown
    for secret in ("s3cret-", "bl1nd-", "cHBw", "redis-pass", "db-pass", "checkin-secret"):
        assert secret not in shown


# --- one settings object, validated at start-up ----------------------------------------------


def _environment(tmp_path, monkeypatch, **variables: str) -> None:
    """The process environment of a command: this test's data directory and `variables`,
    nothing a developer exported, and no `.env` (the working directory is empty)."""
    for name in [n for n in os.environ if n.startswith("QINGYUAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QINGYUAN_DATA_DIR", str(tmp_path / "var"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


COMMANDS = [["check"], ["check", "--deploy"], ["serve"], ["worker"], ["demo"]]
BROKEN = [
    ("QINGYUAN_WAITLIST_OFFER_HOURS", "twelve", "valid number"),
    ("QINGYUAN_RATE_REPORT", "ten a day", "count/seconds"),
    ("QINGYUAN_SESSION_IDLE_SECONDS", "0", "greater than 0"),
    ("QINGYUAN_CHAT_SCAM_PATTERNS", '{"money": ["(unclosed"]}', "not a regex"),
    ("QINGYUAN_TIMEZONE", "Asia/Beijing", "IANA time zone"),
    ("QINGYUAN_MATCHES_PER_DAYS", "2", "no such setting (did you mean QINGYUAN_MATCHES_PER_DAY?)"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("name", "value", "why"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_malformed_or_unknown_variable_stops_every_command_naming_it(
    tmp_path, monkeypatch, capsys, command, name, value, why
):
    _environment(tmp_path, monkeypatch, **{name: value})
    assert cli.main(command) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"qingyuan: {name}: ") and why in captured.err
    assert "No problems found" not in captured.out and "Traceback" not in captured.err
    assert not (tmp_path / "var" / "qingyuan.sqlite3").exists()  # nothing was started


def test_the_installed_command_exits_non_zero_on_a_malformed_value(tmp_path):
    """The issue's example, as an operator would type it."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QINGYUAN_")},
        "QINGYUAN_DATA_DIR": str(tmp_path / "var"),
        "QINGYUAN_WAITLIST_OFFER_HOURS": "twelve",
    }
    done = subprocess.run(
        [sys.executable, "-m", "qingyuan", "check"],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert "QINGYUAN_WAITLIST_OFFER_HOURS" in done.stderr and "twelve" in done.stderr
    assert "No problems found" not in done.stdout


def test_a_misspelt_name_in_the_env_file_stops_the_start(tmp_path, monkeypatch, capsys):
    _environment(tmp_path, monkeypatch)
    (tmp_path / ".env").write_text("QINGYUAN_WAITLIST_OFFER_HOUR=6\n")
    assert cli.main(["check"]) == 2
    error = capsys.readouterr().err
    assert "QINGYUAN_WAITLIST_OFFER_HOUR: no such setting" in error
    assert "did you mean QINGYUAN_WAITLIST_OFFER_HOURS?" in error


def test_the_env_file_is_validated_and_the_environment_wins_over_it(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("QINGYUAN_NO_SHOW_LIMIT=three\nQINGYUAN_TIMEZONE=Asia/Urumqi\n")
    environ = {"QINGYUAN_DATA_DIR": str(tmp_path)}
    with pytest.raises(SettingsError, match=r"QINGYUAN_NO_SHOW_LIMIT: .*'three'"):
        load_settings(environ, env_file=tmp_path / ".env")
    settings = load_settings({**environ, "QINGYUAN_NO_SHOW_LIMIT": "3"}, tmp_path / ".env")
    assert settings.no_show_limit == 3 and settings.timezone == "Asia/Urumqi"


def test_every_problem_is_named_at_once(tmp_path):
    environ = {
        "QINGYUAN_DATA_DIR": str(tmp_path),
        "QINGYUAN_NO_SHOW_LIMIT": "many",
        "QINGYUAN_RATE_LOGIN_IP": "30 per 900",
        "QINGYUAN_DEBUGG": "true",
    }
    with pytest.raises(SettingsError) as error:
        load_settings(environ, env_file=None)
    lines = str(error.value).splitlines()
    assert [line.partition(":")[0] for line in lines] == [
        "QINGYUAN_DEBUGG",
        "QINGYUAN_RATE_LOGIN_IP",
        "QINGYUAN_NO_SHOW_LIMIT",
    ]


def test_create_app_refuses_malformed_settings_from_the_environment(tmp_path, monkeypatch):
    """`uvicorn --factory qingyuan.web.app:create_app` reads the environment itself."""
    _environment(tmp_path, monkeypatch, QINGYUAN_RATE_CHAT_NEW="60/hour")
    with pytest.raises(SettingsError, match="QINGYUAN_RATE_CHAT_NEW"):
        create_app()
    monkeypatch.setenv("QINGYUAN_RATE_CHAT_NEW", "60/3600")
    monkeypatch.setenv("QINGYUAN_METRICS_TOKN", "x" * 32)
    with pytest.raises(SettingsError, match="QINGYUAN_METRICS_TOKN: no such setting"):
        create_app()


def test_an_error_never_repeats_a_secret_value(tmp_path):
    key = base64.b64encode(b"not-32-bytes-long").decode()
    environ = {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_PII_KEYS": f"k1:{key}"}
    with pytest.raises(SettingsError, match="QINGYUAN_PII_KEYS: entries must be") as error:
        load_settings(environ, env_file=None)
    assert key not in str(error.value)


def test_names_of_the_test_suite_and_benchmarks_are_not_settings(tmp_path):
    environ = {
        "QINGYUAN_DATA_DIR": str(tmp_path),
        "QINGYUAN_TEST_REDIS_URL": "redis://127.0.0.1:6379/9",
        "QINGYUAN_BENCH_REDIS_URL": "redis://127.0.0.1:6379/11",
        "QINGYUAN_CHROMIUM": "/usr/bin/chromium",
    }
    assert load_settings(environ, env_file=None).redis_url == "memory://"


def test_an_empty_value_unsets_only_what_is_optional(tmp_path):
    """`QINGYUAN_ENV=$UNSET` must not quietly mean development; an empty key or token still
    means "not given" (generated in development)."""
    environ = {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_SECRET_KEY": ""}
    settings = load_settings({**environ, "QINGYUAN_METRICS_TOKEN": ""}, env_file=None)
    assert settings.generated_keys and len(settings.secret_key) >= 32
    assert settings.metrics_token is None
    with pytest.raises(SettingsError, match="QINGYUAN_NO_SHOW_LIMIT"):
        load_settings({**environ, "QINGYUAN_NO_SHOW_LIMIT": ""}, env_file=None)


def test_a_section_read_from_settings_that_lack_it_is_a_type_error(tmp_path):
    from qingyuan.verification.settings import verification_settings

    platform_only = load(PlatformSettings, {"QINGYUAN_DATA_DIR": str(tmp_path)}, None)
    with pytest.raises(TypeError, match="lacks the section VerificationSettings"):
        verification_settings(platform_only)
    full = load_settings({"QINGYUAN_DATA_DIR": str(tmp_path)}, env_file=None)
    assert verification_settings(full) is full


def test_the_platform_section_alone_reads_only_its_own_names_when_not_strict(tmp_path):
    """The Tortoise CLI reads the database URL without knowing the parts' sections."""
    environ = {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_NO_SHOW_LIMIT": "3"}
    with pytest.raises(SettingsError, match="QINGYUAN_NO_SHOW_LIMIT: no such setting"):
        load(PlatformSettings, environ, None)
    assert load(PlatformSettings, environ, None, strict=False).env == "development"


def test_rate_limits_read_as_they_are_written(tmp_path):
    settings = load_settings(
        {"QINGYUAN_DATA_DIR": str(tmp_path), "QINGYUAN_RATE_LOGIN_IP": "3/60"}, env_file=None
    )
    assert settings.rate_login_ip == RateLimit(3, 60) and str(settings.rate_login_ip) == "3/60"
    assert settings.rate_login_account == RateLimit(5, 900)
