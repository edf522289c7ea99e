"""How the platform reaches the departments: in-process mocks or real base URLs.

`inprocess` (the embedded default) builds the six mock departments inside this process and
calls them over an ASGI transport — real HTTP semantics, real signatures, no socket. Any other
`QINGYUAN_DEPARTMENTS_URL` is the base URL of the department services (`qingyuan departments
serve`, or real endpoints that speak the same protocol).
"""

from __future__ import annotations

from functools import cached_property
from typing import cast

from starlette.applications import Starlette
from taskiq import Context

from qingyuan.platform.kernel import Kernel
from qingyuan.verification.attestations import AttestationVerifier
from qingyuan.verification.client import DepartmentClients, asgi_transport, mock_endpoints
from qingyuan.verification.departments import (
    BUNDLED_REGISTRY,
    DepartmentSettings,
    create_departments_app,
    load_registry,
)
from qingyuan.verification.settings import VerificationSettings, verification_settings

INPROCESS_BASE = "http://departments.inprocess"


def mock_departments_app(config: VerificationSettings) -> Starlette:
    """The six mock departments, agreeing with this platform on clients, audience and keys."""
    registry = load_registry(config.registry or BUNDLED_REGISTRY)
    return create_departments_app(
        registry,
        DepartmentSettings(
            audience=config.attestation_audience,
            issuer_base=config.departments_issuer,
            clients={config.departments_client_id: config.client_secret},
            subject_key=config.subject_key,
        ),
    )


class VerificationServices:
    """Verification's services in one process: the clients of the six departments and, in the
    `inprocess` mode, the mock departments app they call (tests turn its knobs). Both are
    built on first use: the mock departments read their registry file then (tests write one
    after the app has started)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    @cached_property
    def config(self) -> VerificationSettings:
        return verification_settings(self.kernel.settings)

    @cached_property
    def mock_app(self) -> Starlette | None:
        return mock_departments_app(self.config) if self.config.in_process else None

    @cached_property
    def clients(self) -> DepartmentClients:
        config = self.config
        base, transport = config.departments_url, None
        if self.mock_app is not None:
            base, transport = INPROCESS_BASE, asgi_transport(self.mock_app)
        endpoints = mock_endpoints(
            base,
            issuer_base=config.departments_issuer,
            client_id=config.departments_client_id,
            client_secret=config.client_secret,
        )
        verifier = AttestationVerifier(
            audience=config.attestation_audience,
            subject_key=config.subject_key,
            redis=self.kernel.redis,
        )
        return DepartmentClients(
            endpoints, verifier=verifier, transport=transport, timeout=config.department_timeout
        )

    async def aclose(self) -> None:
        if "clients" in self.__dict__:
            await self.clients.aclose()


def job_services(context: Context) -> VerificationServices:
    """Verification's services in a job (the root puts them on the broker's state)."""
    return cast(VerificationServices, context.state.verification)
