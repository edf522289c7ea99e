"""Settings: every QINGYUAN_* variable is a typed field, validated once at start-up.

Each part declares its section in its own `settings.py` — a subclass of `PlatformSettings`
(every part builds on the platform) — and the root object in `qingyuan/settings.py` inherits
every section, so one object carries them all and each part's code reads its own fields as
typed attributes (`verification_settings(kernel.settings).max_member_age`). The platform names
no part: `load` validates whichever class it is given; a malformed value or a QINGYUAN_*
name no field declares is a `SettingsError` naming the variable, so a typo stops the start
instead of being ignored.

Development must work with zero configuration, so the secret key and the PII keys are
generated on first use and kept in the data directory. Production must never run on such
keys, nor on the embedded SQLite / in-memory Redis: `deploy_problems()` lists every unsafe
choice, `qingyuan check --deploy` prints them and the server refuses to start on them.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, available_timezones

from dotenv import dotenv_values
from pydantic import (
    BeforeValidator,
    Field,
    Secret,
    SecretBytes,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from qingyuan.platform.files import private_directory
from qingyuan.platform.passwords import DEFAULT_PROFILE, PROFILES

DEVELOPMENT = "development"
PRODUCTION = "production"
TEST = "test"
ENVIRONMENTS = (DEVELOPMENT, TEST, PRODUCTION)
GENERATED_KEYS_FILE = "generated-keys.json"
PREFIX = "QINGYUAN_"
# QINGYUAN_* names that belong to the test suite and the benchmarks (tests/, bench/), never
# read by the app: exported in a developer's shell, they must not stop `qingyuan check`.
NOT_SETTINGS = ("QINGYUAN_TEST_", "QINGYUAN_BENCH_", "QINGYUAN_SPEED_DATING", "QINGYUAN_CHROMIUM")


_SECRET_TYPES = (SecretStr, SecretBytes, Secret)


class SettingsError(ValueError):
    """Malformed or unknown QINGYUAN_* variables; the message names each one."""


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `window` seconds; written as "5/300" in the environment."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        limit, _, window = text.partition("/")
        try:
            parsed = cls(int(limit), int(window or 60))
        except ValueError:
            raise ValueError(f"must be count/seconds, e.g. 5/300, not {text!r}") from None
        if parsed.limit < 1 or parsed.window < 1:
            raise ValueError(f"must be positive, not {text!r}")
        return parsed

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}"


def _rate_limit(value: object) -> object:
    return RateLimit.parse(value) if isinstance(value, str) else value


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def parse_pii_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    """`"k2:<base64 32 bytes>,k1:<…>"`, newest first: encrypt with the first, decrypt with any."""
    keys = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            key = b""
        if not key_id or len(key) != 32:
            raise ValueError("entries must be id:base64(32 bytes), newest first")
        keys.append((key_id, key))
    return tuple(keys)


def _pii_keys(value: object) -> object:
    return parse_pii_keys(value) if isinstance(value, str) else value


# Field types as the environment writes them: "5/300", "a, b", "k2:…,k1:…".
RateLimitSetting = Annotated[RateLimit, NoDecode, BeforeValidator(_rate_limit)]
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
PIIKeys = Annotated[Secret[tuple[tuple[str, bytes], ...]], NoDecode, BeforeValidator(_pii_keys)]


def setting(
    default: Any = None,
    description: str = "",
    *,
    shown: str | None = None,
    test_only: bool = False,
    **options: Any,
) -> Any:
    """A field with the README's words: `description`, and `shown` in place of the default
    where the default is computed (derived keys, paths under the data directory)."""
    extra: dict[str, Any] = {"test_only": test_only}
    if shown is not None:
        extra["shown"] = shown
    if "default_factory" in options:
        return Field(description=description, json_schema_extra=extra, **options)
    return Field(default, description=description, json_schema_extra=extra, **options)


class Section(BaseSettings):
    """What every section shares: frozen values, defaults validated like given ones, and only
    the values `load` passes in. `load` reads the environment and the env file itself, once:
    it must see every QINGYUAN_* name to refuse the unknown ones, which pydantic-settings'
    environment source ignores, and tests pass an environment of their own."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of `field`: QINGYUAN_ and its name in capitals."""
        return PREFIX + field.upper()

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Environment variable → field name, for every field of this class."""
        return {cls.variable(name): name for name in cls.model_fields}


def _development_key(name: str) -> Any:
    """The default of a key: outside production the kept development key, in production
    none (so `deploy_problems` names it and the server refuses to start)."""

    def default(data: dict[str, Any]) -> str:
        return "" if data["env"] == PRODUCTION else _generated_keys(data["data_dir"])[name]

    return default


class PlatformSettings(Section):
    """The platform's section, and the base of every part's: what the kernel needs."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"secret_key", "pii_keys", "blind_index_key"})

    env: str = setting(
        DEVELOPMENT,
        "`development`, `test` or `production` (anything else stops the start); `production` "
        "refuses unsafe settings (see `qingyuan check --deploy`)",
    )
    data_dir: Path = setting(
        Path("./var"), "SQLite file, generated development keys, demo logins", shown="./var"
    )
    database_url: str = setting(
        description="`postgres://user:pass@host:5432/db?sslmode=verify-full` at scale (libpq's "
        "modes; the root certificate comes from `PGSSLROOTCERT` or `~/.postgresql/root.crt`)",
        default_factory=lambda data: f"sqlite://{data['data_dir'] / 'qingyuan.sqlite3'}",
        shown="sqlite://<data dir>/qingyuan.sqlite3",
        repr=False,
    )
    redis_url: str = setting(
        "memory://",
        "`rediss://host:6380/0` (TLS) or `redis://:password@host:6379/0` at scale; `memory://` "
        "allows one process only",
        repr=False,
    )
    secret_key: SecretBytes = setting(
        description="CSRF tokens, signed links (≥ 32 characters)",
        default_factory=_development_key("secret_key"),
        shown="generated in development",
    )
    pii_keys: PIIKeys = setting(
        description="AES-256-GCM keys `id:base64,…`, newest first (rotation)",
        default_factory=_development_key("pii_keys"),
        shown="generated in development",
    )
    blind_index_key: SecretBytes = setting(
        description="HMAC key of the blind indexes; never rotates with the PII keys",
        default_factory=_development_key("blind_index_key"),
        shown="generated in development",
    )
    departments_url: str = setting("inprocess", "base URL of the department services")
    timezone: str = setting(
        "Asia/Shanghai", "local time of the daily match and of dates on screen (an IANA name)"
    )
    allowed_hosts: CommaList = setting(("*",), "comma-separated host names the app answers to")
    debug: bool = setting(False, "Starlette debug tracebacks (never in production)")
    # Cookies only over HTTPS (and the session cookie as `__Host-`): on in production, and
    # wherever else the site is served over TLS (a staging copy, the HTTPS tests).
    secure_cookies: bool = setting(
        description="cookies only over HTTPS, the session cookie as `__Host-qy_session`; turn "
        "on for any copy served over TLS",
        default_factory=lambda data: data["env"] == PRODUCTION,
        shown="on in production, else off",
    )
    session_idle_seconds: int = setting(
        1800, "a session ends after this long without a request", gt=0
    )
    session_absolute_seconds: int = setting(12 * 3600, "and after this long in any case", gt=0)
    rate_login_account: RateLimitSetting = setting(
        RateLimit(5, 900), "failed logins per account per window (`count/seconds`)"
    )
    rate_login_ip: RateLimitSetting = setting(
        RateLimit(30, 900), "login attempts per client address per window"
    )
    password_profile: str = setting(
        DEFAULT_PROFILE,
        "argon2id cost: `production`, or `cheapest` for the test suite (refused by "
        "`check --deploy`)",
    )
    job_redeliver_seconds: float = setting(
        1800.0,
        "a job taken by a worker that has not acknowledged it after this long is run by another",
        gt=0,
    )

    @field_validator("env")
    @classmethod
    def _known_environment(cls, name: str) -> str:
        """A misspelt `QINGYUAN_ENV=prod` must not quietly run as development (generated
        keys, no production checks)."""
        return _one_of(name, ENVIRONMENTS)

    @field_validator("password_profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        return _one_of(name, tuple(PROFILES))

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.resolve()

    @field_validator("timezone")
    @classmethod
    def _time_zone(cls, name: str) -> str:
        if name not in _time_zones():
            raise ValueError(f"must be an IANA time zone such as Asia/Shanghai, not {name!r}")
        return name

    @property
    def generated_keys(self) -> bool:
        """Whether any key is not the operator's own (a development key, or none at all)."""
        return not self.KEYS <= self.model_fields_set

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


def _one_of(name: str, allowed: tuple[str, ...]) -> str:
    if name not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}, not {name!r}")
    return name


_ZONES: set[str] = set()


def _time_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


S = TypeVar("S", bound=Section)
P = TypeVar("P", bound=PlatformSettings)


def load(
    kind: type[S],
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = ".env",
    *,
    strict: bool = True,
) -> S:
    """`kind` from `environ` (default: the process environment) over `env_file`.

    Every problem is named at once: malformed values, and (when `strict`) QINGYUAN_* names
    that `kind` does not declare. `strict=False` is for a reader of one section only (the
    Tortoise CLI reading the database URL), which cannot know the other sections' names."""
    values = _variables(environ, env_file)
    known = kind.variables()
    problems = (
        [_unknown(name, known) for name in sorted(values) if name not in known] if strict else []
    )
    given = {known[name]: value for name, value in values.items() if name in known}
    try:
        settings = kind(
            **{name: value for name, value in given.items() if value or _blank_is_value(kind, name)}
        )
    except ValidationError as exc:
        raise SettingsError("\n".join([*problems, *_invalid(kind, exc)])) from None
    if problems:
        raise SettingsError("\n".join(problems))
    return settings


def _variables(environ: Mapping[str, str] | None, env_file: str | Path | None) -> dict[str, str]:
    """The QINGYUAN_* variables that are set, the environment's over the file's; the test
    suite's and benchmarks' own names left out."""
    path = Path(env_file) if env_file else None
    from_file = dotenv_values(path) if path and path.is_file() else {}
    merged = {**from_file, **(os.environ if environ is None else environ)}
    return {
        name: value
        for name, value in merged.items()
        if name.startswith(PREFIX) and not name.startswith(NOT_SETTINGS) and value is not None
    }


def _blank_is_value(kind: type[Section], name: str) -> bool:
    """Whether `NAME=` (empty) is a value to validate: for a field that is optional or
    computed (a key, a token) it means unset, as it always has; for any other it is
    refused, so `QINGYUAN_ENV=$UNSET_VARIABLE` cannot quietly start in development."""
    field = kind.model_fields[name]
    return field.default_factory is None and field.default is not None


def _unknown(name: str, known: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{name}: no such setting{hint}; README.md lists them all"


def _invalid(kind: type[Section], error: ValidationError) -> list[str]:
    """One line per malformed variable; the value is repeated unless the field is secret."""
    lines = []
    for item in error.errors(include_url=False):
        if item["type"] == "default_factory_not_called":  # follows from another field's error
            continue
        name = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        value = item.get("input")
        if isinstance(value, str) and not is_secret(kind, name):
            message += f" (got {value!r})" if repr(value) not in message else ""
        lines.append(f"{kind.variable(name)}: {message}")
    return lines


def is_secret(kind: type[Section], name: str) -> bool:
    """A field whose value never appears in a repr, a log line or an error: a key, a token,
    or a URL that may carry a password."""
    field = kind.model_fields[name]
    return not field.repr or _secret_type(field.annotation)


def _secret_type(annotation: object) -> bool:
    kind = get_origin(annotation) or annotation
    if isinstance(kind, type) and issubclass(kind, _SECRET_TYPES):
        return True
    return any(_secret_type(arg) for arg in get_args(annotation))


def section(settings: PlatformSettings, kind: type[P]) -> P:
    """`settings` read as a part's section `kind`: the root object inherits every section,
    so this is the object itself, typed for the part."""
    if not isinstance(settings, kind):
        raise TypeError(
            f"{type(settings).__name__} lacks the section {kind.__name__}: "
            "load the settings with qingyuan.settings.load_settings"
        )
    return settings


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


def deploy_problems(settings: PlatformSettings) -> list[str]:
    """Every setting that is unsafe for production, in words an operator can act on."""
    checks = [
        (
            settings.generated_keys,
            "Secret and PII keys are generated development keys: set "
            "QINGYUAN_SECRET_KEY, QINGYUAN_PII_KEYS and "
            "QINGYUAN_BLIND_INDEX_KEY.",
        ),
        (
            len(settings.secret_key.get_secret_value()) < 32,
            "QINGYUAN_SECRET_KEY must be at least 32 characters.",
        ),
        (not settings.pii_keys.get_secret_value(), "QINGYUAN_PII_KEYS is empty."),
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
