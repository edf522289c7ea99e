"""A web worker must start fast: the matcher and scikit-learn belong to job workers."""

import subprocess
import sys

HEAVY = ("sklearn", "scipy", "qingyuan.matching.scoring", "qingyuan.matching.assignment")


def test_importing_the_web_app_imports_no_matcher_and_no_scikit_learn() -> None:
    probe = (
        f"import sys, qingyuan.web.app; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
