"""Every list page and list API answers in a number of SQL statements that does not grow with
the number of items it lists.

The routing table is walked: each GET route is either a list (with a scenario below that adds
items for it) or named in `NOT_LISTS` with the reason, so a new list route fails
`test_every_get_route_is_classified` until it gets a scenario. Each scenario counts the
statements of one request with N items, adds N more, and counts again (tests/query_log.py
counts from Tortoise's own query log, on SQLite here and on PostgreSQL with -m integration).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from tortoise.timezone import now

from qingyuan.activities import activities, calendar, registrations, volunteers
from qingyuan.activities.checkin import new_code
from qingyuan.activities.models import Activity, Attendance, Registration, RegistrationStatus
from qingyuan.activities.schemas import ActivityBody, AddShift
from qingyuan.activities.settings import event_settings
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT, REPORT_DETAILS
from qingyuan.connections.models import ConnectionSource, ReportReason
from qingyuan.connections.pairs import open_connection
from qingyuan.matching.models import Proposal
from qingyuan.matchmakers import consultations, introductions
from qingyuan.matchmakers.encrypted_columns import INTRODUCTION_NOTE
from qingyuan.matchmakers.schemas import AddNote, Assign
from qingyuan.platform import audit, notifications
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.models import Role, User
from qingyuan.platform.validation import validate
from qingyuan.verification.departments import generate_personas
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.models import Member
from qingyuan.verification.registration import Application, create_member
from qingyuan.web.app import create_app
from tests.activities.support import activity_body, staff_session
from tests.conftest import add_user, install_migrated, run
from tests.matching.daily_support import build_population
from tests.query_log import CountingApp, query_logging

N = 3  # items before; the second count is taken with 2N
POOL = 2 * N + 2  # members besides the viewer: each scenario uses at most 2N of them

# GET routes that list nothing whose length varies, and why.
NOT_LISTS = {
    "/healthz": "liveness: no database",
    "/readyz": "one probe query",
    "/metrics": "Prometheus text: no database",
    "/api/v1/me": "one user",
    "/api/v1/openapi.json": "a static document",
    "/": "landing page",
    "/login": "login form",
    "/api/v1/me/verification": "one member's own checks (six departments, fixed)",
    "/register": "registration form",
    "/verification": "one member's own checks (six departments, fixed)",
    "/admin/verification/{member_id:id}": "one member under review",
    "/api/v1/me/profile": "one profile",
    "/api/v1/me/questionnaire": "one member's answers (a fixed questionnaire)",
    "/photos/{name:str}": "one file",
    "/profile": "one profile form",
    "/questionnaire": "one questionnaire form",
    "/api/v1/activities/{activity_id:id}": "one activity with aggregate counts",
    "/api/v1/activities/{activity_id:id}/ticket": "one ticket",
    "/activities/{activity_id:id}/ticket": "one ticket",
    "/activities/{activity_id:id}/calendar.ics": "one activity",
    "/admin/activities/new": "an empty form",
    "/admin/activities/{activity_id:id}/edit": "one activity's form",
    "/connections/{connection_id:id}/report": "a report form",
    "/admin/reports/{report_id:id}": "one report (its evidence is bounded, see safety.evidence)",
}


@dataclass
class World:
    """The viewer, staff, a pool of verified members with profiles, and what was added."""

    client: TestClient
    app: CountingApp
    viewer: User
    pool: list[User]
    admin: User
    matchmaker: User
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    anchor: dict[str, Any] = field(default_factory=dict)
    added: int = 0

    @property
    def kernel(self) -> Any:
        return self.client.app.state.kernel

    def take(self, n: int) -> list[User]:
        """`n` pool members not used by this scenario yet."""
        chosen = self.pool[self.added : self.added + n]
        assert len(chosen) == n, "the pool is too small for this scenario"
        self.added += n
        return chosen

    def call(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        return run(self.client, func, *args, **kwargs)

    def statements(self, path: str, as_: str) -> list[str]:
        response = self.client.get(path, headers=self.headers[as_])
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return list(self.app.last)


@pytest.fixture
def world(settings) -> Any:
    install_migrated(settings)
    app = CountingApp(create_app(settings, run_worker=False))
    with TestClient(app) as client, query_logging():
        members = build_population(client, POOL + 1)
        admin = add_user(client, "13800000001", Role.ADMIN, "管理员")
        matchmaker = add_user(client, "13800000002", Role.MATCHMAKER, "红娘")
        built = World(client, app, members[0], members[1:], admin, matchmaker)
        for name, user in (("member", members[0]), ("admin", admin), ("matchmaker", matchmaker)):
            built.headers[name] = run(client, staff_session, client.app.state.kernel, user)
        yield built


# Scenarios: (viewer, url of the page given the world, grow(world, n) adding n items).
Grow = Callable[[World, int], None]


async def _activity(world: World, **changes: Any) -> Activity:
    model = ActivityBody.configured(world.kernel.settings)
    form = validate(model, activity_body(**changes), strict=True)
    return await activities.create_activity(world.admin, form)


def grow_notices(world: World, n: int) -> None:
    for _ in range(n):
        world.call(notifications.notify, world.viewer.id, "match.proposed", day="2026-11-27")


def _proposals(world: World, n: int, *, days_ago: int) -> None:
    today = world.kernel.settings.local_today()
    for offset, other in enumerate(world.take(n)):
        day = today - timedelta(days=days_ago + (offset if days_ago else 0))
        world.call(
            Proposal.create,
            day=day,
            a_id=world.viewer.id,
            b_id=other.id,
            score=0.5,
            reasons=[{"code": "shared_interests", "tags": []}],
            expires_at=now() + timedelta(hours=12),
        )


def grow_today(world: World, n: int) -> None:
    _proposals(world, n, days_ago=0)


def grow_history(world: World, n: int) -> None:
    _proposals(world, n, days_ago=1)


def grow_connections(world: World, n: int) -> None:
    for other in world.take(n):
        world.call(open_connection, world.viewer.id, other.id, ConnectionSource.MATCH)


def _connection(world: World) -> int:
    if "connection" not in world.anchor:
        [other] = world.take(1)
        connection = world.call(open_connection, world.viewer.id, other.id, ConnectionSource.MATCH)
        world.anchor["connection"], world.anchor["other"] = connection.id, other.id
    return world.anchor["connection"]


def grow_messages(world: World, n: int) -> None:
    connection_id = _connection(world)
    for i in range(n):
        world.call(
            MESSAGE_TEXT.create,
            world.kernel.cipher,
            f"你好 {i}",
            connection_id=connection_id,
            sender_id=world.anchor["other"],
            recipient_id=world.viewer.id,
        )


def grow_unread(world: World, n: int) -> None:
    """n more connections, each with an unread message to the viewer."""
    for other in world.take(n):
        connection = world.call(open_connection, world.viewer.id, other.id, ConnectionSource.MATCH)
        world.call(
            MESSAGE_TEXT.create,
            world.kernel.cipher,
            "在吗",
            connection_id=connection.id,
            sender_id=other.id,
            recipient_id=world.viewer.id,
        )


def grow_activities(world: World, n: int) -> None:
    for i in range(n):
        world.call(_activity, world, starts_in=timedelta(days=3 + world.added + i))
    world.added += n


def _signed_up_activities(world: World, n: int) -> None:
    config = event_settings(world.kernel.settings)
    for i in range(n):
        activity = world.call(_activity, world, starts_in=timedelta(days=3 + world.added + i))
        world.call(registrations.sign_up, config, world.viewer, activity.id)
    world.added += n


def _activity_anchor(world: World) -> int:
    if "activity" not in world.anchor:
        world.anchor["activity"] = world.call(_activity, world, capacity=2 * N + 4).id
    return world.anchor["activity"]


def grow_registrations(world: World, n: int) -> None:
    """n more members signed up for one activity (the admin's detail page, figures)."""
    activity_id = _activity_anchor(world)
    config = event_settings(world.kernel.settings)
    for member in world.take(n):
        world.call(registrations.sign_up, config, member, activity_id)


async def _past_activity(world: World) -> int:
    start = now() - timedelta(days=1)
    activity = await Activity.create(
        title="周末飞盘交友",
        kind="frisbee",
        place="杭州市西湖区黄龙体育中心",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=2 * N + 4,
        registration_closes_at=start - timedelta(hours=3),
        cancel_deadline=start - timedelta(hours=24),
    )
    await _attended(activity.id, world.viewer)
    return activity.id


async def _attended(activity_id: int, user: User) -> None:
    member = await Member.get(user_id=user.id)
    await Registration.create(
        activity_id=activity_id,
        user_id=user.id,
        gender=member.gender,
        status=RegistrationStatus.CONFIRMED,
        attendance=Attendance.ATTENDED,
        code=new_code(),
    )


def grow_attendees(world: World, n: int) -> None:
    """n more attendees of an activity that ended yesterday, which the viewer attended."""
    if "past" not in world.anchor:
        world.anchor["past"] = world.call(_past_activity, world)
    for member in world.take(n):
        world.call(_attended, world.anchor["past"], member)


def grow_shifts(world: World, n: int) -> None:
    activity_id = _activity_anchor(world)
    start = now() + timedelta(days=3)
    for i in range(n):
        world.call(
            volunteers.add_shift,
            world.admin,
            activity_id,
            AddShift(
                role=f"签到{i}", starts_at=start - timedelta(hours=1), ends_at=start, needed=1
            ),
        )


def grow_slots(world: World, n: int) -> None:
    for i in range(n):
        start = now() + timedelta(days=2, hours=world.added + i)
        world.call(
            consultations.offer_slot,
            world.matchmaker,
            start,
            start + timedelta(minutes=30),
            "青年之家",
        )
    world.added += n


def grow_introductions(world: World, n: int) -> None:
    for other in world.take(n):
        low, high = sorted((world.viewer.id, other.id))
        world.call(
            INTRODUCTION_NOTE.create,
            world.kernel.cipher,
            "两位都喜欢徒步",
            matchmaker_id=world.matchmaker.id,
            a_id=low,
            b_id=high,
        )


def grow_audit(world: World, n: int) -> None:
    for i in range(n):
        world.call(
            audit.record,
            world.admin,
            AuditAction.ACTIVITY_CREATED,
            target_type="activity",
            target_id=i,
        )


def grow_review_queue(world: World, n: int) -> None:
    """n more members registered and not yet checked: pending, in the review queue."""
    people = generate_personas(n, seed=90 + world.added, today=date(2026, 11, 27))
    for i, person in enumerate(people):
        identity = parse_id_number(person.id_number)
        phone = f"1350000{world.added + i:04d}"
        application = Application(phone, "member-2026", person.name, identity)
        world.call(create_member, world.kernel.cipher, application, "2026-11")
    world.added += n


def grow_reports(world: World, n: int) -> None:
    for reporter in world.take(n):
        connection = world.call(
            open_connection, reporter.id, world.viewer.id, ConnectionSource.MATCH
        )
        world.call(
            REPORT_DETAILS.create,
            world.kernel.cipher,
            "要我转账",
            reporter_id=reporter.id,
            reported_id=world.viewer.id,
            reason=ReportReason.SCAM,
            connection_id=connection.id,
        )


def grow_assigned(world: World, n: int) -> None:
    for member in world.take(n):
        world.call(
            introductions.assign,
            world.admin,
            Assign(matchmaker_id=world.matchmaker.id, member_id=member.id),
        )


def grow_notes(world: World, n: int) -> None:
    if "assigned" not in world.anchor:
        world.call(
            introductions.assign,
            world.admin,
            Assign(matchmaker_id=world.matchmaker.id, member_id=world.viewer.id),
        )
        world.anchor["assigned"] = world.viewer.id
    for i in range(n):
        world.call(
            introductions.add_note,
            world.kernel.cipher,
            world.matchmaker,
            world.viewer.id,
            AddNote(text=f"第{i}次谈话"),
        )


def _feed(world: World) -> str:
    """The viewer's calendar feed URL (the token is the credential: no session)."""
    if "feed" not in world.anchor:
        world.anchor["feed"] = world.call(calendar.new_feed, world.viewer.id)
        world.headers["anyone"] = {}
    return f"/calendar/{world.anchor['feed']}.ics"


@dataclass(frozen=True)
class Scenario:
    viewer: str
    url: Callable[[World], str]
    grow: Grow


def fixed(path: str) -> Callable[[World], str]:
    return lambda world: path


SCENARIOS: dict[str, Scenario] = {
    "/home": Scenario("member", fixed("/home"), grow_notices),
    "/api/v1/notifications": Scenario("member", fixed("/api/v1/notifications"), grow_notices),
    "/matches": Scenario("member", fixed("/matches"), grow_today),
    "/api/v1/matches/today": Scenario("member", fixed("/api/v1/matches/today"), grow_today),
    "/matches/history": Scenario("member", fixed("/matches/history"), grow_history),
    "/connections": Scenario("member", fixed("/connections"), grow_unread),
    "/api/v1/connections": Scenario("member", fixed("/api/v1/connections"), grow_connections),
    "/api/v1/unread": Scenario("member", fixed("/api/v1/unread"), grow_unread),
    "/api/v1/connections/{connection_id:id}/messages": Scenario(
        "member",
        lambda w: f"/api/v1/connections/{_connection(w)}/messages",
        grow_messages,
    ),
    "/connections/{connection_id:id}": Scenario(
        "member", lambda w: f"/connections/{_connection(w)}", grow_messages
    ),
    "/activities": Scenario("member", fixed("/activities"), grow_activities),
    "/api/v1/activities": Scenario("member", fixed("/api/v1/activities"), grow_activities),
    "/activities/{activity_id:id}": Scenario(
        "member", lambda w: f"/activities/{w.anchor['past']}", grow_attendees
    ),
    "/api/v1/activities/{activity_id:id}/attendees": Scenario(
        "member", lambda w: f"/api/v1/activities/{w.anchor['past']}/attendees", grow_attendees
    ),
    "/my/activities": Scenario("member", fixed("/my/activities"), _signed_up_activities),
    "/api/v1/me/activities": Scenario(
        "member", fixed("/api/v1/me/activities"), _signed_up_activities
    ),
    "/calendar/{token:str}.ics": Scenario("anyone", _feed, _signed_up_activities),
    "/consultations": Scenario("member", fixed("/consultations"), grow_slots),
    "/api/v1/consultation-slots": Scenario(
        "member", fixed("/api/v1/consultation-slots"), grow_slots
    ),
    "/introductions": Scenario("member", fixed("/introductions"), grow_introductions),
    "/api/v1/introductions": Scenario("member", fixed("/api/v1/introductions"), grow_introductions),
    "/admin/audit": Scenario("admin", fixed("/admin/audit"), grow_audit),
    "/api/v1/admin/audit": Scenario("admin", fixed("/api/v1/admin/audit"), grow_audit),
    "/admin/verification": Scenario("admin", fixed("/admin/verification"), grow_review_queue),
    "/admin/activities": Scenario("admin", fixed("/admin/activities"), grow_activities),
    "/admin/activities/{activity_id:id}": Scenario(
        "admin", lambda w: f"/admin/activities/{_activity_anchor(w)}", grow_registrations
    ),
    "/staff/checkin": Scenario("admin", fixed("/staff/checkin"), grow_activities),
    "/api/v1/admin/activities/{activity_id:id}/figures": Scenario(
        "admin",
        lambda w: f"/api/v1/admin/activities/{_activity_anchor(w)}/figures",
        grow_registrations,
    ),
    "/api/v1/admin/activities/{activity_id:id}/staffing": Scenario(
        "admin",
        lambda w: f"/api/v1/admin/activities/{_activity_anchor(w)}/staffing",
        grow_shifts,
    ),
    "/api/v1/admin/reports": Scenario("admin", fixed("/api/v1/admin/reports"), grow_reports),
    "/admin/reports": Scenario("admin", fixed("/admin/reports"), grow_reports),
    "/api/v1/matchmaker/members": Scenario(
        "matchmaker", fixed("/api/v1/matchmaker/members"), grow_assigned
    ),
    "/matchmaker": Scenario("matchmaker", fixed("/matchmaker"), grow_assigned),
    "/matchmaker/members/{member_id:id}": Scenario(
        "matchmaker", lambda w: f"/matchmaker/members/{w.viewer.id}", grow_notes
    ),
    "/api/v1/matchmaker/members/{member_id:id}/notes": Scenario(
        "matchmaker", lambda w: f"/api/v1/matchmaker/members/{w.viewer.id}/notes", grow_notes
    ),
}

# Lists still paying a statement per item, and why (strict: fixing one fails until removed).
NOT_YET_CONSTANT: dict[str, str] = {}


def _get_routes() -> set[str]:
    app = create_app(run_worker=False)
    return {
        route.path
        for route in app.routes
        if isinstance(route, Route) and route.methods and "GET" in route.methods
    }


def test_every_get_route_is_classified() -> None:
    routes = _get_routes()
    assert not set(SCENARIOS) & set(NOT_LISTS)
    assert routes - set(SCENARIOS) - set(NOT_LISTS) == set(), "a GET route with no scenario"
    assert set(SCENARIOS) | set(NOT_LISTS) <= routes, "a scenario for a route that is gone"


def _params() -> list[Any]:
    return [
        pytest.param(
            path,
            marks=pytest.mark.xfail(strict=True, reason=NOT_YET_CONSTANT[path])
            if path in NOT_YET_CONSTANT
            else (),
            id=path,
        )
        for path in SCENARIOS
    ]


@pytest.mark.parametrize("path", _params())
def test_statements_do_not_grow_with_the_items_listed(world: World, path: str) -> None:
    scenario = SCENARIOS[path]
    scenario.grow(world, N)
    url = scenario.url(world)
    world.statements(url, scenario.viewer)  # warm: first-request work (e.g. lazy caches)
    before = world.statements(url, scenario.viewer)
    scenario.grow(world, N)
    after = world.statements(url, scenario.viewer)
    assert len(after) == len(before), "\n".join(after)


@pytest.mark.parametrize("path", ["/home", "/matches", "/api/v1/matches/today"])
def test_the_viewer_is_read_once_per_request(world: World, path: str) -> None:
    """The session's user and their verification record: one statement, whatever the page
    needs of them (navigation, the verified gate, the home page's status)."""
    grow_today(world, N)
    statements = world.statements(path, "member")
    viewer = [s for s in statements if '"platform_user"' in s or '"verification_member"' in s]
    cards = [s for s in viewer if "IN (" in s]  # the other members' facts on their cards
    assert len(viewer) - len(cards) == 1, "\n".join(viewer)


def test_the_connections_page_counts_unread_messages_once(world: World) -> None:
    """The navigation's badge and the page's per-connection counts share one query."""
    grow_unread(world, N)
    statements = world.statements("/connections", "member")
    assert len([s for s in statements if 'FROM "matching_message"' in s]) == 1, statements
