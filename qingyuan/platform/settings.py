"""Settings: read once from the environment (and an optional `.env`) into one frozen object.

Development must work with zero configuration, so the secret key and the PII keys are
generated on first use and kept in the data directory. Production must never run on such
keys, nor on the embedded SQLite / in-memory Redis: `deploy_problems()` lists every unsafe
choice, `qingyuan check --deploy` prints them and the server refuses to start on them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from starlette.config import Config

from qingyuan.platform.files import private_directory
from qingyuan.platform.passwords import DEFAULT_PROFILE, PROFILES

DEVELOPMENT = "development"
PRODUCTION = "production"
TEST = "test"
ENVIRONMENTS = (DEVELOPMENT, TEST, PRODUCTION)
GENERATED_KEYS_FILE = "generated-keys.json"


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `window` seconds; written as "5/300" in the environment."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        limit, _, window = text.partition("/")
        parsed = cls(int(limit), int(window or 60))
        if parsed.limit < 1 or parsed.window < 1:
            raise ValueError(f"rate limit must be positive: {text!r}")
        return parsed


@dataclass(frozen=True)
class Settings:
    """Every value read once; `repr` leaves out what is secret (keys, URLs that may carry a
    password, and the raw QINGYUAN_* mapping), since settings end up in logs and tracebacks."""

    env: str
    data_dir: Path
    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    secret_key: bytes = field(repr=False)
    pii_keys: tuple[tuple[str, bytes], ...] = field(repr=False)
    blind_index_key: bytes = field(repr=False)
    departments_url: str
    mock_registry: Path | None
    timezone: str
    debug: bool
    generated_keys: bool
    allowed_hosts: tuple[str, ...]
    session_idle_seconds: int
    session_absolute_seconds: int
    login_limit_account: RateLimit
    login_limit_ip: RateLimit
    password_profile: str = DEFAULT_PROFILE
    # Cookies only over HTTPS (and the session cookie as `__Host-`): on in production, and
    # wherever else the site is served over TLS (a staging copy, the HTTPS tests).
    secure_cookies: bool = False
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def uses_memory_redis(self) -> bool:
        return self.redis_url.startswith("memory://")

    def local_today(self) -> date:
        """Today where the members live (the daily match and ages follow the local date)."""
        return datetime.now(ZoneInfo(self.timezone)).date()


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build the settings from `environ` (default: the process environment) and `.env`."""
    source = dict(os.environ if environ is None else environ)
    env_path = Path(env_file) if env_file else None
    config = Config(env_path if env_path and env_path.is_file() else None, environ=source)
    data_dir = Path(config("QINGYUAN_DATA_DIR", default="./var")).resolve()
    env = _environment(config("QINGYUAN_ENV", default=DEVELOPMENT))
    keys = _keys(config, data_dir, generate=env != PRODUCTION)
    registry = config("QINGYUAN_MOCK_REGISTRY", default="")
    return Settings(
        env=env,
        data_dir=data_dir,
        database_url=config(
            "QINGYUAN_DATABASE_URL", default=f"sqlite://{data_dir / 'qingyuan.sqlite3'}"
        ),
        redis_url=config("QINGYUAN_REDIS_URL", default="memory://"),
        departments_url=config("QINGYUAN_DEPARTMENTS_URL", default="inprocess"),
        mock_registry=Path(registry) if registry else None,
        timezone=config("QINGYUAN_TIMEZONE", default="Asia/Shanghai"),
        debug=config("QINGYUAN_DEBUG", cast=bool, default=False),
        secure_cookies=config("QINGYUAN_SECURE_COOKIES", cast=bool, default=env == PRODUCTION),
        allowed_hosts=tuple(
            h.strip() for h in config("QINGYUAN_ALLOWED_HOSTS", default="*").split(",")
        ),
        session_idle_seconds=config("QINGYUAN_SESSION_IDLE_SECONDS", cast=int, default=1800),
        session_absolute_seconds=config(
            "QINGYUAN_SESSION_ABSOLUTE_SECONDS", cast=int, default=12 * 3600
        ),
        login_limit_account=config(
            "QINGYUAN_RATE_LOGIN_ACCOUNT", cast=RateLimit.parse, default="5/900"
        ),
        login_limit_ip=config("QINGYUAN_RATE_LOGIN_IP", cast=RateLimit.parse, default="30/900"),
        password_profile=config(
            "QINGYUAN_PASSWORD_PROFILE", cast=_password_profile, default=DEFAULT_PROFILE
        ),
        extra={k: v for k, v in source.items() if k.startswith("QINGYUAN_")},
        **keys,
    )


def _environment(name: str) -> str:
    """A misspelt `QINGYUAN_ENV=prod` must not quietly run as development (generated keys,
    no production checks): anything but the known names stops the start."""
    if name not in ENVIRONMENTS:
        raise ValueError(f"QINGYUAN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    return name


def _password_profile(name: str) -> str:
    if name not in PROFILES:
        raise ValueError(
            f"QINGYUAN_PASSWORD_PROFILE must be one of {', '.join(PROFILES)}, not {name!r}"
        )
    return name


def _keys(config: Config, data_dir: Path, *, generate: bool) -> dict:
    """Explicit keys from the environment, else (outside production) generated dev keys."""
    explicit = {
        "secret_key": config("QINGYUAN_SECRET_KEY", default=""),
        "pii_keys": config("QINGYUAN_PII_KEYS", default=""),
        "blind_index_key": config("QINGYUAN_BLIND_INDEX_KEY", default=""),
    }
    missing = [name for name, value in explicit.items() if not value]
    generated = _generated_keys(data_dir) if missing and generate else {}
    values = {name: explicit[name] or generated.get(name, "") for name in explicit}
    return {
        "secret_key": values["secret_key"].encode(),
        "pii_keys": parse_pii_keys(values["pii_keys"]) if values["pii_keys"] else (),
        "blind_index_key": values["blind_index_key"].encode(),
        "generated_keys": bool(missing),
    }


def parse_pii_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    """`"k2:<base64 32 bytes>,k1:<…>"`, newest first: encrypt with the first, decrypt with any."""
    keys = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, encoded = item.partition(":")
        key = base64.b64decode(encoded)
        if not key_id or len(key) != 32:
            raise ValueError("QINGYUAN_PII_KEYS entries must be id:base64(32 bytes)")
        keys.append((key_id, key))
    return tuple(keys)


def _generated_keys(data_dir: Path) -> dict[str, str]:
    """Development keys, created once and kept so encrypted data stays readable.

    Several processes may start at once on a new data directory (test workers, `serve
    --workers`): the keys are written whole to a private temporary file and linked into place,
    which fails for every process but the first; the others read the winner's keys."""
    path = data_dir / GENERATED_KEYS_FILE
    if path.is_file():
        return json.loads(path.read_text())
    private_directory(data_dir)
    keys = {
        "secret_key": secrets.token_urlsafe(48),
        "pii_keys": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "blind_index_key": secrets.token_urlsafe(48),
    }
    fd, partial = tempfile.mkstemp(dir=data_dir, prefix=f".{GENERATED_KEYS_FILE}.")  # 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(keys, handle)
        os.link(partial, path)
    except FileExistsError:
        return json.loads(path.read_text())
    finally:
        os.unlink(partial)
    return keys


def deploy_problems(settings: Settings) -> list[str]:
    """Every setting that is unsafe for production, in words an operator can act on."""
    checks = [
        (
            settings.generated_keys,
            "Secret and PII keys are generated development keys: set "
            "QINGYUAN_SECRET_KEY, QINGYUAN_PII_KEYS and "
            "QINGYUAN_BLIND_INDEX_KEY.",
        ),
        (len(settings.secret_key) < 32, "QINGYUAN_SECRET_KEY must be at least 32 characters."),
        (not settings.pii_keys, "QINGYUAN_PII_KEYS is empty."),
        (settings.uses_memory_redis, "QINGYUAN_REDIS_URL is memory://: use a Redis server."),
        (settings.uses_sqlite, "QINGYUAN_DATABASE_URL is SQLite: use PostgreSQL."),
        (settings.debug, "QINGYUAN_DEBUG is on."),
        (
            not settings.secure_cookies,
            "QINGYUAN_SECURE_COOKIES is off: cookies would cross plain http.",
        ),
        (
            settings.password_profile != DEFAULT_PROFILE,
            "QINGYUAN_PASSWORD_PROFILE is below the production argon2id cost: unset it.",
        ),
        ("*" in settings.allowed_hosts, "QINGYUAN_ALLOWED_HOSTS is '*': list the host names."),
        (
            settings.departments_url == "inprocess",
            "QINGYUAN_DEPARTMENTS_URL is inprocess: the mock departments are not real ones.",
        ),
        (
            settings.departments_url != "inprocess"
            and urlsplit(settings.departments_url).scheme != "https",
            "QINGYUAN_DEPARTMENTS_URL is not https://: names, ID numbers, the client secret "
            "and the departments' signing keys (JWKS) would travel unprotected.",
        ),
        (
            not settings.uses_memory_redis and not _redis_protected(settings.redis_url),
            "QINGYUAN_REDIS_URL has neither TLS (rediss://) nor a password: sessions and "
            "chat messages would be open to anyone on the network.",
        ),
        (
            not settings.uses_sqlite and not _postgres_verifies_server(settings.database_url),
            "QINGYUAN_DATABASE_URL lacks sslmode=verify-full: without it the connection is "
            "not encrypted or the server's certificate and host name are not checked.",
        ),
    ]
    return [message for failed, message in checks if failed]


def _redis_protected(url: str) -> bool:
    """TLS, or at least a password (in the URL's user part or as `?password=`)."""
    parts = urlsplit(url)
    return parts.scheme == "rediss" or bool(parts.password or parse_qs(parts.query).get("password"))


def _postgres_verifies_server(url: str) -> bool:
    return parse_qs(urlsplit(url).query).get("sslmode") == ["verify-full"]
