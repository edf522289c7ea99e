"""Verified members and activities for events tests, built through the public services.

Members are registered with `create_member` and verified by `check_member` against the mock
departments, exactly as the verification job does; their sessions are opened in Redis the
way a login does, so a test of 200 members does not spend its time on 200 argon2 logins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tortoise.timezone import now

from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import User
from qingyuan.verification.departments import generate_personas, load_registry, write_registry
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.pipeline import check_member
from qingyuan.verification.registration import Application, create_member
from qingyuan.verification.wiring import VerificationServices

PASSWORD = "member-2026"


@dataclass(frozen=True)
class MemberSession:
    user: User
    gender: str
    phone: str
    session_id: str = ""
    csrf_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"qy_session={self.session_id}", "X-CSRF-Token": self.csrf_token}


async def verified_members(
    kernel: Kernel, count: int, *, seed: int = 11, sessions: bool = True
) -> list[MemberSession]:
    """`count` verified members (genders as the personas fall), with open sessions in
    `kernel`'s Redis unless `sessions` is False (then log them in over HTTP)."""
    people = generate_personas(count, seed, today=date(2026, 11, 27))
    path = kernel.settings.data_dir / "mock-registry.jsonl"
    known = load_registry(path) if path.is_file() else load_registry()
    write_registry([*known, *people], path)
    phone_base = 13600000000 + seed * 10_000

    async def one(i: int, person: Any) -> MemberSession:
        identity = parse_id_number(person.id_number)
        application = Application(str(phone_base + i), PASSWORD, person.name, identity)
        user, member = await create_member(kernel.cipher, application, "2026-11")
        status = await check_member(verification, member.id)
        assert status.value == "verified", status
        if not sessions:
            return MemberSession(user, identity.gender, application.phone)
        session = await kernel.sessions.create(user.id, user.role.value)
        return MemberSession(
            user, identity.gender, application.phone, session.id, session.csrf_token
        )

    verification = VerificationServices(kernel)
    try:
        return [await one(i, person) for i, person in enumerate(people)]
    finally:
        await verification.aclose()


async def staff_session(kernel: Kernel, user: User) -> dict[str, str]:
    session = await kernel.sessions.create(user.id, user.role.value)
    return {"Cookie": f"qy_session={session.id}", "X-CSRF-Token": session.csrf_token}


def activity_body(
    *,
    starts_in: timedelta = timedelta(days=3),
    capacity: int = 20,
    quotas: dict[str, int] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A valid admin create body for an activity `starts_in` from now."""
    start = now() + starts_in
    return {
        "title": "周末飞盘交友",
        "kind": "frisbee",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "place": "杭州市西湖区黄龙体育中心",
        "capacity": capacity,
        "quotas": quotas,
        "registration_closes_at": (start - timedelta(hours=3)).isoformat(),
        "cancel_deadline": (start - timedelta(hours=24)).isoformat(),
        **changes,
    }
