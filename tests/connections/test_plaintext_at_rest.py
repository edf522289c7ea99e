"""Raw bytes: no chat text, report detail or consultation note written through the app
appears in the database file (SQLite) or the table files (PostgreSQL, `-m integration`),
while the app still shows each in full to whoever may read it. Only HTTP and the raw files are
used, so the test says the same about any storage design."""

from __future__ import annotations

import asyncio

from qingyuan.platform.models import Role
from tests.conftest import add_user, login
from tests.connections.chat_support import connected_pair, log_in_as, send
from tests.verification.test_pii_at_rest import database_bytes

CHAT = "我的微信号是 qingyuan-secret-42，周六老地方见"
DETAILS = "他让我转账三万块投资虚拟币"
NOTE = "她离过婚，不想让别人知道，希望慢慢来"
TABLES = ("matching_message", "matching_report", "matching_consultation_note")


async def _rows_as_text(database_url: str) -> bytes:
    """PostgreSQL may compress a long value in its files; the rows as the server returns
    them show what is stored whatever the compression."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        selects = (f"SELECT row_to_json(t)::text FROM {t} t" for t in TABLES)  # noqa: S608 (our names)
        union = " UNION ALL ".join(selects)
        return "".join(row[0] for row in await conn.fetch(union)).encode()
    finally:
        await conn.close()


def stored_bytes(settings) -> bytes:
    raw = database_bytes(settings)
    return raw if settings.uses_sqlite else raw + asyncio.run(_rows_as_text(settings.database_url))


def _assigned_matchmaker(client, member_id: int):
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    matchmaker = add_user(client, "13800000002", Role.MATCHMAKER, "王红娘")
    token = login(client, admin)["csrf_token"]
    response = client.post(
        "/api/v1/admin/assignments",
        json={"matchmaker_id": matchmaker.id, "member_id": member_id},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201, response.text
    return matchmaker


def test_no_chat_text_report_details_or_consultation_note_in_the_database_bytes(client, settings):
    pair = connected_pair(client, 2)
    token = log_in_as(client, pair.a)
    assert send(client, token, pair.connection_id, CHAT).status_code == 201
    token = log_in_as(client, pair.b)
    reported = client.post(
        f"/api/v1/connections/{pair.connection_id}/report",
        json={"reason": "scam", "details": DETAILS},
        headers={"X-CSRF-Token": token},
    )
    assert reported.status_code == 201, reported.text
    matchmaker = _assigned_matchmaker(client, pair.a.id)
    client.cookies.clear()
    token = login(client, matchmaker)["csrf_token"]
    noted = client.post(
        f"/api/v1/matchmaker/members/{pair.a.id}/notes",
        json={"text": NOTE},
        headers={"X-CSRF-Token": token},
    )
    assert noted.status_code == 201, noted.text
    # Each is still shown in full to whoever may read it.
    notes = client.get(f"/api/v1/matchmaker/members/{pair.a.id}/notes").json()["notes"]
    assert [n["text"] for n in notes] == [NOTE]
    log_in_as(client, pair.b)
    messages = client.get(f"/api/v1/connections/{pair.connection_id}/messages").json()
    assert [m["text"] for m in messages["messages"]] == [CHAT]

    raw = stored_bytes(settings)
    assert len(raw) > 10_000  # we really read the tables
    for secret in (CHAT, DETAILS, NOTE):
        assert secret.encode() not in raw, secret
    assert b"qingyuan-secret-42" not in raw
