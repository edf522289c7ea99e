"""Chat messages, report details, consultation and introduction notes were stored in
plaintext: encrypt the existing rows, bound to their rows (see connections.encrypted_columns and
matchmakers.encrypted_columns, where the columns live now).
The columns keep their names and types; only their content changes."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from qingyuan.connections.encrypted_columns import message_text, report_details
from qingyuan.matchmakers.encrypted_columns import consultation_note, introduction_note
from qingyuan.platform.encryption import decrypt_to_plaintext, encrypt_plaintext

COLUMNS = (
    ("Message", "text", message_text),
    ("Report", "details", report_details),
    ("ConsultationNote", "text", consultation_note),
    ("Introduction", "note", introduction_note),
)


async def encrypt(apps: Any, schema_editor: Any) -> None:
    for model, field, associated_data in COLUMNS:
        await encrypt_plaintext(apps.get_model("matching", model), field, associated_data)


async def decrypt(apps: Any, schema_editor: Any) -> None:
    for model, field, associated_data in COLUMNS:
        await decrypt_to_plaintext(apps.get_model("matching", model), field, associated_data)


class Migration(migrations.Migration):
    dependencies = [('matching', '0002_chat_safety_introductions')]

    initial = False

    operations = [ops.RunPython(encrypt, decrypt)]
