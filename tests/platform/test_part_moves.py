"""A database migrated before connections and matchmakers became parts of their own (matching
0003, events 0001) upgrades cleanly: the models move in Tortoise's migration state only, so
the rows written under the old heads read back unchanged through the models of their new
parts, and migrating back and forth changes no table."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from qingyuan.connections.encrypted_columns import message_text, report_details
from qingyuan.connections.models import (
    Block,
    Connection,
    ConnectionSource,
    Message,
    Report,
    ReportReason,
)
from qingyuan.matchmakers.encrypted_columns import consultation_note, introduction_note
from qingyuan.matchmakers.models import (
    CareAssignment,
    ConsultationNote,
    ConsultationSlot,
    Introduction,
    IntroductionStatus,
)
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.database import connected, migrate, pending_migrations, tortoise_config

# The heads of every app on the main branch before the move.
OLD_HEADS = (
    "platform.0002_notification",
    "verification.0002_seal_verdicts",
    "matching.0003_encrypt_messages_and_notes",
    "events.0001_activities_and_registrations",
)
MOVES = (
    "matching.0004_move_out_connections_and_matchmakers",
    "events.0002_move_out_consultation_slots",
    "connections.0001_from_matching",
    "matchmakers.0001_from_matching_and_events",
)
# Everything a database at the old heads has still to apply: the move, and what came since.
SINCE_OLD_HEADS = (*MOVES, "platform.0003_audit_action_past_tense")
CHAT, DETAILS, NOTE, INTRO = (
    "周六一起去爬山吗？",
    "他向我借钱。",
    "喜欢安静的人。",
    "你们都爱读书。",
)
STARTS = datetime(2031, 5, 3, 7, 0, tzinfo=UTC)


async def _migrate_to(database_url: str, targets: tuple[str, ...]) -> None:
    config = tortoise_config(database_url)
    try:
        for target in targets:
            await run_migrations(config=config, target=target)
    finally:
        await Tortoise.close_connections()


def _rows(cipher: PIICipher) -> str:
    """The old schema's rows, as a deployment of the old main would have written them."""
    sealed = {
        "chat": cipher.encrypt(CHAT, purpose=message_text(SimpleNamespace(
            id=1, connection_id=1, sender_id=1, recipient_id=2))),
        "details": cipher.encrypt(DETAILS, purpose=report_details(SimpleNamespace(
            id=1, reporter_id=2, reported_id=3))),
        "note": cipher.encrypt(NOTE, purpose=consultation_note(SimpleNamespace(
            id=1, matchmaker_id=4, member_id=1))),
        "intro": cipher.encrypt(INTRO, purpose=introduction_note(SimpleNamespace(
            id=1, matchmaker_id=4, a_id=1, b_id=3))),
    }  # fmt: skip
    users = ", ".join(
        f"({n}, '{role}', 'k1:x', 'phone-{n}', '', 'h', TRUE, CURRENT_TIMESTAMP)"
        for n, role in ((1, "member"), (2, "member"), (3, "member"), (4, "matchmaker"))
    )
    return f"""
INSERT INTO platform_user (id, role, phone_encrypted, phone_index, display_name, password_hash,
    is_active, created_at) VALUES {users};
INSERT INTO matching_connection (id, a_id, b_id, source, created_at)
    VALUES (1, 1, 2, 'match', CURRENT_TIMESTAMP);
INSERT INTO matching_message (id, connection_id, sender_id, recipient_id, text, created_at)
    VALUES (1, 1, 1, 2, '{sealed["chat"]}', CURRENT_TIMESTAMP);
INSERT INTO matching_block (id, blocker_id, blocked_id, created_at)
    VALUES (1, 2, 3, CURRENT_TIMESTAMP);
INSERT INTO matching_report (id, reporter_id, reported_id, reason, details, status, created_at)
    VALUES (1, 2, 3, 'scam', '{sealed["details"]}', 'open', CURRENT_TIMESTAMP);
INSERT INTO matching_assignment (id, matchmaker_id, member_id, created_at)
    VALUES (1, 4, 1, CURRENT_TIMESTAMP);
INSERT INTO matching_consultation_note (id, matchmaker_id, member_id, text, created_at)
    VALUES (1, 4, 1, '{sealed["note"]}', CURRENT_TIMESTAMP);
INSERT INTO matching_introduction (id, matchmaker_id, a_id, b_id, note, status, created_at)
    VALUES (1, 4, 1, 3, '{sealed["intro"]}', 'pending', CURRENT_TIMESTAMP);
INSERT INTO events_consultation_slot (id, matchmaker_id, starts_at, ends_at, place, booked_by_id)
    VALUES (1, 4, '{STARTS.isoformat()}', '{(STARTS + timedelta(minutes=45)).isoformat()}',
            '青年之家', 1);
"""  # noqa: S608 (the test's own constants)


async def _at_the_old_heads(settings, cipher: PIICipher) -> None:
    await _migrate_to(settings.database_url, OLD_HEADS)
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(settings.database_url))
        await context.connections.get("default").execute_script(_rows(cipher))


async def _read(settings, cipher: PIICipher) -> dict:
    async with connected(settings):
        message = await Message.get(id=1)
        report = await Report.get(id=1)
        note = await ConsultationNote.get(id=1)
        introduction = await Introduction.get(id=1)
        slot = await ConsultationSlot.get(id=1)
        return {
            "connection": (await Connection.get(a_id=1, b_id=2)).source,
            "chat": cipher.decrypt(message.text, purpose=message_text(message)),
            "block": await Block.exists(blocker_id=2, blocked_id=3),
            "report": (
                report.reason,
                cipher.decrypt(report.details, purpose=report_details(report)),
            ),
            "care": await CareAssignment.exists(matchmaker_id=4, member_id=1),
            "note": cipher.decrypt(note.text, purpose=consultation_note(note)),
            "introduction": (
                introduction.status,
                cipher.decrypt(introduction.note, purpose=introduction_note(introduction)),
            ),
            "slot": (slot.booked_by_id, slot.starts_at, slot.place),
        }


EXPECTED = {
    "connection": ConnectionSource.MATCH,
    "chat": CHAT,
    "block": True,
    "report": (ReportReason.SCAM, DETAILS),
    "care": True,
    "note": NOTE,
    "introduction": (IntroductionStatus.PENDING, INTRO),
    "slot": (1, STARTS, "青年之家"),
}


def test_a_database_at_the_old_heads_upgrades_and_its_rows_read_through_the_new_parts(settings):
    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    asyncio.run(_at_the_old_heads(settings, cipher))
    assert sorted(asyncio.run(pending_migrations(settings))) == sorted(SINCE_OLD_HEADS)

    asyncio.run(migrate(settings))

    assert asyncio.run(pending_migrations(settings)) == []
    assert asyncio.run(_read(settings, cipher)) == EXPECTED


def test_the_move_migrates_back_and_forth_without_touching_the_tables(settings):
    """Rolling the move back (to the old heads of matching and events, which unapplies what
    depends on them) and forward again keeps every row."""
    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    asyncio.run(_at_the_old_heads(settings, cipher))
    asyncio.run(migrate(settings))
    asyncio.run(
        _migrate_to(
            settings.database_url,
            (
                "matching.0003_encrypt_messages_and_notes",
                "events.0001_activities_and_registrations",
            ),
        )
    )
    assert sorted(asyncio.run(pending_migrations(settings))) == sorted(MOVES)
    asyncio.run(migrate(settings))
    assert asyncio.run(_read(settings, cipher)) == EXPECTED
