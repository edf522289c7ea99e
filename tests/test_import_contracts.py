"""The import-linter contracts in pyproject.toml (run by CI as `lint-imports`) hold on the code
and fail on a deliberate breach: a copy of the package with a cross-part model import and an
import against the layers is refused, naming both contracts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "qingyuan", tmp_path / "qingyuan", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on `tree`'s copy of the package (first on the path, so grimp reads it)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, _, rest = text.partition("from __future__ import annotations\n")
    module.write_text(f"{head}from __future__ import annotations\n\n{line}  # noqa\n{rest}")


def test_contracts_hold_on_a_copy_and_break_on_a_cross_part_model_import(tmp_path):
    tree = _copy(tmp_path)
    clean = _lint(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "BROKEN" not in clean.stdout

    # activities reading connections' table directly, and verification reaching up to matching
    _add_import(
        tree / "qingyuan/activities/feedback.py", "from qingyuan.connections.models import Block"
    )
    _add_import(tree / "qingyuan/verification/facts.py", "from qingyuan.matching import profiles")
    broken = _lint(tree)

    assert broken.returncode != 0
    out = " ".join(broken.stdout.split())  # lint-imports wraps long names
    assert "No part imports another part's models: connections.models BROKEN" in out
    assert "qingyuan.activities.feedback -> qingyuan.connections.models" in out
    assert "qingyuan.verification is not allowed to import qingyuan.matching" in out
