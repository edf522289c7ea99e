"""The composition root: the parts of Qingyuan, listed once, and the services built from them.

Each `Part` says what the platform needs of it: its Tortoise app (label, models module,
migrations package), its encrypted columns, and the modules that declare its background jobs
(loaded only by `build_kernel`; matching's declare jobs without importing the matcher). Its
settings section lives in its own `settings.py`, composed by `qingyuan/settings.py`. The
platform names no part: its functions take these as arguments (`platform.database`,
`platform.encryption`), and the functions below bind them.

`Services` holds the typed per-part services one process builds from its kernel (the web
lifespan, `qingyuan worker`, the CLI): verification's department clients and mock departments,
the chat's safety rules and hub. Handlers reach them with `web.security.services_of`, jobs
with `services_from(context)`.

Where the root sits: below `web` and the programs, above every domain part. The web part's
handlers need the typed `Services`, so the root cannot sit above web; the web app therefore
lists its own routes (`web/app.py`, grouped by the part they serve), and the root lists
everything else. The settings object that composes every part's section
(`qingyuan/settings.py`) sits beside web for the same reason, and validates every section
when it loads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

from taskiq import Context

import qingyuan.activities.migrations
import qingyuan.activities.models
import qingyuan.connections.encrypted_columns
import qingyuan.connections.migrations
import qingyuan.connections.models
import qingyuan.matching.migrations
import qingyuan.matching.models
import qingyuan.matchmakers.encrypted_columns
import qingyuan.matchmakers.migrations
import qingyuan.matchmakers.models
import qingyuan.platform.encrypted_columns
import qingyuan.platform.migrations
import qingyuan.platform.models
import qingyuan.verification.encrypted_columns
import qingyuan.verification.migrations
import qingyuan.verification.models
from qingyuan.connections.safety import SafetySettings, safety_settings
from qingyuan.platform import database
from qingyuan.platform import kernel as platform_kernel
from qingyuan.platform.encryption import EncryptedColumn
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.realtime import Hub
from qingyuan.platform.settings import PlatformSettings
from qingyuan.verification.wiring import VerificationServices


def _platform_jobs() -> None:
    import qingyuan.platform.housekeeping  # noqa: F401 (declares its jobs)


def _verification_jobs() -> None:
    import qingyuan.verification.pipeline  # noqa: F401


def _matching_jobs() -> None:
    import qingyuan.matching.jobs  # noqa: F401 (the matcher itself loads when a job runs)


def _activities_jobs() -> None:
    import qingyuan.activities.jobs  # noqa: F401


def _no_jobs() -> None:
    return None


@dataclass(frozen=True)
class Part:
    """One part, as the platform sees it."""

    label: str  # its Tortoise app label, recorded in every database's migration table
    models: ModuleType
    migrations: ModuleType
    jobs: Callable[[], None] = _no_jobs  # imports the modules that declare its jobs
    encrypted_columns: Sequence[EncryptedColumn] = ()

    @property
    def app(self) -> database.App:
        return database.App(self.label, self.models.__name__, self.migrations.__name__)


PARTS: tuple[Part, ...] = (
    Part(
        "platform",
        qingyuan.platform.models,
        qingyuan.platform.migrations,
        _platform_jobs,
        encrypted_columns=qingyuan.platform.encrypted_columns.COLUMNS,
    ),
    Part(
        "verification",
        qingyuan.verification.models,
        qingyuan.verification.migrations,
        _verification_jobs,
        encrypted_columns=qingyuan.verification.encrypted_columns.COLUMNS,
    ),
    Part(
        "connections",
        qingyuan.connections.models,
        qingyuan.connections.migrations,
        encrypted_columns=qingyuan.connections.encrypted_columns.COLUMNS,
    ),
    Part("matching", qingyuan.matching.models, qingyuan.matching.migrations, _matching_jobs),
    Part(
        "matchmakers",
        qingyuan.matchmakers.models,
        qingyuan.matchmakers.migrations,
        encrypted_columns=qingyuan.matchmakers.encrypted_columns.COLUMNS,
    ),
    # The activities part keeps the label `events`, the name it had: existing databases
    # record their applied migrations under it, and its tables are named events_*.
    Part(
        "events",
        qingyuan.activities.models,
        qingyuan.activities.migrations,
        _activities_jobs,
    ),
)
APPS: tuple[database.App, ...] = tuple(part.app for part in PARTS)
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = tuple(
    column for part in PARTS for column in part.encrypted_columns
)


def tortoise_config(database_url: str) -> dict[str, Any]:
    return database.tortoise_config(database_url, APPS)


async def migrate(settings: PlatformSettings, *, target: str | None = None) -> None:
    await database.migrate(settings, APPS, target=target)


async def pending_migrations(settings: PlatformSettings) -> list[str]:
    return await database.pending_migrations(settings, APPS)


async def ensure_migrated(settings: PlatformSettings) -> None:
    await database.ensure_migrated(settings, APPS)


@asynccontextmanager
async def connected(settings: PlatformSettings) -> AsyncIterator[None]:
    async with database.connected(settings, APPS):
        yield


def build_kernel(settings: PlatformSettings) -> Kernel:
    """The platform's kernel, with every part's jobs declared (not the matcher: see
    `qingyuan/matching/jobs.py`)."""
    for part in PARTS:
        part.jobs()
    return platform_kernel.build_kernel(settings)


@dataclass
class ConnectionServices:
    safety: SafetySettings
    hub: Hub  # the per-user pub/sub of this worker's sockets

    async def aclose(self) -> None:
        await self.hub.aclose()


@dataclass
class Services:
    """The typed per-part services of one process, built from its kernel."""

    kernel: Kernel
    verification: VerificationServices
    connections: ConnectionServices

    async def aclose(self) -> None:
        """Close the parts' services, then the kernel."""
        await self.connections.aclose()
        await self.verification.aclose()
        await self.kernel.close()


def build_services(kernel: Kernel) -> Services:
    services = Services(
        kernel=kernel,
        verification=VerificationServices(kernel),
        connections=ConnectionServices(
            safety=safety_settings(kernel.settings), hub=Hub(kernel.redis)
        ),
    )
    kernel.broker.state.services = services
    kernel.broker.state.verification = services.verification  # verification.wiring.job_services
    return services


def services_from(context: Context) -> Services:
    """A job's services (set on the broker's state by `build_services`)."""
    return cast(Services, context.state.services)


# For Tortoise's own CLI (`tortoise makemigrations`, see pyproject's [tool.tortoise]):
# generating migrations compares models with migration files and needs no real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
