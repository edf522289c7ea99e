"""Today's match over HTTP: the card contract, like / pass, mutual like → connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise.timezone import now

from qingyuan.connections.models import Connection
from qingyuan.matching.daily import run_day
from qingyuan.matching.models import Proposal
from qingyuan.platform.accounts import phone_of
from qingyuan.platform.models import Notification, User
from tests.conftest import run
from tests.matching.daily_support import PASSWORD, build_population


@pytest.fixture
def proposal(client):
    build_population(client, 16)
    kernel = client.app.state.kernel
    run(client, run_day, kernel, kernel.settings.local_today())
    return run(client, Proposal.first)


def log_in_as(client, user_id: int) -> str:
    client.cookies.clear()
    user = run(client, User.get, id=user_id)
    phone = phone_of(client.app.state.kernel.cipher, user)
    body = client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD}).json()
    return body["csrf_token"]


def test_today_shows_the_match_card_with_reasons(client, proposal):
    log_in_as(client, proposal.a_id)
    today = client.get("/api/v1/matches/today").json()
    assert today["date"] == proposal.day.isoformat()
    [card] = today["proposals"]
    assert card["id"] == proposal.id and card["my_decision"] is None
    assert card["member"]["id"] == proposal.b_id
    assert card["member"]["nickname"] and card["member"]["age"] >= 20
    assert card["member"]["badges"]["verified"] is True
    assert card["reasons"] and all(r["text"] for r in card["reasons"])
    assert "phone" not in card["member"] and "real_name" not in card["member"]
    me_as_seen = log_in_as(client, proposal.b_id) and client.get("/api/v1/me").json()
    assert me_as_seen["id"] == proposal.b_id  # member.id is the id /me gives that member


def test_mutual_like_opens_one_connection_and_notifies_both(client, proposal):
    token = log_in_as(client, proposal.a_id)
    first = client.post(
        f"/api/v1/matches/{proposal.id}/decision",
        json={"decision": "like"},
        headers={"X-CSRF-Token": token},
    )
    assert first.json() == {"connection_id": None}
    token = log_in_as(client, proposal.b_id)
    second = client.post(
        f"/api/v1/matches/{proposal.id}/decision",
        json={"decision": "like"},
        headers={"X-CSRF-Token": token},
    )
    connection_id = second.json()["connection_id"]
    assert connection_id == run(client, Connection.get, a_id=proposal.a_id).id
    again = client.post(
        f"/api/v1/matches/{proposal.id}/decision",
        json={"decision": "like"},
        headers={"X-CSRF-Token": token},
    )
    assert again.json()["connection_id"] == connection_id  # a double tap changes nothing
    connections = client.get("/api/v1/connections").json()["connections"]
    assert [c["member"]["id"] for c in connections] == [proposal.a_id]
    kinds = run(
        client, Notification.filter(kind="connection.created").values_list, "user_id", flat=True
    )
    assert sorted(kinds) == sorted([proposal.a_id, proposal.b_id])


def test_changing_a_decision_and_expired_matches_are_refused(client, proposal):
    token = log_in_as(client, proposal.a_id)
    url = f"/api/v1/matches/{proposal.id}/decision"
    client.post(url, json={"decision": "pass"}, headers={"X-CSRF-Token": token})
    changed = client.post(url, json={"decision": "like"}, headers={"X-CSRF-Token": token})
    assert changed.status_code == 409
    run(client, Proposal.filter(id=proposal.id).update, expires_at=now() - timedelta(hours=1))
    token = log_in_as(client, proposal.b_id)
    late = client.post(url, json={"decision": "like"}, headers={"X-CSRF-Token": token})
    assert late.status_code == 409


def test_other_members_proposals_are_404_and_bad_decisions_422(client, proposal):
    outsider = run(client, Proposal.exclude(id=proposal.id).first)
    token = log_in_as(client, proposal.a_id)
    if outsider is not None and proposal.a_id not in (outsider.a_id, outsider.b_id):
        response = client.post(
            f"/api/v1/matches/{outsider.id}/decision",
            json={"decision": "like"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 404
    assert (
        client.post(
            "/api/v1/matches/999999/decision",
            json={"decision": "like"},
            headers={"X-CSRF-Token": token},
        ).status_code
        == 404
    )
    bad = client.post(
        f"/api/v1/matches/{proposal.id}/decision",
        json={"decision": "maybe"},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422


def test_match_pages_render(client, proposal):
    log_in_as(client, proposal.a_id)
    page = client.get("/matches")
    assert page.status_code == 200 and "为什么推荐你们" in page.text
    assert client.get("/connections").status_code == 200
    assert client.get("/matches/history").status_code == 200
