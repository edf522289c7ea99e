"""Seal what the departments said and what members wrote; keep only the hukou province; record
what an approved appeal decided (`appeal_covers`: until now an approval covered every reason).
A check's status says only whether the department answered (confirmed/negative → answered).

Existing rows are sealed with the PII keys of the running `qingyuan migrate` (the same
purposes as `models.sealed_purpose`), then the plaintext columns are dropped. SQLite and
PostgreSQL may keep the old bytes in free pages or dead tuples until the table is rewritten:
run `VACUUM` (SQLite) or `VACUUM FULL verification_member, verification_department_check`
(PostgreSQL) after upgrading an existing database.
"""

import json
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from qingyuan.platform.crypto import cipher_for
from qingyuan.platform.database import migration_settings
from qingyuan.verification.models import CheckStatus, sealed_purpose


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def seal_existing_rows(apps: Any, schema_editor: Any) -> None:
    settings = migration_settings()
    cipher = cipher_for(settings)
    client = schema_editor.client
    sqlite = client.capabilities.dialect == "sqlite"

    def sql(statement: str) -> str:
        if sqlite:
            return statement
        parts = statement.split("?")
        return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))

    def seal(value: str, table: str, member_id: int, column: str) -> str:
        purpose = sealed_purpose(table, member_id, column)
        return cipher.encrypt(value, purpose=purpose) if value else ""

    members = await client.execute_query_dict(
        "SELECT id, reasons, appeal_status, appeal_text FROM verification_member"
    )
    for row in members:
        reasons = _loaded(row["reasons"]) or []
        # An appeal approved before covers what it decided then: the member's reasons.
        covers = reasons if row["appeal_status"] == "approved" else []
        await client.execute_query(
            sql(
                "UPDATE verification_member SET reasons_encrypted = ?, "
                "appeal_covers_encrypted = ?, appeal_text_encrypted = ?, "
                "hukou_region = substr(hukou_region, 1, 2) WHERE id = ?"
            ),
            [
                seal(json.dumps(reasons) if reasons else "", "member", row["id"], "reasons"),
                seal(json.dumps(covers) if covers else "", "member", row["id"], "appeal_covers"),
                seal(row["appeal_text"] or "", "member", row["id"], "appeal_text"),
                row["id"],
            ],
        )
    checks = await client.execute_query_dict(
        "SELECT id, member_id, department, status, claims, attestation "
        "FROM verification_department_check"
    )
    for row in checks:
        claims = _loaded(row["claims"]) or {}
        answer = json.dumps({"claims": claims, "token": row["attestation"] or ""})
        answered = row["status"] in ("confirmed", "negative")
        if answered and not claims:
            status = "pending"  # an answer with nothing on record: ask the department again
        else:
            status = "answered" if answered else row["status"]
        await client.execute_query(
            sql(
                "UPDATE verification_department_check SET answer_encrypted = ?, status = ?, "
                "reason = CASE WHEN status = 'negative' THEN '' ELSE reason END WHERE id = ?"
            ),
            [
                seal(answer, "check", row["member_id"], row["department"])
                if status == "answered"
                else "",
                status,
                row["id"],
            ],
        )


class DropColumn(ops.RemoveField):
    """RemoveField, but on SQLite with its own ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35).

    Tortoise's SQLite RemoveField rebuilds the table and drops the old one; with foreign keys
    on, dropping `verification_member` deletes every consent and check through ON DELETE
    CASCADE. Dropping a plain column in place touches no other table.
    """

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        table = old_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        await state_editor.client.execute_script(
            f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"'
        )


class AlterDescription(ops.AlterField):
    """AlterField for a change of description only: nothing to do on SQLite, which keeps no
    column comments (its AlterField would rebuild the table for nothing)."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [("verification", "0001_initial")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Member",
            name="reasons_encrypted",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.AddField(
            model_name="Member",
            name="appeal_covers_encrypted",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.AddField(
            model_name="Member",
            name="appeal_text_encrypted",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.AddField(
            model_name="DepartmentCheck",
            name="answer_encrypted",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.RunPython(seal_existing_rows),
        DropColumn(model_name="Member", name="reasons"),
        DropColumn(model_name="Member", name="appeal_text"),
        DropColumn(model_name="DepartmentCheck", name="claims"),
        DropColumn(model_name="DepartmentCheck", name="attestation"),
        AlterDescription(
            model_name="DepartmentCheck",
            name="status",
            field=fields.CharEnumField(
                default=CheckStatus.PENDING,
                description="ANSWERED: answered\nPENDING: pending\nERROR: error",
                enum_type=CheckStatus,
                max_length=16,
            ),
        ),
    ]
