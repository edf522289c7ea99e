"""Personal data at rest: after registrations, checks and an appeal, the raw database bytes and
the captured logs contain neither the ID number nor the phone number (nor the real name), nor
what the departments said (marital status, records, debts, the household region) nor the text
of an appeal."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from qingyuan.verification.models import DepartmentCheck
from tests.conftest import run
from tests.verification.platform_support import (
    CHEN,
    FENG_RECORD,
    HE_DEBTOR,
    ZHENG_MARRIED,
    register,
    verify,
)

PHONE = "13912340077"
APPEAL = "我已于去年离婚，民政记录尚未更新。"
# What the departments said about the rejected personas, in any of the forms it was stored in
# before: claims, reason codes, and the household region code (330106: Zheng's and Chen's).
VERDICTS = [
    b"married",
    b"marital_status",
    b"criminal_record",
    b"disqualifying_record",
    b"dishonest_debtor",
    b"330106",
    APPEAL.encode(),
]


def secrets_of_the_member() -> list[bytes]:
    name, id_number = CHEN
    return [id_number.encode(), PHONE.encode(), name.encode("utf-8")]


async def _postgres_table_bytes(database_url: str) -> bytes:
    """The on-disk heap, TOAST and index files of every table of ours, read by the server."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CHECKPOINT")
        relations = await conn.fetch(
            "SELECT c.oid::regclass::text AS name FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i') "
            "AND pg_relation_filepath(c.oid) IS NOT NULL"
        )
        chunks = []
        for row in relations:
            path = await conn.fetchval("SELECT pg_relation_filepath($1::regclass)", row["name"])
            chunks.append(await conn.fetchval("SELECT pg_read_binary_file($1)", path))
        rows = await conn.fetch(
            "SELECT row_to_json(t)::text AS r FROM verification_member t "
            "UNION ALL SELECT row_to_json(c)::text FROM verification_department_check c "
            "UNION ALL SELECT row_to_json(a)::text FROM platform_audit_entry a "
            "UNION ALL SELECT row_to_json(u)::text FROM platform_user u"
        )
        return b"".join(chunks) + "".join(r["r"] for r in rows).encode()
    finally:
        await conn.close()


def database_bytes(settings) -> bytes:
    if settings.uses_sqlite:
        path = Path(settings.database_url.removeprefix("sqlite://"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return asyncio.run(_postgres_table_bytes(settings.database_url))


def test_no_plaintext_personal_data_in_the_database_or_logs(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    created = register(client, CHEN, phone=PHONE)
    assert verify(client, created["member_id"]) == "verified"
    client.get("/api/v1/me/verification")
    raw = database_bytes(settings)
    assert len(raw) > 10_000  # we really read the tables
    for secret in secrets_of_the_member():
        assert secret not in raw, secret
    logs = "\n".join(record.getMessage() for record in caplog.records).encode()
    assert caplog.records  # something was logged (the app logs at DEBUG/INFO)
    for secret in secrets_of_the_member():
        assert secret not in logs


def test_no_verdict_or_appeal_text_in_the_database(client, settings):
    for n, person in enumerate([FENG_RECORD, HE_DEBTOR, ZHENG_MARRIED]):
        client.cookies.clear()
        created = register(client, person, phone=f"1391234010{n}")
        assert verify(client, created["member_id"]) == "rejected"
    appealed = client.post(
        "/api/v1/me/verification/appeal",
        json={"text": APPEAL},
        headers={"X-CSRF-Token": created["csrf_token"]},
    )
    assert appealed.status_code == 200
    assert [r["code"] for r in client.get("/api/v1/me/verification").json()["reasons"]] == [
        "married"
    ]  # still readable by the member
    raw = database_bytes(settings)
    assert len(raw) > 10_000
    for verdict in VERDICTS:
        assert verdict not in raw, verdict


def test_the_stored_checks_do_not_tell_which_department_said_no(client):
    outcomes = {}
    for n, person in enumerate([CHEN, ZHENG_MARRIED]):
        client.cookies.clear()
        created = register(client, person, phone=f"1391234020{n}")
        outcomes[verify(client, created["member_id"])] = created["member_id"]
    assert set(outcomes) == {"verified", "rejected"}

    rows = run(
        client, DepartmentCheck.all().values_list, "member_id", "department", "status", "reason"
    )
    seen = {
        member_id: {(d, status, reason) for m, d, status, reason in rows if m == member_id}
        for member_id in outcomes.values()
    }
    assert seen[outcomes["verified"]] == seen[outcomes["rejected"]]
