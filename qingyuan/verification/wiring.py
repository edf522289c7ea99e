"""How the platform reaches the departments: in-process mocks or real base URLs.

`inprocess` (the embedded default) builds the six mock departments inside this process and
calls them over an ASGI transport — real HTTP semantics, real signatures, no socket. Any other
`QINGYUAN_DEPARTMENTS_URL` is the base URL of the department services (`qingyuan departments
serve`, or real endpoints that speak the same protocol).
"""

from __future__ import annotations

from starlette.applications import Starlette

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

_CLIENTS = "verification.departments"
_MOCK_APP = "verification.mock-departments"
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


def department_clients(kernel: Kernel) -> DepartmentClients:
    """This process's clients of the six departments, built on first use."""
    if _CLIENTS not in kernel.extensions:
        config = verification_settings(kernel.settings)
        base, transport = config.departments_url, None
        if config.in_process:
            app = kernel.extensions.setdefault(_MOCK_APP, mock_departments_app(config))
            base, transport = INPROCESS_BASE, asgi_transport(app)
        endpoints = mock_endpoints(
            base,
            issuer_base=config.departments_issuer,
            client_id=config.departments_client_id,
            client_secret=config.client_secret,
        )
        verifier = AttestationVerifier(
            audience=config.attestation_audience, subject_key=config.subject_key, redis=kernel.redis
        )
        kernel.extensions[_CLIENTS] = DepartmentClients(
            endpoints, verifier=verifier, transport=transport, timeout=config.department_timeout
        )
    return kernel.extensions[_CLIENTS]


def in_process_departments(kernel: Kernel) -> Starlette | None:
    """The in-process mock app, when there is one (tests turn its knobs)."""
    department_clients(kernel)
    return kernel.extensions.get(_MOCK_APP)
