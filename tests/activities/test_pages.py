"""Member, admin and volunteer pages work without JavaScript: forms post, pages render."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tortoise.timezone import now

from qingyuan.platform.models import Role
from tests.activities.support import activity_body
from tests.activities.test_checkin import scan, soon
from tests.conftest import add_user


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_admin_creates_an_activity_with_the_form(client, admin_headers):
    cookie = {"Cookie": admin_headers["Cookie"]}
    form_page = client.get("/admin/activities/new", headers=cookie)
    assert form_page.status_code == 200
    start = (now() + timedelta(days=5)).astimezone(ZoneInfo("Asia/Shanghai"))

    def local(moment):
        return moment.strftime("%Y-%m-%dT%H:%M")

    form = {
        "csrf_token": _csrf(form_page.text),
        "title": "Citywalk 西湖",
        "kind": "citywalk",
        "place": "断桥",
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=3)),
        "registration_closes_at": local(start - timedelta(days=1)),
        "cancel_deadline": local(start - timedelta(days=1)),
        "capacity": "30",
        "quota_male": "15",
        "quota_female": "15",
        "quota_tolerance": "2",
    }
    bad = client.post("/admin/activities", data={**form, "capacity": "many"}, headers=cookie)
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    created = client.post("/admin/activities", data=form, headers=cookie, follow_redirects=False)
    assert created.status_code == 303
    detail = client.get(created.headers["location"], headers=cookie)
    assert "Citywalk 西湖" in detail.text and "断桥" in detail.text


def test_member_signs_up_and_sees_the_ticket_page(client, members, create_activity):
    person = members(1)[0]
    activity = create_activity(**soon())
    cookie = {"Cookie": person.headers["Cookie"]}
    listing = client.get("/activities", headers=cookie)
    assert listing.status_code == 200 and f"/activities/{activity}" in listing.text
    detail = client.get(f"/activities/{activity}", headers=cookie)
    signed = client.post(
        f"/activities/{activity}/registration",
        data={"csrf_token": _csrf(detail.text)},
        headers=cookie,
        follow_redirects=False,
    )
    assert signed.status_code == 303
    ticket = client.get(f"/activities/{activity}/ticket", headers=cookie)
    assert ticket.status_code == 200 and "<svg" in ticket.text
    assert client.get("/my/activities", headers=cookie).status_code == 200
    bad_filter = client.get("/activities?date=someday", headers=cookie)
    assert bad_filter.status_code == 200 and "alert" in bad_filter.text


def test_volunteer_checks_in_by_typed_code_on_the_page(
    client, members, create_activity, volunteer_headers, on_shift
):
    person = members(1)[0]
    activity = create_activity(**soon())
    on_shift(activity)
    client.post(f"/api/v1/activities/{activity}/registration", headers=person.headers)
    code = client.get(f"/api/v1/activities/{activity}/ticket", headers=person.headers).json()[
        "code"
    ]
    cookie = {"Cookie": volunteer_headers["Cookie"]}
    page = client.get("/staff/checkin", headers=cookie)
    assert page.status_code == 200
    form = {"csrf_token": _csrf(page.text), "code": code, "activity_id": str(activity)}
    done = client.post("/staff/checkin", data=form, headers=cookie)
    assert done.status_code == 200 and "checkin-ok" in done.text
    again = client.post("/staff/checkin", data=form, headers=cookie)
    assert again.status_code == 409 and 'role="alert"' in again.text
    # members do not see the volunteer page
    assert (
        client.get("/staff/checkin", headers={"Cookie": person.headers["Cookie"]}).status_code
        == 404
    )


def test_after_the_activity_members_rate_and_pick_on_the_page(
    client, members, create_activity, admin_headers, volunteer_headers, on_shift
):
    a, b = members(2, seed=22)
    activity = create_activity(**soon())
    on_shift(activity)
    for person in (a, b):
        client.post(f"/api/v1/activities/{activity}/registration", headers=person.headers)
        code = client.get(f"/api/v1/activities/{activity}/ticket", headers=person.headers)
        assert scan(client, volunteer_headers, code.json()["qr"]).status_code == 200
    # the activity is moved into the past (it ended an hour ago)
    ended = now() - timedelta(hours=1)
    moved = activity_body(starts_in=timedelta(hours=-3), capacity=20)
    moved["ends_at"] = ended.isoformat()
    changed = client.put(f"/api/v1/admin/activities/{activity}", json=moved, headers=admin_headers)
    assert changed.status_code == 200, changed.text
    cookie = {"Cookie": a.headers["Cookie"]}
    page = client.get(f"/activities/{activity}", headers=cookie)
    assert page.status_code == 200 and 'name="rating"' in page.text
    token = _csrf(page.text)
    rated = client.post(
        f"/activities/{activity}/feedback",
        data={"csrf_token": token, "rating": "5", "comment": "很开心"},
        headers=cookie,
        follow_redirects=False,
    )
    assert rated.status_code == 303
    picked = client.post(
        f"/activities/{activity}/picks",
        data={"csrf_token": token, "member_id": str(b.user.id)},
        headers=cookie,
        follow_redirects=False,
    )
    assert picked.status_code == 303
    mutual = client.post(
        f"/api/v1/activities/{activity}/picks", json={"member_id": a.user.id}, headers=b.headers
    )
    assert mutual.json()["mutual"] is True
    connections = client.get("/api/v1/connections", headers=a.headers).json()["connections"]
    assert [c["source"] for c in connections] == ["activity"]


def test_admin_edits_an_activity_and_staffs_it_on_the_page(client, create_activity, admin_headers):
    volunteer = add_user(client, "13800000019", Role.MATCHMAKER, "红娘张姐")
    activity = create_activity(capacity=20, quotas={"male": 10, "female": 10})
    cookie = {"Cookie": admin_headers["Cookie"]}
    edit = client.get(f"/admin/activities/{activity}/edit", headers=cookie)
    assert edit.status_code == 200 and 'value="10"' in edit.text
    form = {
        name: edit.text.split(f'id="{name}" name="{name}"', 1)[1]
        .split('value="', 1)[1]
        .split('"')[0]
        for name in ("starts_at", "ends_at", "registration_closes_at", "cancel_deadline")
    }
    saved = client.post(
        f"/admin/activities/{activity}/edit",
        data={
            **form,
            "csrf_token": _csrf(edit.text),
            "title": "周末飞盘（改期）",
            "kind": "frisbee",
            "place": "黄龙体育中心 B 场",
            "capacity": "24",
            "quota_male": "12",
            "quota_female": "12",
            "quota_tolerance": "0",
        },
        headers=cookie,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    detail = client.get(f"/admin/activities/{activity}", headers=cookie)
    assert "周末飞盘（改期）" in detail.text
    token = _csrf(detail.text)
    shift = client.post(
        f"/admin/activities/{activity}/shifts",
        data={
            "csrf_token": token,
            "role": "签到",
            "starts_at": form["starts_at"],
            "ends_at": form["ends_at"],
            "needed": "2",
        },
        headers=cookie,
        follow_redirects=False,
    )
    assert shift.status_code == 303
    staffing = client.get(f"/api/v1/admin/activities/{activity}/staffing", headers=admin_headers)
    (only,) = staffing.json()["shifts"]
    assigned = client.post(
        f"/admin/activities/{activity}/assignments",
        data={"csrf_token": token, "shift_id": str(only["id"]), "volunteer_id": str(volunteer.id)},
        headers=cookie,
        follow_redirects=False,
    )
    assert assigned.status_code == 303
    page = client.get(f"/admin/activities/{activity}", headers=cookie).text
    assert "1 / 2" in page or "1 of 2" in page


def test_member_books_a_consultation_on_the_page(client, members, volunteer_headers):
    person = members(1, seed=26)[0]
    when = now() + timedelta(days=3)
    client.post(
        "/api/v1/staff/consultation-slots",
        json={
            "starts_at": when.isoformat(),
            "ends_at": (when + timedelta(minutes=45)).isoformat(),
            "place": "青年之家",
        },
        headers=volunteer_headers,
    )
    cookie = {"Cookie": person.headers["Cookie"]}
    page = client.get("/consultations", headers=cookie)
    slot = page.text.split('action="/consultations/', 1)[1].split("/", 1)[0]
    booked = client.post(
        f"/consultations/{slot}/booking",
        data={"csrf_token": _csrf(page.text)},
        headers=cookie,
        follow_redirects=False,
    )
    assert booked.status_code == 303
    after = client.get("/consultations", headers=cookie).text
    assert f"/consultations/{slot}/cancellation" in after
