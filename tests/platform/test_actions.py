"""The action machinery (qingyuan/platform/actions.py): side effects run after the outermost
transaction commits and not at all when it rolls back, savepoints keep their own; every
`AuditAction` is translated on the audit page; rows stored under the older names are renamed
by migration 0003 (and back)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from markupsafe import escape
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AUDIT_ACTION_TEXT, AuditAction, action_text
from qingyuan.platform.database import migrate, tortoise_config
from qingyuan.platform.i18n import use_locale
from qingyuan.platform.models import AuditEntry, Role
from tests.conftest import login, run


def _note(done: list[str], name: str) -> Callable[[], Any]:
    async def effect() -> None:
        done.append(f"{name}:{await AuditEntry.all().count()}")  # what the effect can see

    return effect


async def _write(reason: str) -> None:
    await audit.record(None, AuditAction.JOB_FAILED, reason=reason)


def test_effects_run_after_the_commit_in_order(client):
    done: list[str] = []

    async def act() -> list[str]:
        async with actions.transaction():
            await _write("one")
            actions.after_commit(_note(done, "first"))
            actions.after_commit(_note(done, "second"))
            inside = list(done)
        return inside

    assert run(client, act) == []  # nothing ran inside the transaction
    assert done == ["first:1", "second:1"]  # the committed row is visible to them


def test_a_rollback_runs_no_effect_and_keeps_no_row(client):
    done: list[str] = []

    async def act() -> None:
        async with actions.transaction():
            await _write("one")
            actions.after_commit(_note(done, "committed"))
            actions.after_rollback(_note(done, "undo"))
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        run(client, act)
    assert done == ["undo:0"]
    assert run(client, AuditEntry.all().count) == 0


def test_a_savepoint_rolled_back_drops_only_its_own_effects(client):
    done: list[str] = []

    async def act() -> None:
        async with actions.transaction():
            await _write("outer")
            actions.after_commit(_note(done, "outer"))
            with pytest.raises(ValueError):
                async with actions.transaction():
                    await _write("inner")
                    actions.after_commit(_note(done, "inner"))
                    actions.after_rollback(_note(done, "inner-undo"))
                    raise ValueError("inner refused")
            assert done == ["inner-undo:1"]  # at once: the savepoint's work is undone
            async with actions.transaction():
                actions.after_commit(_note(done, "kept"))
            assert done == ["inner-undo:1"]  # a kept savepoint waits for the outer commit

    run(client, act)
    assert done == ["inner-undo:1", "outer:1", "kept:1"]


def test_a_committed_savepoint_is_undone_with_its_enclosing_transaction(client):
    done: list[str] = []

    async def act() -> None:
        async with actions.transaction():
            async with actions.transaction():
                await _write("inner")
                actions.after_commit(_note(done, "inner"))
                actions.after_rollback(_note(done, "inner-undo"))
            raise ValueError("outer refused")

    with pytest.raises(ValueError):
        run(client, act)
    assert done == ["inner-undo:0"]


def test_a_failing_effect_is_logged_and_the_others_still_run(client, caplog):
    done: list[str] = []

    async def broken() -> None:
        raise ConnectionError("redis is down")

    async def act() -> None:
        async with actions.transaction():
            await _write("one")
            actions.after_commit(broken)
            actions.after_commit(_note(done, "after"))

    run(client, act)  # the change is committed: the caller is not told it failed
    assert done == ["after:1"]
    assert "A side effect after commit failed" in caplog.text


def test_effects_cannot_be_registered_outside_a_transaction():
    with pytest.raises(RuntimeError, match=r"outside actions\.transaction"):
        actions.after_commit(_note([], "x"))


def test_concurrent_actions_keep_their_own_effects(client):
    done: list[str] = []

    async def one(name: str, fail: bool) -> None:
        async with actions.transaction():
            actions.after_commit(_note(done, name))
            await asyncio.sleep(0.01)
            if fail:
                raise ValueError(name)

    async def both() -> None:
        await asyncio.gather(one("kept", False), one("failed", True), return_exceptions=True)

    run(client, both)
    assert [d.split(":")[0] for d in done] == ["kept"]


# --- audit actions ---------------------------------------------------------------------------


def test_every_audit_action_has_a_text_and_a_chinese_translation():
    assert set(AUDIT_ACTION_TEXT) == set(AuditAction)
    for member in AuditAction:
        with use_locale("en"):
            english = action_text(member.value)
        with use_locale("zh_CN"):
            chinese = action_text(member.value)
        assert english != member.value, f"{member} is shown as its code"
        assert chinese != english, f"{member} has no zh-CN translation"
    assert action_text("something.unknown") == "something.unknown"  # shown as stored


IRREGULAR_PARTICIPLES = {"set", "withdrawn", "upheld", "made"}


def test_audit_action_names_are_in_one_tense():
    """`<thing>.<past participle>[_complement]`: "report.suspended", never "report.suspend"."""
    for member in AuditAction:
        words = member.value.split(".", 1)[1].split("_")
        assert any(w.endswith("ed") or w in IRREGULAR_PARTICIPLES for w in words), member.value
    assert "report.suspend" not in {m.value for m in AuditAction}


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-CN", ["封停账号", "举报成立：封停"]), ("en", ["Account suspended", "Report upheld"])],
)
def test_the_audit_page_shows_each_action_translated(client, make_user, language, expected):
    admin = make_user(Role.ADMIN)

    async def one_row_each() -> None:
        for member in AuditAction:
            await audit.record(admin, member, target_type="user", target_id=admin.id)

    run(client, one_row_each)
    login(client, admin)
    page = client.get("/admin/audit", headers={"Accept-Language": language}).text
    for text in expected:
        assert text in page
    for member in AuditAction:
        with use_locale("en" if language == "en" else "zh_CN"):
            assert f"{escape(action_text(member.value))} <code>{member.value}</code>" in page


# --- migration of the stored names -----------------------------------------------------------

OLD_NAMES = ("report.suspend", "report.view_messages", "matchmaker.assign", "verification.pending")


async def _at_platform_0002(database_url: str) -> None:
    config = tortoise_config(database_url)
    try:
        await run_migrations(config=config, target="platform.0002_notification")
    finally:
        await Tortoise.close_connections()
    async with TortoiseContext() as context:
        await context.init(config=config)
        values = ", ".join(
            f"('{name}', '', '', '', '{{}}', CURRENT_TIMESTAMP)" for name in OLD_NAMES
        )
        await context.connections.get("default").execute_script(
            "INSERT INTO platform_audit_entry (action, target_type, target_id, reason, data,"  # noqa: S608
            f" created_at) VALUES {values};"
        )


async def _stored_actions(database_url: str) -> list[str]:
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(database_url))
        rows = await context.connections.get("default").execute_query_dict(
            "SELECT action FROM platform_audit_entry ORDER BY id"
        )
    return [row["action"] for row in rows]


def test_stored_audit_names_are_renamed_forwards_and_back(settings):
    asyncio.run(_at_platform_0002(settings.database_url))
    asyncio.run(migrate(settings))
    renamed = asyncio.run(_stored_actions(settings.database_url))
    assert renamed == [
        "report.suspended",
        "report.messages_viewed",
        "matchmaker.assigned",
        "verification.marked_pending",
    ]
    assert all(AuditAction(name) for name in renamed)
    asyncio.run(migrate(settings, target="platform.0002_notification"))
    assert asyncio.run(_stored_actions(settings.database_url)) == list(OLD_NAMES)
