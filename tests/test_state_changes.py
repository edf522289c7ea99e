"""Must-show 3 of issue 12: every moved state change is one action, and calling it from outside
the web layer (the CLI, or a direct call as a job makes) has the same side effects as the
route: suspending from `qingyuan account suspend` ends the member's sessions and closes their
open socket; a rolled-back action has none of them."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from starlette.websockets import WebSocketDisconnect

from qingyuan import cli
from qingyuan.connections import chat, safety
from qingyuan.connections.models import Block, Connection, Report, ReportStatus
from qingyuan.matching import photos
from qingyuan.matching.models import Profile
from qingyuan.platform import actions
from qingyuan.platform.models import AuditEntry, Role, User
from tests.conftest import add_user, run
from tests.connections.chat_support import block, connected_pair, log_in_as

ORIGIN = {"origin": "http://testserver"}


def assert_closed_now(ws) -> None:
    """The socket closes as revoked (1008) at once: well before its periodic session check
    (QINGYUAN_CHAT_SESSION_CHECK_SECONDS, 15 s) would have found the session gone."""
    started = time.monotonic()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1008
    assert time.monotonic() - started < 5


def roll_back_after(client, action, *args) -> None:
    """Run `action(*args)` inside a transaction that fails after it (a later step of a
    bigger action, or the database going away before the commit)."""

    async def then_fail() -> None:
        async with actions.transaction():
            await action(*args)
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        run(client, then_fail)


def assert_nothing_published(client, ws, user_id: int) -> None:
    """The next event the socket of `user_id` receives is a probe published now: nothing
    ("revoked", "ended") came before it."""
    run(client, chat.publish, client.app.state.kernel.redis, {"type": "probe"}, user_id)
    assert ws.receive_json() == {"type": "probe"}


@pytest.fixture
def env(stack, monkeypatch):
    """The CLI reads the environment: the same database and Redis as the test's app."""
    for name, value in stack.items():
        monkeypatch.setenv(name, value)
    return stack


@pytest.fixture
def pair(env, client):
    return connected_pair(client)


def test_suspending_from_the_cli_ends_sessions_and_closes_the_open_socket(client, pair, capsys):
    log_in_as(client, pair.a)
    assert client.get("/api/v1/me").status_code == 200
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws:
        status = cli.main(["account", "suspend", str(pair.a.id), "--reason", "bought account"])
        assert status == 0
        assert_closed_now(ws)
    assert "suspended" in capsys.readouterr().out
    assert client.get("/api/v1/me").status_code == 401
    assert run(client, User.get, id=pair.a.id).is_active is False
    entry = run(client, AuditEntry.get, action="account.suspended")
    assert entry.actor_id is None and entry.reason == "bought account"
    assert entry.target_id == str(pair.a.id) and entry.data["via"] == "cli"


def test_a_suspension_is_lifted_from_the_cli_and_old_sessions_stay_ended(client, pair, capsys):
    copied = log_in_as(client, pair.a) and dict(client.cookies)
    assert cli.main(["account", "suspend", str(pair.a.id), "--reason", "bought account"]) == 0
    assert cli.main(["account", "suspend", str(pair.a.id), "--reason", "again"]) == 0
    assert "already suspended" in capsys.readouterr().out
    assert cli.main(["account", "unsuspend", str(pair.a.id), "--reason", "appeal upheld"]) == 0
    client.cookies.clear()
    client.cookies.update(copied)
    assert client.get("/api/v1/me").status_code == 401  # a suspension ended them for good
    log_in_as(client, pair.a)  # a new login works again
    assert client.get("/api/v1/me").status_code == 200
    actions = run(
        client,
        AuditEntry.filter(target_type="user", target_id=str(pair.a.id)).values_list,
        "action",
        flat=True,
    )
    assert sorted(actions) == ["account.suspended", "account.unsuspended"]  # no second row


def test_the_cli_needs_a_reason_and_an_existing_account(client, pair, capsys):
    with pytest.raises(SystemExit):
        cli.main(["account", "suspend", str(pair.a.id)])
    assert cli.main(["account", "suspend", str(pair.a.id), "--reason", "  "]) == 2
    assert "理由" in capsys.readouterr().err  # the operator's locale defaults to zh-CN
    assert cli.main(["account", "suspend", "999999", "--reason", "scam"]) == 2
    assert "no account #999999" in capsys.readouterr().err
    assert run(client, User.get, id=pair.a.id).is_active is True
    log_in_as(client, pair.a)
    assert client.get("/api/v1/me").status_code == 200


def test_a_report_decided_outside_the_web_layer_suspends_and_closes_the_socket(client, pair):
    """The same action the moderation route calls, called directly (as a job would)."""
    kernel = client.app.state.kernel
    item = run(client, safety.report, kernel.cipher, pair.b.id, pair.a.id, "scam", "", None)
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    log_in_as(client, pair.a)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws:
        run(client, safety.do_decide_report, kernel, admin, item.id, "suspend", "scam script")
        assert_closed_now(ws)
    assert client.get("/api/v1/me").status_code == 401
    rows = run(
        client, AuditEntry.filter(actor_id=admin.id).order_by("id").values_list, "action", flat=True
    )
    assert rows == ["report.suspended", "account.suspended"]
    suspension = run(client, AuditEntry.get, action="account.suspended")
    assert suspension.data == {"report_id": item.id} and suspension.reason == "scam script"


def test_a_rolled_back_report_decision_suspends_no_one(client, pair):
    """The flag, the decision and the audit rows are one transaction, and the sessions end
    only after it commits: if anything after the suspension fails, the member is still
    active and still logged in (before, the flag was set after the audit transaction)."""
    kernel = client.app.state.kernel
    item = run(client, safety.report, kernel.cipher, pair.b.id, pair.a.id, "scam", "", None)
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    audited = run(client, AuditEntry.all().count)

    log_in_as(client, pair.a)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws:
        roll_back_after(
            client, safety.do_decide_report, kernel, admin, item.id, "suspend", "scam script"
        )
        assert_nothing_published(client, ws, pair.a.id)
    assert client.get("/api/v1/me").status_code == 200
    assert run(client, User.get, id=pair.a.id).is_active is True
    assert run(client, Report.get, id=item.id).status == ReportStatus.OPEN
    assert run(client, AuditEntry.all().count) == audited


def test_a_block_outside_the_web_layer_tells_both_sockets(client, pair):
    log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws_b:
        log_in_as(client, pair.a)
        with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws_a:
            assert block(client, pair.a.id, pair.b.id) == [pair.connection_id]
            ended = {"type": "ended", "connection_id": pair.connection_id}
            assert ws_a.receive_json() == ended and ws_b.receive_json() == ended
    entry = run(client, AuditEntry.get, action="member.blocked")
    assert (entry.actor_id, entry.target_id) == (pair.a.id, str(pair.b.id))
    assert entry.data == {"ended_connection_ids": [pair.connection_id]}
    assert block(client, pair.a.id, pair.b.id) == []  # again: nothing changes, no new row
    assert run(client, AuditEntry.filter(action="member.blocked").count) == 1


def test_a_rolled_back_block_ends_nothing_and_tells_no_one(client, pair):
    kernel = client.app.state.kernel
    audited = run(client, AuditEntry.all().count)

    log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws:
        roll_back_after(client, safety.do_block, kernel.redis, pair.a, pair.b.id)
        assert_nothing_published(client, ws, pair.b.id)
    assert run(client, Connection.get, id=pair.connection_id).ended_at is None
    assert run(client, Block.all().count) == 0
    assert run(client, AuditEntry.all().count) == audited


def test_consent_withdrawn_from_the_cli_ends_verification_and_the_socket(
    make_settings, make_client, env, capsys
):
    """The operator records a withdrawal the member sent by letter: the same action as the
    member's own button (`DELETE /api/v1/me/consent`), so the member is no longer verified
    and their open socket closes at its next check."""
    client = make_client(make_settings(QINGYUAN_CHAT_SESSION_CHECK_SECONDS="0.2"))
    pair = connected_pair(client)
    log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as ws:
        reason = "letter of 2026-12-01"
        assert cli.main(["consent", "withdraw", str(pair.b.id), "--reason", reason]) == 0
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
    assert cli.main(["consent", "withdraw", str(pair.b.id), "--reason", reason]) == 0
    assert "already withdrawn" in capsys.readouterr().out
    verification = client.get("/api/v1/me/verification").json()
    assert verification["status"] != "verified"
    assert [r["code"] for r in verification["reasons"]] == ["consent_withdrawn"]
    [entry] = run(client, AuditEntry.filter(action="verification.consent_withdrawn").all)
    assert entry.actor_id is None and entry.reason == reason and entry.data["via"] == "cli"


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def test_a_photo_changed_outside_the_web_layer_replaces_the_old_file(client, pair):
    data_dir = client.app.state.kernel.settings.data_dir
    first = run(client, photos.do_change_photo, data_dir, pair.a, _png((200, 0, 0)))
    second = run(client, photos.do_change_photo, data_dir, pair.a, _png((0, 200, 0)))
    assert photos.photo_path(data_dir, first) is None  # removed after the commit
    assert photos.photo_path(data_dir, second) is not None
    assert run(client, Profile.get, user_id=pair.a.id).photo == second
    log_in_as(client, pair.b)
    assert client.get(f"/photos/{second}").status_code == 200
    assert client.get(f"/photos/{first}").status_code == 404
    rows = run(
        client, AuditEntry.filter(action="profile.photo_changed").values_list, "actor_id", flat=True
    )
    assert rows == [pair.a.id, pair.a.id]


def test_a_rolled_back_photo_change_keeps_the_old_photo_and_removes_the_new_file(client, pair):
    data_dir = client.app.state.kernel.settings.data_dir
    kept = run(client, photos.do_change_photo, data_dir, pair.a, _png((200, 0, 0)))

    roll_back_after(client, photos.do_change_photo, data_dir, pair.a, _png((0, 200, 0)))
    assert run(client, Profile.get, user_id=pair.a.id).photo == kept
    assert sorted(p.name for p in (data_dir / photos.PHOTO_DIR).iterdir()) == [kept]
