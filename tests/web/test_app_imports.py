"""A web worker must start fast: the matcher and scikit-learn belong to job workers. Every
process declares every part's jobs (`qingyuan.parts.build_kernel`), but matching's job module
imports the matcher only when a job runs (`qingyuan/matching/jobs.py`)."""

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


def test_a_started_web_app_has_not_imported_the_matcher() -> None:
    """Importing is not all a web worker does: its lifespan builds the kernel, which declares
    every part's jobs. A separate worker runs them, so none of the matcher is loaded."""
    started = (
        "import os, tempfile; os.environ['QINGYUAN_DATA_DIR'] = tempfile.mkdtemp(); "
        "os.environ['QINGYUAN_PASSWORD_PROFILE'] = 'cheapest'; "
        "from starlette.testclient import TestClient; from qingyuan import parts; "
        "from qingyuan.settings import load_settings; import asyncio; "
        "settings = load_settings(env_file=None); asyncio.run(parts.migrate(settings)); "
        "from qingyuan.web.app import create_app; "
        "client = TestClient(create_app(settings, run_worker=False)); client.__enter__(); "
        "assert client.get('/healthz').status_code == 200; client.__exit__(None, None, None)"
    )
    assert _imported_after(started) == []


def test_the_probe_sees_the_matcher_when_a_job_runs_it() -> None:
    """The same probe after the daily run's job body starts finds them all: the tests above
    cannot pass because they look in the wrong place."""
    loaded = _imported_after(
        "from qingyuan.parts import PARTS; [part.jobs() for part in PARTS]; "
        "from qingyuan.matching import daily, training"
    )
    assert {"sklearn", "scipy", "qingyuan.matching.daily", "qingyuan.matching.scoring"} <= set(
        loaded
    )
