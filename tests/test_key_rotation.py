"""`qingyuan keys rotate`: every declared encrypted column of every part moves to the newest
key, in batches; a second run changes nothing; a run stopped by an unreadable value keeps
what it did and the next one finishes; after it the old key can be dropped."""

from __future__ import annotations

import asyncio
import base64

from starlette.testclient import TestClient

from qingyuan import cli
from qingyuan.connections.models import Message
from qingyuan.matchmakers.encrypted_columns import CONSULTATION_NOTE, INTRODUCTION_NOTE
from qingyuan.parts import ENCRYPTED_COLUMNS, connected, migrate
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.models import Role, User
from qingyuan.platform.settings import parse_pii_keys
from qingyuan.web.app import create_app
from tests.conftest import add_user, run
from tests.connections.chat_support import connected_pair, log_in_as, send

K1, K2 = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
TEXTS = [f"第{i}条消息" for i in range(5)]


def _with_data(client) -> dict[str, int]:
    """Members (phone, name, ID number), chat messages, a report, a note, an introduction."""
    pair = connected_pair(client, 3)
    token = log_in_as(client, pair.a)
    for text in TEXTS:
        assert send(client, token, pair.connection_id, text).status_code == 201
    token = log_in_as(client, pair.b)
    reported = client.post(
        f"/api/v1/connections/{pair.connection_id}/report",
        json={"reason": "other", "details": "说话很不礼貌"},
        headers={"X-CSRF-Token": token},
    )
    assert reported.status_code == 201
    matchmaker = add_user(client, "13800000002", Role.MATCHMAKER, "王红娘")
    cipher = client.app.state.kernel.cipher
    run(
        client, CONSULTATION_NOTE.create, cipher, "想找同城的", matchmaker_id=matchmaker.id,
        member_id=pair.a.id,
    )  # fmt: skip
    run(
        client, INTRODUCTION_NOTE.create, cipher, "都爱爬山", matchmaker_id=matchmaker.id,
        a_id=pair.a.id, b_id=pair.others[0].id,
    )  # fmt: skip
    return {"connection": pair.connection_id, "b": pair.b.id}


def _app(settings) -> TestClient:
    """The app on `settings` (use as a context manager: one app, one ORM, at a time)."""
    asyncio.run(migrate(settings))
    return TestClient(create_app(settings, run_worker=False))


def _rotate(monkeypatch, stack, keys: str, *args: str) -> int:
    for name, value in {**stack, "QINGYUAN_PII_KEYS": keys}.items():
        monkeypatch.setenv(name, value)
    return cli.main(["keys", "rotate", *args])


def _stored(settings) -> dict[str, list[str]]:
    """Every declared column's stored values ("" holds no value, e.g. no appeal text)."""

    async def read() -> dict[str, list[str]]:
        async with connected(settings):
            return {
                column.name: await column.model.exclude(**{column.field: ""})
                .order_by("id")
                .values_list(column.field, flat=True)
                for column in ENCRYPTED_COLUMNS
            }

    return asyncio.run(read())


def _opened_with(settings, keys: str) -> int:
    """Open every declared value with `keys` only; returns how many were opened."""
    cipher = PIICipher(parse_pii_keys(keys), settings.blind_index_key)

    async def read() -> int:
        async with connected(settings):
            opened = 0
            for column in ENCRYPTED_COLUMNS:
                for row in await column.model.exclude(**{column.field: ""}):
                    column.open(cipher, row)
                    opened += 1
            return opened

    return asyncio.run(read())


def test_rotation_moves_every_encrypted_column_to_the_newest_key_and_k1_can_go(
    make_settings, stack, monkeypatch, capsys
):
    old = make_settings(QINGYUAN_PII_KEYS=f"k1:{K1}")
    with _app(old) as client:
        ids = _with_data(client)
    before = _stored(old)
    assert all(v.startswith("k1:") for values in before.values() for v in values)
    assert {"platform_user.phone_encrypted", "matching_message.text"} <= set(before)
    assert before["verification_department_check.answer_encrypted"]  # the sealed verdicts

    assert _rotate(monkeypatch, stack, f"k2:{K2},k1:{K1}", "--batch-size", "2") == 0
    assert "matching_message.text: 5 re-encrypted" in capsys.readouterr().out
    after = _stored(old)
    assert all(v.startswith("k2:") for values in after.values() for v in values), after
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    assert _rotate(monkeypatch, stack, f"k2:{K2},k1:{K1}") == 0  # idempotent
    assert "matching_message.text: 0 re-encrypted" in capsys.readouterr().out

    new = make_settings(QINGYUAN_PII_KEYS=f"k2:{K2}")  # k1 dropped
    assert _opened_with(new, f"k2:{K2}") == sum(len(v) for v in after.values())
    with _app(new) as client:
        reader = run(client, User.get, id=ids["b"])
        log_in_as(client, reader)  # its phone number decrypts with k2 alone
        shown = client.get(f"/api/v1/connections/{ids['connection']}/messages").json()
    assert [m["text"] for m in shown["messages"]] == TEXTS


def test_a_stopped_rotation_keeps_its_batches_and_the_next_run_finishes(
    make_settings, stack, monkeypatch, capsys
):
    old = make_settings(QINGYUAN_PII_KEYS=f"k1:{K1}")
    with _app(old) as client:
        _with_data(client)
    messages = _stored(old)["matching_message.text"]

    async def tamper(stored: str | None) -> str:
        async with connected(old):
            row = await Message.all().order_by("id").offset(3).first()
            assert row is not None
            original = row.text
            await Message.filter(id=row.id).update(text=stored or original[:-4] + "AAA=")
            return original

    original = asyncio.run(tamper(None))
    assert _rotate(monkeypatch, stack, f"k2:{K2},k1:{K1}", "--batch-size", "2") == 2
    error = capsys.readouterr().err
    assert "matching_message.text of row" in error and "run the command again" in error
    assert not any(text in error for text in TEXTS)
    stored = _stored(old)["matching_message.text"]
    assert [v[:3] for v in stored] == ["k2:", "k2:", "k1:", "k1:", "k1:"]  # batch 1 kept

    asyncio.run(tamper(original))  # the value is repaired (say, restored from a backup)
    assert _rotate(monkeypatch, stack, f"k2:{K2},k1:{K1}", "--batch-size", "2") == 0
    assert "matching_message.text: 3 re-encrypted" in capsys.readouterr().out
    assert len(messages) == 5 and _opened_with(old, f"k2:{K2}") > 5
