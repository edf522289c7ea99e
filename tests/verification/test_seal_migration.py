"""Upgrading a database of the schema before verdicts were sealed (verification 0001) seals its
rows: the verdicts, reasons and appeal text still read the same through the models, the
plaintext columns are gone, and of the household region only the province is left.
The rows are read back as stored, with the database's own driver."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from qingyuan.parts import migrate, tortoise_config
from qingyuan.platform.crypto import cipher_for
from qingyuan.verification.models import DepartmentCheck, Member

APPEAL = "我已于去年离婚，民政记录尚未更新。"
CIVIL_AFFAIRS = {"person": "known", "marital_status": "married"}
PUBLIC_SECURITY = {"person": "known", "identity": "match", "hukou_region": "330106"}
BEFORE = f"""
INSERT INTO platform_user (id, role, phone_encrypted, phone_index, display_name, password_hash,
    is_active, created_at) VALUES (1, 'member', 'k1:x', 'phone-1', '', 'h', TRUE,
    CURRENT_TIMESTAMP);
INSERT INTO verification_member (id, user_id, real_name_encrypted, id_number_encrypted,
    id_number_index, birth_date, gender, status, reasons, degree, employment, hukou_region,
    appeal_status, appeal_text, created_at) VALUES (1, 1, 'k1:x', 'k1:x', 'id-1', '1988-06-16',
    'male', 'rejected', '["married"]', 'bachelor', 'employed', '330106', 'open', '{APPEAL}',
    CURRENT_TIMESTAMP);
INSERT INTO verification_department_check (member_id, department, status, reason, claims,
    attestation, attempts, checked_at) VALUES
    (1, 'civil_affairs', 'negative', 'married', '{json.dumps(CIVIL_AFFAIRS)}', 'token-c', 1,
     CURRENT_TIMESTAMP),
    (1, 'public_security', 'confirmed', '', '{json.dumps(PUBLIC_SECURITY)}', 'token-p', 1,
     CURRENT_TIMESTAMP);
INSERT INTO verification_consent (member_id, purpose, policy_version, granted_at) VALUES
    (1, 'sensitive_personal_information', '2026-11', CURRENT_TIMESTAMP),
    (1, 'matching', '2026-11', CURRENT_TIMESTAMP);
"""  # noqa: S608 (the test's own constants)


async def _at_the_old_schema(database_url: str) -> None:
    config = tortoise_config(database_url)
    try:
        await run_migrations(config=config, target="verification.0001_initial")
    finally:
        await Tortoise.close_connections()
    async with TortoiseContext() as context:
        await context.init(config=config)
        await context.connections.get("default").execute_script(BEFORE)


TABLES = ("verification_member", "verification_department_check", "verification_consent")


async def _postgres_rows(database_url: str) -> dict[str, list[dict]]:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        return {
            table: [dict(row) for row in await connection.fetch(f"SELECT * FROM {table}")]  # noqa: S608
            for table in TABLES
        }
    finally:
        await connection.close()


def _stored_rows(settings) -> dict[str, list[dict]]:
    """The rows as stored, read with the database's own driver."""
    if not settings.uses_sqlite:
        return asyncio.run(_postgres_rows(settings.database_url))
    with sqlite3.connect(settings.database_url.removeprefix("sqlite://")) as connection:
        connection.row_factory = sqlite3.Row
        return {
            table: [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]  # noqa: S608
            for table in TABLES
        }


def test_upgrading_seals_the_verdicts_and_appeal_text_of_existing_members(settings):
    asyncio.run(_at_the_old_schema(settings.database_url))

    asyncio.run(migrate(settings))

    rows = _stored_rows(settings)
    cipher = cipher_for(settings)
    member = Member(**rows["verification_member"][0])
    checks = {
        row["department"]: DepartmentCheck(**row) for row in rows["verification_department_check"]
    }
    assert member.reasons(cipher) == ["married"]
    assert member.appeal_text(cipher) == APPEAL
    assert member.hukou_region == "33"
    assert {key: check.claims(cipher) for key, check in checks.items()} == {
        "civil_affairs": CIVIL_AFFAIRS,
        "public_security": PUBLIC_SECURITY,
    }
    assert {key: check.gate_failure(cipher) for key, check in checks.items()} == {
        "civil_affairs": "married",
        "public_security": None,
    }
    assert {check.reason for check in checks.values()} == {""}  # derived from the sealed claims
    assert len(rows["verification_consent"]) == 2  # nothing of the member's was lost
    stored = [
        row
        for table in ("verification_member", "verification_department_check")
        for row in rows[table]
    ]
    assert not {"reasons", "appeal_text", "claims", "attestation"} & {
        c for row in stored for c in row
    }
    text = json.dumps([list(map(str, row.values())) for row in stored], ensure_ascii=False)
    for plain in ("married", "330106", APPEAL, "token-c", "negative"):
        assert plain not in text, plain
