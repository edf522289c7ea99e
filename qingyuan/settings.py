"""The root settings object: every part's section in one, validated once at start-up.

Each part declares its own section (`<part>/settings.py`, a subclass of the platform's);
this module lists them, so the platform names no part. One instance is built per process
(`load_settings`) and handed to the kernel; a part reads its fields through its own section
type (`event_settings(kernel.settings).waitlist_offer_hours`).

This is the composition root of the settings until the parts' composition root exists
(docs: the layer contract in pyproject.toml puts it beside `web`, which builds the app
from it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from qingyuan.activities.settings import EventSettings
from qingyuan.connections.settings import ConnectionSettings
from qingyuan.matching.settings import MatchingSettings
from qingyuan.platform.settings import PlatformSettings, is_secret, load
from qingyuan.verification.settings import VerificationSettings
from qingyuan.web.settings import WebSettings

SECTIONS: tuple[type[PlatformSettings], ...] = (
    PlatformSettings,
    VerificationSettings,
    ConnectionSettings,
    MatchingSettings,
    EventSettings,
    WebSettings,
)


class Settings(
    WebSettings, EventSettings, MatchingSettings, ConnectionSettings, VerificationSettings
):
    """Every section: the one object a process runs on."""


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """The settings from `environ` (default: the process environment) over `env_file`;
    `SettingsError` names every malformed or unknown QINGYUAN_* variable."""
    return load(Settings, environ, env_file)


# --- README's configuration table -----------------------------------------------------------

TABLE_START = "<!-- settings-table: written by `qingyuan settings --readme README.md` -->"
TABLE_END = "<!-- /settings-table -->"


def markdown_table() -> str:
    """README's configuration table: one row per field, in the sections' order, with the
    README's words from each field's description."""
    rows = [
        "| variable | default | part | secret | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    listed: set[str] = set()
    for kind in SECTIONS:
        for name, field in kind.model_fields.items():
            if name in listed:
                continue
            listed.add(name)
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            meaning = str(field.description)
            if extra.get("test_only"):
                meaning = f"for tests only: {meaning}"
            rows.append(
                f"| `{kind.variable(name)}` | {_default(field.default, extra.get('shown'))} "
                f"| {kind.__module__.split('.')[1]} | {_secrecy(kind, name)} | {meaning} |"
            )
    return "\n".join(rows)


def _default(value: object, shown: object) -> str:
    if shown is not None:
        return f"`{shown}`" if str(shown).startswith(("./", "sqlite:")) else str(shown)
    if value is None:
        return "*(unset)*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`" if value else "none"
    return f"`{value}`"


def _secrecy(kind: type[PlatformSettings], name: str) -> str:
    """`yes` for keys and tokens (SecretStr: masked in reprs), `hidden` for URLs that may
    carry a password (left out of reprs); neither is ever shown in an error message."""
    if not is_secret(kind, name):
        return ""
    return "hidden" if not kind.model_fields[name].repr else "yes"


def readme_with_table(readme: str) -> str:
    """`readme` with the text between the table's markers replaced by `markdown_table()`."""
    head, start, rest = readme.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError(f"README lacks the markers {TABLE_START} … {TABLE_END}")
    return f"{head}{TABLE_START}\n{markdown_table()}\n{TABLE_END}{tail}"
