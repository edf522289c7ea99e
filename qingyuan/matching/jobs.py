"""Matching's background jobs, declared without the matcher.

Every process that kicks jobs declares them (`qingyuan.parts.build_kernel`), web workers
included; the matcher (scikit-learn, SciPy, the assignment) is imported only when a job runs,
so a web worker never loads it (tests/web/test_app_imports.py).
"""

from __future__ import annotations

from typing import Any

from taskiq import Context, TaskiqDepends

from qingyuan.platform.jobs import job
from qingyuan.platform.kernel import Kernel


@job("matching.daily_run", cron="0 12 * * *", retries=3, retry_delay=60)
async def daily_run_job(context: Context = TaskiqDepends()) -> dict[str, object]:
    """Local noon: today's match. A retry after a crash resumes the unfinished partitions."""
    from qingyuan.matching import daily

    kernel: Kernel = context.state.kernel
    return await daily.run_day(kernel, kernel.settings.local_today())


@job("matching.retrain", cron="30 3 * * *", retries=2, retry_delay=600)
async def retrain_job(context: Context = TaskiqDepends()) -> dict[str, Any]:
    """Nightly retraining (see `training.retrain_nightly`)."""
    from qingyuan.matching import training

    return await training.retrain_nightly(context.state.kernel)
