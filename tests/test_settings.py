"""The root settings object: composed of the parts' sections, and the README's table of it."""

from __future__ import annotations

import re
from pathlib import Path

from qingyuan import cli
from qingyuan.platform.settings import NOT_SETTINGS, PlatformSettings
from qingyuan.settings import SECTIONS, Settings, markdown_table, readme_with_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_lists_every_setting_as_the_fields_describe_them():
    """Regenerate with `qingyuan settings --readme README.md`."""
    text = README.read_text(encoding="utf-8")
    assert readme_with_table(text) == text, "README's table is stale: qingyuan settings --readme"


def test_the_settings_command_writes_the_table_between_the_markers(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QINGYUAN_DATA_DIR", str(tmp_path / "var"))
    readme = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    readme.write_text(text.replace("| `QINGYUAN_ENV` |", "| `QINGYUAN_ENVIRONMENT` |"))
    assert cli.main(["settings", "--readme", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text
    assert cli.main(["settings", "--readme", str(readme)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("configuration table up to date.")
    assert cli.main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == markdown_table()


def test_every_qingyuan_name_the_code_and_docs_mention_is_a_setting():
    """A misspelt name in a docstring, a message or the README would send an operator to a
    variable that stops the start."""
    known = Settings.variables()
    mentioned: dict[str, set[str]] = {}
    for path in [README, *sorted((ROOT / "qingyuan").rglob("*.py"))]:
        for name in re.findall(r"QINGYUAN_[A-Z0-9_]+", path.read_text(encoding="utf-8")):
            mentioned.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    unknown = {
        name: where
        for name, where in mentioned.items()
        if name not in known and not name.startswith(NOT_SETTINGS)
    }
    assert unknown == {}


def test_the_root_is_composed_of_every_section_and_each_field_has_one_owner():
    owners: dict[str, list[str]] = {}
    for kind in SECTIONS:
        assert issubclass(Settings, kind) and issubclass(kind, PlatformSettings)
        for name in vars(kind).get("__annotations__", {}).keys() & kind.model_fields.keys():
            owners.setdefault(name, []).append(kind.__name__)
    assert {name: kinds for name, kinds in owners.items() if len(kinds) > 1} == {}
    assert set(owners) == set(Settings.model_fields)
    undescribed = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undescribed == []
