"""Helpers for verification tests that run through the platform (HTTP, database, jobs)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from qingyuan.verification.departments import Department, departments_of
from qingyuan.verification.models import Member
from qingyuan.verification.pipeline import check_member
from tests.conftest import run

# Bundled personas (qingyuan/verification/departments/PERSONAS.md).
CHEN = ("陈志远", "330106199603140012")  # clean man, bachelor, employed
LIN = ("林晓雯", "330102199807220027")  # clean woman, master, employed
SUN_DIVORCED = ("孙明轩", "330106199012010718")
WU_WIDOWED = ("吴婉清", "330102199204090825")
ZHENG_MARRIED = ("郑国强", "330106198806160932")
FENG_RECORD = ("冯涛", "440305199208081155")
HE_DEBTOR = ("何静", "110105199310101266")
UNKNOWN = ("张三", "330106199704014998")
MISMATCH = ("周志远", "330106199603140012")
YANG_TOO_YOUNG = ("杨帆", "330106200606011377")
PASSWORD = "register-2026"


def body(person: tuple[str, str], phone: str = "13912340001", **changes: Any) -> dict[str, Any]:
    name, id_number = person
    return {
        "phone": phone,
        "password": PASSWORD,
        "real_name": name,
        "id_number": id_number,
        "consents": {"sensitive_personal_information": True, "matching": True},
        **changes,
    }


def register(client: TestClient, person: tuple[str, str], phone: str = "13912340001") -> dict:
    response = client.post("/api/v1/registrations", json=body(person, phone))
    assert response.status_code == 201, response.text
    return response.json()


def verify(client: TestClient, member_id: int) -> str:
    """Run the department checks now (what the job does) and return the member's status."""
    return run(client, check_member, client.app.state.services.verification, member_id).value


def department(client: TestClient, key: str) -> Department:
    return departments_of(client.app.state.services.verification.mock_app)[key]


def member(client: TestClient, member_id: int) -> Member:
    return run(client, Member.get, id=member_id)
