"""Upgrading a database of the schema before verdicts were sealed (verification 0001) seals its
rows: the verdicts, reasons and appeal text still read the same through the models, the
plaintext columns are gone, and of the household region only the province is left."""

from __future__ import annotations

import asyncio
import json

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as run_migrations

from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.database import migrate, tortoise_config
from qingyuan.verification.models import Consent, DepartmentCheck, Member
from qingyuan.verification.status import verification_json

APPEAL = "我已于去年离婚，民政记录尚未更新。"
CIVIL_AFFAIRS = {"person": "known", "marital_status": "married"}
PUBLIC_SECURITY = {"person": "known", "name_matches": True, "hukou_region": "330106"}
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
        await get_connection("default").execute_script(BEFORE)
    finally:
        await Tortoise.close_connections()


async def _upgraded(database_url: str, cipher: PIICipher) -> dict:
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        member = await Member.get(id=1)
        checks = {c.department: c for c in await DepartmentCheck.filter(member=member)}
        consents = await Consent.filter(member=member).count()
        connection = get_connection("default")
        rows = [
            *await connection.execute_query_dict("SELECT * FROM verification_member"),
            *await connection.execute_query_dict("SELECT * FROM verification_department_check"),
        ]
        return {
            "verification": await verification_json(cipher, member),
            "appeal_text": member.appeal_text(cipher),
            "hukou_region": member.hukou_region,
            "claims": {key: check.claims(cipher) for key, check in checks.items()},
            "negative_reason": checks["civil_affairs"].reason,
            "consents": consents,
            "columns": sorted({column for row in rows for column in row}),
            "rows": json.dumps([list(map(str, row.values())) for row in rows], ensure_ascii=False),
        }
    finally:
        await Tortoise.close_connections()


def test_upgrading_seals_the_verdicts_and_appeal_text_of_existing_members(settings):
    asyncio.run(_at_the_old_schema(settings.database_url))

    asyncio.run(migrate(settings))

    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    upgraded = asyncio.run(_upgraded(settings.database_url, cipher))
    assert [r["code"] for r in upgraded["verification"]["reasons"]] == ["married"]
    assert upgraded["appeal_text"] == APPEAL
    assert upgraded["claims"] == {
        "civil_affairs": CIVIL_AFFAIRS,
        "public_security": PUBLIC_SECURITY,
    }
    assert upgraded["hukou_region"] == "33"
    assert upgraded["consents"] == 2  # nothing of the member's was lost on the way
    assert upgraded["negative_reason"] == ""  # the code is derived from the sealed claims
    assert not {"reasons", "appeal_text", "claims", "attestation"} & set(upgraded["columns"])
    for plain in ("married", "330106", APPEAL, "token-c"):
        assert plain not in upgraded["rows"], plain
