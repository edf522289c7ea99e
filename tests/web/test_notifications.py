"""Notifications: the unread count in the navigation, the home page list, the API, read state."""

from __future__ import annotations

import re

from qingyuan.platform.notifications import notify
from tests.conftest import login, run

EN = {"Accept-Language": "en"}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_home_shows_the_unread_count_and_the_notices_until_read(client, make_user):
    member = make_user()
    login(client, member)
    run(client, notify, member.id, "match.proposed", day="2026-11-27")
    run(client, notify, member.id, "connection.created", connection_id=1)

    home = client.get("/home").text
    assert re.search(r'class="count-badge">2<', home)
    assert "今日匹配已送达" in home and "新的联系已建立" in home
    assert home.count('class="unread"') == 2

    response = client.post(
        "/notifications/read", data={"csrf_token": _token(home)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/home"
    home = client.get("/home").text
    assert "count-badge" not in home and 'class="unread"' not in home
    assert "今日匹配已送达" in home  # read notices stay listed


def test_api_lists_newest_first_in_the_readers_language_and_pages_back(client, make_user):
    member, other = make_user(), make_user()
    run(client, notify, other.id, "match.proposed", day="2026-11-27")
    for _ in range(25):
        run(client, notify, member.id, "match.proposed", day="2026-11-27")
    csrf = login(client, member)["csrf_token"]

    page = client.get("/api/v1/notifications", headers=EN).json()
    assert page["unread"] == 25 and len(page["notifications"]) == 20
    ids = [n["id"] for n in page["notifications"]]
    assert ids == sorted(ids, reverse=True)
    first = page["notifications"][0]
    assert first["text"] == "Your match for today has arrived." and first["url"] == "/matches"
    older = client.get(f"/api/v1/notifications?before={ids[-1]}").json()["notifications"]
    assert len(older) == 5 and all(n["id"] < ids[-1] for n in older)

    marked = client.post(
        "/api/v1/notifications/read", json={"up_to": ids[4]}, headers={"X-CSRF-Token": csrf}
    )
    assert marked.json() == {"unread": 4}
    marked = client.post("/api/v1/notifications/read", json={}, headers={"X-CSRF-Token": csrf})
    assert marked.json() == {"unread": 0}


def test_bad_paging_is_a_clear_422_and_strangers_get_401(client, make_user):
    assert client.get("/api/v1/notifications").status_code == 401
    csrf = login(client, make_user())["csrf_token"]
    for bad in ("abc", "0", "-3"):
        response = client.get(f"/api/v1/notifications?before={bad}", headers=EN)
        assert response.status_code == 422
        assert response.json()["error"]["fields"]["before"] == "Give the id of a notification."
    response = client.post(
        "/api/v1/notifications/read", json={"up_to": True}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 422 and "up_to" in response.json()["error"]["fields"]
