"""Must-show 3: block (both ways, ends the chat, excluded from the daily match), the report
queue with audit-logged decisions, scam warnings in Chinese and English, message rate limits
by verification level and reduced for reported members."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect
from tortoise.timezone import now

from qingyuan.connections import safety
from qingyuan.connections.models import Block, Connection, Message, Report
from qingyuan.matching.daily import run_day
from qingyuan.matching.models import Proposal
from qingyuan.matching.population import load_population
from qingyuan.platform.models import AuditEntry, Role, User
from qingyuan.verification.models import Member
from tests.conftest import add_user, login, run
from tests.connections.chat_support import block, connected_pair, log_in_as, send
from tests.matching.daily_support import build_population


@pytest.fixture
def pair(client):
    return connected_pair(client)


def post(client, url, token, body):
    return client.post(url, json=body, headers={"X-CSRF-Token": token})


# --- block -----------------------------------------------------------------------------------


def test_block_ends_the_chat_for_both_sides_at_once(client, pair):
    url = f"/api/v1/connections/{pair.connection_id}"
    token_b = log_in_as(client, pair.b)
    assert send(client, token_b, pair.connection_id, "hello").status_code == 201
    token_a = log_in_as(client, pair.a)
    assert post(client, f"{url}/block", token_a, {}).json() == {"blocked": True}
    assert send(client, token_a, pair.connection_id, "still there?").status_code == 404
    assert client.get(f"{url}/messages").status_code == 404
    assert client.get("/api/v1/connections").json()["connections"] == []
    token_b = log_in_as(client, pair.b)  # the blocked side: the chat is gone for them too
    assert send(client, token_b, pair.connection_id, "hello?").status_code == 404
    assert client.get(f"{url}/messages").status_code == 404
    assert client.get("/api/v1/connections").json()["connections"] == []
    assert client.get("/api/v1/unread").json()["total"] == 0
    assert run(client, Connection.get, id=pair.connection_id).ended_at is not None
    # blocking back is allowed (and idempotent): the pair is blocked in both directions
    assert post(client, f"{url}/block", token_b, {}).status_code == 200
    blocks = run(client, Block.all().values_list, "blocker_id", "blocked_id")
    assert sorted(blocks) == sorted([(pair.a.id, pair.b.id), (pair.b.id, pair.a.id)])


def test_a_blocked_socket_learns_the_chat_ended(client, pair):
    log_in_as(client, pair.b)
    with client.websocket_connect("/ws/chat", headers={"origin": "http://testserver"}) as ws:
        b_cookies = dict(client.cookies)
        token_a = log_in_as(client, pair.a)
        post(client, f"/api/v1/connections/{pair.connection_id}/block", token_a, {})
        assert ws.receive_json() == {"type": "ended", "connection_id": pair.connection_id}
        client.cookies.clear()
        client.cookies.update(b_cookies)


def test_strangers_cannot_be_blocked_or_reported(client, pair):
    outsider = pair.others[0]
    with pytest.raises(safety.NotFound):
        run(client, safety.do_block, client.app.state.kernel.redis, outsider, pair.a.id)
    with pytest.raises(safety.NotFound):
        run(
            client,
            safety.report,
            client.app.state.kernel.cipher,
            outsider.id,
            pair.a.id,
            "scam",
            "",
            None,
        )


def _pair_forbidden(population, a: int, b: int) -> bool:
    rows = population.index_of(np.array([a, b], dtype=np.int64))
    return bool(population.filters.forbidden.contains(rows[:1], rows[1:])[0])


def test_a_block_keeps_the_pair_out_of_the_daily_match_both_ways(client):
    build_population(client, 16)
    kernel = client.app.state.kernel
    day = kernel.settings.local_today()
    run(client, run_day, kernel, day)
    proposal = run(client, Proposal.first)
    a, b = proposal.a_id, proposal.b_id  # a pair the matcher found compatible
    block(client, b, a)  # blocked by the second member of the pair
    run(client, Proposal.all().delete)  # forget the proposal: only the block keeps them apart
    later = day + timedelta(days=1)
    population = run(client, load_population, later)
    assert _pair_forbidden(population, a, b) and _pair_forbidden(population, b, a)
    blocks = run(client, Block.all().values_list, "blocker_id", "blocked_id")
    run(client, Block.all().delete)  # the control: without the block the pair is allowed
    assert not _pair_forbidden(run(client, load_population, later), a, b)
    run(client, Block.create, blocker_id=blocks[0][0], blocked_id=blocks[0][1])
    run(client, run_day, kernel, later)
    proposed = run(client, Proposal.filter(day=later).values_list, "a_id", "b_id")
    assert proposed, "the daily run proposed nobody: the test would prove nothing"
    assert (a, b) not in proposed and (b, a) not in proposed


# --- reports ---------------------------------------------------------------------------------


def test_report_goes_to_the_admin_queue_and_decisions_are_audited(client, pair):
    url = f"/api/v1/connections/{pair.connection_id}/report"
    token_a = log_in_as(client, pair.a)
    send(client, token_a, pair.connection_id, "加我微信，带你投资")
    token_b = log_in_as(client, pair.b)
    bad = post(client, url, token_b, {"reason": "boring", "details": 5})
    assert bad.status_code == 422 and "reason" in bad.json()["error"]["fields"]
    assert run(client, Report.all().count) == 0
    filed = post(client, url, token_b, {"reason": "scam", "details": "asked me to invest"})
    assert filed.status_code == 201 and filed.json()["status"] == "open"
    assert client.get("/api/v1/admin/reports").status_code == 404  # members: no such thing

    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    client.cookies.clear()
    token = login(client, admin)["csrf_token"]
    [queued] = client.get("/api/v1/admin/reports").json()["reports"]
    assert queued["reported_id"] == pair.a.id and queued["reason"] == "scam"
    assert queued["reports_against"] == 1
    page = client.get(f"/admin/reports/{queued['id']}")
    assert page.status_code == 200 and "加我微信，带你投资" in page.text
    assert run(client, AuditEntry.filter(action="report.messages_viewed").count) == 1
    decision_url = f"/api/v1/admin/reports/{queued['id']}/decision"
    no_note = post(client, decision_url, token, {"decision": "suspend", "note": ""})
    assert no_note.status_code == 422
    decided = post(client, decision_url, token, {"decision": "suspend", "note": "scam script"})
    assert decided.status_code == 200 and decided.json()["status"] == "suspended"
    entry = run(client, AuditEntry.get, action="report.suspended")
    assert entry.actor_id == admin.id and entry.reason == "scam script"
    assert entry.target_id == str(queued["id"])
    again = post(client, decision_url, token, {"decision": "dismiss", "note": "oops"})
    assert again.status_code == 409
    assert client.get("/api/v1/admin/reports").json()["reports"] == []
    assert run(client, User.get, id=pair.a.id).is_active is False
    log_in = client.post("/api/v1/session", json={"phone": "x", "password": "y"})
    assert log_in.status_code in (401, 422)


def test_suspension_closes_the_members_open_socket(client, pair):
    item = run(
        client,
        safety.report,
        client.app.state.kernel.cipher,
        pair.b.id,
        pair.a.id,
        "scam",
        "",
        pair.connection_id,
    )
    log_in_as(client, pair.a)
    with client.websocket_connect("/ws/chat", headers={"origin": "http://testserver"}) as ws:
        admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
        client.cookies.clear()
        token = login(client, admin)["csrf_token"]
        decided = post(
            client,
            f"/api/v1/admin/reports/{item.id}/decision",
            token,
            {"decision": "suspend", "note": "bought account"},
        )
        assert decided.status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_report_form_page(client, pair):
    token = log_in_as(client, pair.b)
    url = f"/connections/{pair.connection_id}/report"
    assert client.get(url).status_code == 200
    missing = client.post(url, data={"csrf_token": token, "details": "x"})
    assert missing.status_code == 422
    done = client.post(url, data={"csrf_token": token, "reason": "harassment", "details": ""})
    assert done.status_code == 200 and 'role="status"' in done.text
    assert run(client, Report.get).reason == "harassment"


def test_reports_cannot_be_flooded(make_settings, make_client):
    """A member files at most QINGYUAN_RATE_REPORT reports per window (API and form alike);
    a refused report (bad input) does not use up the allowance."""
    client = make_client(make_settings(QINGYUAN_RATE_REPORT="2/3600"))
    pair = connected_pair(client)
    token = log_in_as(client, pair.b)
    url = f"/api/v1/connections/{pair.connection_id}/report"
    assert post(client, url, token, {"reason": "boring"}).status_code == 422
    for _ in range(2):
        assert post(client, url, token, {"reason": "scam"}).status_code == 201
    flooded = post(client, url, token, {"reason": "scam"})
    assert flooded.status_code == 429 and int(flooded.headers["retry-after"]) > 0
    assert "举报" in flooded.json()["error"]["message"]
    form = client.post(
        f"/connections/{pair.connection_id}/report", data={"csrf_token": token, "reason": "scam"}
    )
    assert form.status_code == 429 and "举报" in form.text
    assert run(client, Report.all().count) == 2


# --- scam warnings ---------------------------------------------------------------------------

SCAMS = [
    ("我最近在一个平台投资虚拟币，稳赚不赔，带你一起", "investment"),
    ("能不能先转账给我五千，下周还你", "money"),
    ("这个博彩网站下注必赢", "gambling"),
    ("你可以在网贷平台借点，我帮你还", "loan"),
    ("这里不方便，加我微信聊吧", "other_app"),
    ("Could you transfer money to my bank account?", "money"),
    ("I can teach you crypto trading, guaranteed profit", "investment"),
    ("Let's move to WhatsApp, add me on there", "other_app"),
    ("ＵＳＤＴ 理财", "investment"),  # full-width letters fold
]


@pytest.mark.parametrize(("text", "category"), SCAMS)
def test_scam_patterns_flag_zh_and_en(client, pair, text, category):
    token = log_in_as(client, pair.a)
    sent = send(client, token, pair.connection_id, text).json()
    assert sent["warning"] is None  # the sender is not told which words tripped it
    assert run(client, Message.get, id=sent["id"]).risk == category


EVASIONS = [
    ("能不能先转 账给我五千", "money"),  # a space inside the word
    ("先轉賬給我，下週還你", "money"),  # traditional characters
    ("這個虛擬幣穩賺不賠", "investment"),
    ("加 微 信 聊吧", "other_app"),
    ("投_资.理*财", "investment"),  # punctuation as separators
    ("U S D T 稳 赚", "investment"),  # spaced-out letters
    ("ｂａｎｋ　ｃａｒｄ number?", "money"),  # full-width, ideographic space
    ("let me teach you bіtcoin", "investment"),  # Cyrillic і
    ("сrурtо is the future", "investment"),  # Cyrillic с, р, у, о
    ("Guaranteed ρrofit, trust me", "investment"),  # Greek ρ
    ("b1tc0in trading", "investment"),  # digits for letters
]
INNOCENT = [
    "周末一起去爬山吗？",
    "我们一起去看电影吧，七点见",
    "We walked around Sloane Square",
    "Meet at 5 pm by the lake?",
    "我喜欢旅游和摄影",
]


@pytest.mark.parametrize(("text", "category"), EVASIONS)
def test_scam_patterns_see_through_spacing_script_and_lookalike_evasions(settings, text, category):
    rules = safety.safety_settings(settings)
    assert safety.scam_risk(rules, Connection(created_at=now()), text) == category


@pytest.mark.parametrize("text", INNOCENT)
def test_folding_does_not_flag_ordinary_messages(settings, text):
    rules = safety.safety_settings(settings)
    assert safety.scam_risk(rules, Connection(created_at=now()), text) is None


def test_an_evasive_message_is_flagged_when_sent(client, pair):
    token = log_in_as(client, pair.a)
    sent = send(client, token, pair.connection_id, "先轉 賬給我").json()
    assert run(client, Message.get, id=sent["id"]).risk == "money"


def test_the_recipient_sees_a_localised_warning(client, pair):
    token = log_in_as(client, pair.a)
    send(client, token, pair.connection_id, "周末一起去爬山吗？")
    send(client, token, pair.connection_id, "我带你投资，稳赚")
    log_in_as(client, pair.b)
    url = f"/api/v1/connections/{pair.connection_id}/messages"
    innocent, flagged = client.get(url).json()["messages"]
    assert innocent["warning"] is None
    assert flagged["warning"]["code"] == "investment"
    assert "投资" in flagged["warning"]["text"]  # Chinese by default
    client.cookies.set("qy_lang", "en")
    english = client.get(url).json()["messages"][1]["warning"]
    assert english["text"].startswith("Be careful") and "an investment" in english["text"]
    page = client.get(f"/connections/{pair.connection_id}")
    assert "Be careful" in page.text and "message-warning" in page.text


def test_only_young_connections_are_checked(client, pair):
    old = now() - timedelta(days=30)
    run(client, Connection.filter(id=pair.connection_id).update, created_at=old)
    token = log_in_as(client, pair.a)
    sent = send(client, token, pair.connection_id, "我带你投资，稳赚")
    assert run(client, Message.get, id=sent.json()["id"]).risk is None


def test_the_pattern_list_is_a_setting(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_CHAT_SCAM_PATTERNS='{"codeword": ["暗号"]}'))
    pair = connected_pair(client, 2)
    token = log_in_as(client, pair.a)
    assert send(client, token, pair.connection_id, "我带你投资").status_code == 201
    flagged = send(client, token, pair.connection_id, "对一下暗号").json()
    risks = run(client, Message.all().order_by("id").values_list, "risk", flat=True)
    assert risks == [None, "codeword"] and flagged["id"]


# --- rate limits -----------------------------------------------------------------------------

LIMITS = {
    "QINGYUAN_RATE_CHAT_ESTABLISHED": "5/3600",
    "QINGYUAN_RATE_CHAT_NEW": "3/3600",
    "QINGYUAN_RATE_CHAT_REPORTED": "1/3600",
}


def _sent_before_limit(client, token, connection_id) -> int:
    for n in range(10):
        response = send(client, token, connection_id, f"message {n}")
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["error"]["code"] == "rate_limited"
            return n
        assert response.status_code == 201
    return 10


def test_rate_limits_follow_the_verification_level(make_settings, make_client):
    client = make_client(make_settings(**LIMITS))
    pair = connected_pair(client, 4)
    token = log_in_as(client, pair.a)  # verified just now: a new member
    assert _sent_before_limit(client, token, pair.connection_id) == 3
    settled = now() - timedelta(days=60)
    run(client, Member.filter(user_id=pair.b.id).update, verified_at=settled)
    token = log_in_as(client, pair.b)
    assert _sent_before_limit(client, token, pair.connection_id) == 5
    assert run(client, Message.all().count) == 8  # refused messages were not stored


def test_reported_members_send_at_the_reduced_rate(make_settings, make_client):
    client = make_client(make_settings(**LIMITS))
    pair = connected_pair(client, 4)
    settled = now() - timedelta(days=60)
    run(client, Member.filter(user_id=pair.a.id).update, verified_at=settled)
    run(
        client,
        safety.report,
        client.app.state.kernel.cipher,
        pair.b.id,
        pair.a.id,
        "scam",
        "",
        pair.connection_id,
    )
    token = log_in_as(client, pair.a)
    assert _sent_before_limit(client, token, pair.connection_id) == 1
