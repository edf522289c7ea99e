"""The mock departments as their own process (`qingyuan departments serve`), over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import free_port, wait_for_port
from tests.verification.platform_support import CHEN, ZHENG_MARRIED, register, verify


@pytest.fixture
def departments_url(stack):
    port = free_port()
    service = subprocess.Popen(
        [sys.executable, "-m", "qingyuan", "departments", "serve", "--port", str(port)],
        env={**os.environ, **stack},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
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
