"""Must-show 2: `.ics` validity (RFC 5545 structure) and the member's revocable feed, with no
personal data in any entry."""

from __future__ import annotations

import re


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in raw), "lines fold at 75 octets"
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def check_calendar(text: str) -> list[dict[str, str]]:
    """Structure of a VCALENDAR; returns each VEVENT's properties."""
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events, current = [], None
    for line in lines:
        name, _sep, value = line.partition(":")
        assert re.fullmatch(r"[A-Z-]+", name), line
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    for event in events:
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event)
        for key in ("DTSTAMP", "DTSTART", "DTEND"):
            assert re.fullmatch(r"\d{8}T\d{6}Z", event[key])
        assert event["DTSTART"] < event["DTEND"]
    return events


def test_one_activity_as_ics(client, members, create_activity):
    person = members(1)[0]
    activity = create_activity(title="读书会; 第1期, 西湖\\边", description="")
    answer = client.get(f"/activities/{activity}/calendar.ics", headers=person.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    (event,) = check_calendar(answer.text)
    assert event["SUMMARY"] == "读书会\\; 第1期\\, 西湖\\\\边"
    assert event["UID"] == f"activity-{activity}@qingyuan"


def test_member_feed_is_secret_revocable_and_impersonal(client, members, create_activity):
    person = members(1)[0]
    mine = create_activity(title="飞盘")
    create_activity(title="剧本杀")  # not joined: never in the feed
    client.post(f"/api/v1/activities/{mine}/registration", headers=person.headers)
    url = client.post("/api/v1/me/calendar-feed", headers=person.headers).json()["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    feed = client.get(f"/{path}")  # no cookie: calendar apps have none
    assert feed.status_code == 200
    events = check_calendar(feed.text)
    assert [e["SUMMARY"] for e in events] == ["飞盘"]  # not the other activity
    assert person.phone not in feed.text and "calendar/" not in feed.text
    newer = client.post("/api/v1/me/calendar-feed", headers=person.headers).json()["url"]
    assert client.get(f"/{path}").status_code == 404  # the old URL stopped working
    newer_path = newer.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{newer_path}").status_code == 200
    client.delete("/api/v1/me/calendar-feed", headers=person.headers)
    assert client.get(f"/{newer_path}").status_code == 404
