"""Personal data at rest: after a registration and its checks, the raw database bytes and the
captured logs contain neither the ID number nor the phone number (nor the real name)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from tests.verification.platform_support import CHEN, register, verify

PHONE = "13912340077"


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
