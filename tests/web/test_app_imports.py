"""A web worker must start fast: the matcher and scikit-learn belong to job workers (they are
loaded by `qingyuan.parts.build_kernel`, which declares every part's jobs)."""

import subprocess
import sys

# scikit-learn, SciPy and every module of the matcher (features, candidate filters, scoring
# and its training, the pair assignment, the daily run and its population, the evaluation).
HEAVY = (
    "sklearn",
    "scipy",
    "qingyuan.matching.assignment",
    "qingyuan.matching.candidates",
    "qingyuan.matching.daily",
    "qingyuan.matching.features",
    "qingyuan.matching.model_store",
    "qingyuan.matching.population",
    "qingyuan.matching.scoring",
    "qingyuan.matching.speed_dating",
    "qingyuan.matching.synthetic",
    "qingyuan.matching.training",
)


def _imported_after(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_importing_the_web_app_imports_no_matcher_and_no_scikit_learn() -> None:
    assert _imported_after("import qingyuan.web.app") == []


def test_the_probe_sees_the_matcher_when_a_job_worker_loads_it() -> None:
    """The same probe after building a kernel (what job workers do) finds them all: the test
    above cannot pass because it looks in the wrong place."""
    loaded = _imported_after("from qingyuan.parts import PARTS; [part.jobs() for part in PARTS]")
    assert {"sklearn", "scipy", "qingyuan.matching.daily", "qingyuan.matching.scoring"} <= set(
        loaded
    )
