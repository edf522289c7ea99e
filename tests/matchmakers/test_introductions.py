"""Matchmaker introductions: assigned members only, hard filters respected, both accepting
opens a connection; consultation notes and the console with masked personal data."""

from __future__ import annotations

import pytest

from qingyuan.connections.models import Connection, ConnectionSource
from qingyuan.matching.daily import run_day
from qingyuan.matching.models import Proposal
from qingyuan.platform.models import AuditEntry, Role
from qingyuan.verification.facts import verified_facts
from tests.conftest import add_user, login, run
from tests.connections.chat_support import block, log_in_as, send
from tests.matching.daily_support import build_population


@pytest.fixture
def world(client):
    """16 members; a compatible pair (proposed by the daily run, undecided); a matchmaker with
    every member assigned by an admin."""
    members = build_population(client, 16)
    kernel = client.app.state.kernel
    run(client, run_day, kernel, kernel.settings.local_today())
    proposal = run(client, Proposal.first)
    admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
    matchmaker = add_user(client, "13800000002", Role.MATCHMAKER, "王红娘")
    token = login(client, admin)["csrf_token"]
    for member in members:
        response = client.post(
            "/api/v1/admin/assignments",
            json={"matchmaker_id": matchmaker.id, "member_id": member.id},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 201
    return {
        "members": {m.id: m for m in members},
        "pair": (proposal.a_id, proposal.b_id),
        "matchmaker": matchmaker,
    }


def as_matchmaker(client, world) -> str:
    client.cookies.clear()
    return login(client, world["matchmaker"])["csrf_token"]


def introduce(client, token, a_id, b_id, note="你们都喜欢爬山，性格也合得来。"):
    return client.post(
        "/api/v1/introductions",
        json={"a_id": a_id, "b_id": b_id, "note": note},
        headers={"X-CSRF-Token": token},
    )


def answer(client, world, user_id, intro_id, accept):
    token = log_in_as(client, world["members"][user_id])
    return client.post(
        f"/api/v1/introductions/{intro_id}/response",
        json={"accept": accept},
        headers={"X-CSRF-Token": token},
    )


def test_both_accepting_opens_a_connection(client, world):
    a, b = world["pair"]
    token = as_matchmaker(client, world)
    created = introduce(client, token, a, b)
    assert created.status_code == 201 and created.json()["status"] == "pending"
    intro_id = created.json()["id"]
    assert run(client, AuditEntry.filter(action="introduction.created").count) == 1
    assert introduce(client, token, b, a).status_code == 409  # already waiting
    first = answer(client, world, a, intro_id, True).json()
    assert first["status"] == "pending" and first["my_answer"] is True
    assert client.get("/api/v1/introductions").json()["introductions"][0]["member"]["id"] == b
    second = answer(client, world, b, intro_id, True).json()
    assert second["status"] == "accepted" and second["connection_id"]
    connection = run(client, Connection.get, id=second["connection_id"])
    assert connection.source == ConnectionSource.INTRODUCTION
    token_b = log_in_as(client, world["members"][b])
    assert send(client, token_b, connection.id, "红娘介绍的，你好").status_code == 201
    again = answer(client, world, a, intro_id, False)
    assert again.status_code == 409
    console = as_matchmaker(client, world) and client.get("/api/v1/introductions").json()
    assert console["introductions"][0]["status"] == "accepted"


def test_one_decline_closes_the_introduction(client, world):
    a, b = world["pair"]
    intro_id = introduce(client, as_matchmaker(client, world), a, b).json()["id"]
    assert answer(client, world, b, intro_id, False).json()["status"] == "declined"
    assert answer(client, world, a, intro_id, True).status_code == 409
    assert run(client, Connection.all().count) == 0
    bad = answer(client, world, a, intro_id, "yes")
    assert bad.status_code == 422


def test_hard_filters_are_respected(client, world):
    a, b = world["pair"]
    facts = run(client, verified_facts, list(world["members"]))
    same = next(u for u in world["members"] if u != a and facts[u].gender == facts[a].gender)
    token = as_matchmaker(client, world)
    refused = introduce(client, token, a, same)
    assert refused.status_code == 422 and refused.json()["error"]["message"]
    assert introduce(client, token, a, a).status_code == 422
    assert introduce(client, token, a, b, note=" ").status_code == 422
    block(client, a, b)
    blocked = introduce(client, as_matchmaker(client, world), a, b)
    assert blocked.status_code == 422


def test_matchmakers_see_only_their_members(client, world):
    a, b = world["pair"]
    other = add_user(client, "13800000003", Role.MATCHMAKER, "李红娘")
    client.cookies.clear()
    token = login(client, other)["csrf_token"]
    assert client.get("/api/v1/matchmaker/members").json() == {"members": []}
    assert introduce(client, token, a, b).status_code == 404
    assert client.get(f"/api/v1/matchmaker/members/{a}/notes").status_code == 404
    assert client.get(f"/matchmaker/members/{a}").status_code == 404


def test_console_shows_masked_members_and_keeps_notes(client, world):
    a, _ = world["pair"]
    token = as_matchmaker(client, world)
    members = client.get("/api/v1/matchmaker/members").json()["members"]
    assert len(members) == 16
    assert all("*" in m["real_name"] and "****" in m["phone"] for m in members)
    url = f"/api/v1/matchmaker/members/{a}/notes"
    saved = client.post(url, json={"text": "希望对方也喜欢运动"}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 201
    empty = client.post(url, json={"text": ""}, headers={"X-CSRF-Token": token})
    assert empty.status_code == 422
    assert [n["text"] for n in client.get(url).json()["notes"]] == ["希望对方也喜欢运动"]
    console = client.get("/matchmaker")
    assert console.status_code == 200 and members[0]["real_name"] in console.text
    page = client.get(f"/matchmaker/members/{a}")
    assert page.status_code == 200 and "希望对方也喜欢运动" in page.text
    form = client.post(
        f"/matchmaker/members/{a}/notes",
        data={"csrf_token": token, "text": "第二次咨询"},
        follow_redirects=False,
    )
    assert form.status_code == 303


def test_member_introductions_page_answers_by_form(client, world):
    a, b = world["pair"]
    intro_id = introduce(client, as_matchmaker(client, world), a, b).json()["id"]
    token = log_in_as(client, world["members"][a])
    page = client.get("/introductions")
    assert page.status_code == 200 and "你们都喜欢爬山" in page.text
    response = client.post(
        f"/introductions/{intro_id}/response",
        data={"csrf_token": token, "accept": "yes"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/introductions"
