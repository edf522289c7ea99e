from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from qingyuan.platform.models import Role
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.MEMBER,
                        description="MEMBER: member\nMATCHMAKER: matchmaker\nADMIN: admin",
                        enum_type=Role,
                        max_length=16,
                    ),
                ),
                ("phone_encrypted", fields.CharField(max_length=255)),
                ("phone_index", fields.CharField(unique=True, max_length=64)),
                ("display_name", fields.CharField(default="", max_length=64)),
                ("password_hash", fields.CharField(max_length=255)),
                ("is_active", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "last_login_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "platform_user",
                "app": "platform",
                "pk_attr": "id",
                "table_description": "An account. The phone number is personal data: stored encrypted, found by blind index.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "platform.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("action", fields.CharField(db_index=True, max_length=64)),
                ("target_type", fields.CharField(default="", max_length=32)),
                ("target_id", fields.CharField(default="", max_length=64)),
                ("reason", fields.TextField(default="", unique=False)),
                (
                    "data",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
                ),
            ],
            options={
                "table": "platform_audit_entry",
                "app": "platform",
                "pk_attr": "id",
                "table_description": "Who did what to whom, why, and when. Append-only, and every staff action writes one.",
            },
            bases=["Model"],
        ),
    ]
