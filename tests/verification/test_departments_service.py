"""The mock departments as their own process (`qingyuan departments serve`), over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.verification.platform_support import CHEN, ZHENG_MARRIED, register, verify


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def departments_url(stack):
    port = _free_port()
    service = subprocess.Popen(
        [sys.executable, "-m", "qingyuan", "departments", "serve", "--port", str(port)],
        env={**os.environ, **stack},
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.terminate()
        service.wait(timeout=10)


def test_members_are_verified_by_a_separate_department_service(
    make_settings, make_client, departments_url
):
    client = make_client(make_settings(QINGYUAN_DEPARTMENTS_URL=departments_url))
    created = register(client, CHEN, phone="13912340001")
    assert verify(client, created["member_id"]) == "verified"
    client.cookies.clear()
    rejected = register(client, ZHENG_MARRIED, phone="13912340002")
    assert verify(client, rejected["member_id"]) == "rejected"
