"""Chat messages, report details, consultation and introduction notes at rest: bound to their
rows, and encrypted in a database that today's main left in plaintext once it is migrated
(the raw bytes of a fresh database: test_plaintext_at_rest)."""

from __future__ import annotations

import asyncio

import pytest

from qingyuan.connections import ConnectionSource, Message, Report, ReportReason, chat, safety
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT
from qingyuan.connections.pairs import open_connection
from qingyuan.matchmakers import CareAssignment, ConsultationNote, Introduction, introductions
from qingyuan.parts import connected, migrate
from qingyuan.platform import accounts
from qingyuan.platform.crypto import PIIDecryptionError, cipher_for
from qingyuan.platform.models import Role
from tests.conftest import PASSWORD, run
from tests.connections.chat_support import connected_pair
from tests.connections.test_plaintext_at_rest import CHAT, DETAILS, NOTE
from tests.verification.test_pii_at_rest import database_bytes

INTRODUCTION = "两位都在西湖边长大，都喜欢爬山"
MAIN = "matching.0002_chat_safety_introductions"  # where today's main leaves matching
SECRETS = [CHAT, DETAILS, NOTE, INTRODUCTION]


def test_a_message_moved_to_another_conversation_no_longer_decrypts(client):
    """The associated data binds the row: a database writer cannot make a message appear in
    another chat, from another sender (moderation evidence), by copying its ciphertext."""
    pair = connected_pair(client, 4)
    cipher = client.app.state.kernel.cipher
    third = pair.others[0]
    other = run(client, open_connection, pair.a.id, third.id, ConnectionSource.MATCH)

    async def forge() -> None:
        sent = await MESSAGE_TEXT.create(
            cipher, CHAT, connection_id=pair.connection_id, sender_id=pair.a.id,
            recipient_id=pair.b.id,
        )  # fmt: skip
        copy = await MESSAGE_TEXT.create(
            cipher, "你好", connection_id=other.id, sender_id=pair.a.id, recipient_id=third.id
        )
        await Message.filter(id=copy.id).update(text=sent.text)
        with pytest.raises(PIIDecryptionError):
            MESSAGE_TEXT.open(cipher, await Message.get(id=copy.id))
        await Message.filter(id=sent.id).update(sender_id=pair.b.id, recipient_id=pair.a.id)
        with pytest.raises(PIIDecryptionError):
            MESSAGE_TEXT.open(cipher, await Message.get(id=sent.id))

    run(client, forge)


async def _main_database_with_plaintext(settings) -> dict[str, int]:
    """A database as today's main leaves it: migrated up to matching 0002, texts in plain."""
    await migrate(settings, target=MAIN)
    cipher = cipher_for(settings)
    async with connected(settings):
        users = [
            await accounts.create_user(cipher, phone=f"1390000000{i}", password=PASSWORD, role=role)
            for i, role in enumerate([Role.MEMBER, Role.MEMBER, Role.MATCHMAKER])
        ]
        a, b, matchmaker = users
        connection = await open_connection(a.id, b.id, ConnectionSource.MATCH)
        message = await Message.create(
            connection_id=connection.id, sender_id=a.id, recipient_id=b.id, text=CHAT
        )
        report = await Report.create(
            reporter_id=b.id, reported_id=a.id, connection_id=connection.id,
            reason=ReportReason.SCAM, details=DETAILS,
        )  # fmt: skip
        await CareAssignment.create(matchmaker_id=matchmaker.id, member_id=a.id)
        note = await ConsultationNote.create(matchmaker_id=matchmaker.id, member_id=a.id, text=NOTE)
        intro = await Introduction.create(
            matchmaker_id=matchmaker.id, a_id=a.id, b_id=b.id, note=INTRODUCTION
        )
    return {
        "message": message.id, "report": report.id, "note": note.id, "intro": intro.id,
        "a": a.id, "b": b.id, "matchmaker": matchmaker.id, "connection": connection.id,
    }  # fmt: skip


def test_a_database_migrated_by_main_upgrades_and_its_texts_are_encrypted(settings):
    ids = asyncio.run(_main_database_with_plaintext(settings))
    if settings.uses_sqlite:  # the fixture really held plaintext
        assert all(secret.encode() in database_bytes(settings) for secret in SECRETS)
    asyncio.run(migrate(settings))
    cipher = cipher_for(settings)

    async def read() -> list[str]:
        async with connected(settings):
            messages, _ = await chat.list_messages(
                await chat.connection_for(ids["b"], ids["connection"])
            )
            report = await safety.report_view(cipher, await Report.get(id=ids["report"]))
            notes = await introductions.notes_of(cipher, ids["matchmaker"], ids["a"])
            intro = await Introduction.get(id=ids["intro"])
            return [
                *(chat.wire(cipher, m)["text"] for m in messages),
                report.details,
                *(n.text for n in notes),
                introductions.introduction_view(cipher, intro, ids["a"]).note,
            ]

    assert asyncio.run(read()) == SECRETS
    if not settings.uses_sqlite:  # PostgreSQL keeps dead row versions until VACUUM FULL
        asyncio.run(_vacuum_full(settings.database_url))
    raw = database_bytes(settings)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


async def _vacuum_full(database_url: str) -> None:
    """What the README tells operators to run after the upgrade."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "VACUUM FULL matching_message, matching_report, matching_consultation_note, "
            "matching_introduction"
        )
    finally:
        await conn.close()


def test_rolling_the_migration_back_restores_the_plaintext_main_reads(settings):
    ids = asyncio.run(_main_database_with_plaintext(settings))
    asyncio.run(migrate(settings))

    async def roll_back_and_read() -> list[str]:
        await migrate(settings, target=MAIN)
        async with connected(settings):
            return [
                (await Message.get(id=ids["message"])).text,
                (await Report.get(id=ids["report"])).details,
                (await ConsultationNote.get(id=ids["note"])).text,
                (await Introduction.get(id=ids["intro"])).note,
            ]

    assert asyncio.run(roll_back_and_read()) == SECRETS
