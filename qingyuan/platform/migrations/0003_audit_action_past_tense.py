"""Audit actions are named in one tense (`<thing>.<past participle>`, see
qingyuan/platform/actions.py `AuditAction`): rows written under the older names are renamed, so
the audit page can translate every stored row. Backwards restores the old names."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

RENAMED = {
    "matchmaker.assign": "matchmaker.assigned",
    "introduction.create": "introduction.created",
    "report.view_messages": "report.messages_viewed",
    "report.dismiss": "report.dismissed",
    "report.warn": "report.warned",
    "report.suspend": "report.suspended",
    "verification.pending": "verification.marked_pending",
}


async def _rename(apps: Any, names: dict[str, str]) -> None:
    entry = apps.get_model("platform", "AuditEntry")
    for old, new in names.items():
        await entry.filter(action=old).update(action=new)


async def forwards(apps: Any, schema_editor: Any) -> None:
    await _rename(apps, RENAMED)


async def backwards(apps: Any, schema_editor: Any) -> None:
    await _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [('platform', '0002_notification')]

    initial = False

    operations = [ops.RunPython(forwards, backwards)]
