"""Shared fixtures: the mock departments over the bundled registry, and platform-side clients."""

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import fakeredis
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette

from qingyuan.verification.attestations import AttestationVerifier
from qingyuan.verification.client import (
    DepartmentClients,
    DepartmentEndpoint,
    asgi_transport,
    mock_endpoints,
)
from qingyuan.verification.departments import (
    DepartmentSettings,
    Registry,
    create_departments_app,
    load_registry,
)
from tests.verification.support import CLIENT_ID, CLIENT_SECRET, IN_PROCESS_URL, EndpointsAt


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def department_settings() -> DepartmentSettings:
    return DepartmentSettings(
        audience="https://qingyuan.test",
        issuer_base="https://departments.gov.test",
        clients={CLIENT_ID: CLIENT_SECRET},
        subject_key=b"test subject key, 32 bytes long!",
    )


@pytest.fixture
def departments_app(registry: Registry, department_settings: DepartmentSettings) -> Starlette:
    return create_departments_app(registry, department_settings)


@pytest.fixture
def verifier(department_settings: DepartmentSettings) -> AttestationVerifier:
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return AttestationVerifier(
        audience=department_settings.audience,
        subject_key=department_settings.subject_key,
        redis=redis,
    )


@pytest.fixture
def endpoints_at(department_settings: DepartmentSettings) -> EndpointsAt:
    """The six endpoints under a base URL, as our client (or another secret)."""

    def endpoints(base_url: str, secret: str = CLIENT_SECRET) -> list[DepartmentEndpoint]:
        return mock_endpoints(
            base_url,
            issuer_base=department_settings.issuer_base,
            client_id=CLIENT_ID,
            client_secret=secret,
        )

    return endpoints


@pytest_asyncio.fixture
async def clients(
    departments_app: Starlette, endpoints_at: EndpointsAt, verifier: AttestationVerifier
) -> AsyncIterator[DepartmentClients]:
    endpoints = endpoints_at(IN_PROCESS_URL)
    transport = asgi_transport(departments_app)
    async with DepartmentClients(
        endpoints, verifier=verifier, transport=transport, timeout=2.0
    ) as clients:
        yield clients


@pytest.fixture
def live_departments(departments_app: Starlette) -> Iterator[str]:
    """The departments app served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(departments_app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
