"""Demo data for `qingyuan demo`: staff, and members who are personas verified for real.

Members are fictitious citizens: `generate_personas` makes them, they are written once into
`<data dir>/mock-registry.jsonl` (the bundled personas included) where the in-process mock
departments find them, and every member goes through the real verification pipeline. A few
bundled personas (married, debtor) are members too, so the demo shows rejections.

Seeding is idempotent: accounts are found by their (blind-indexed) phone numbers and only the
missing ones are created; the registry and the passwords are kept from the first run.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from qingyuan.platform import accounts
from qingyuan.platform.database import connected
from qingyuan.platform.kernel import Kernel, build_kernel
from qingyuan.platform.models import Role
from qingyuan.platform.settings import Settings
from qingyuan.verification.departments import (
    Person,
    generate_personas,
    load_registry,
    write_registry,
)
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.pipeline import DepartmentsPending, check_member
from qingyuan.verification.registration import Application, create_member
from qingyuan.verification.settings import verification_settings

ACCOUNTS_FILE = "demo-accounts.json"
REGISTRY_FILE = "mock-registry.jsonl"
PERSONA_SEED = 2026
# Bundled personas who join the demo as they are: rejected members to look at.
SHOWCASE = ("330106198806160932", "110105199310101266")  # married; dishonest debtor
_NICKNAMES = [
    "晨跑的猫",
    "山茶",
    "南风",
    "小满",
    "阿木",
    "青柠",
    "鹿鸣",
    "半夏",
    "星河",
    "知秋",
    "木子",
    "云朵",
    "晚晴",
    "北辰",
    "栀子",
    "初一",
    "橙子",
    "远山",
    "桃桃",
    "清和",
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    phone: str
    password: str
    name: str


def _passwords(path: Path) -> dict[str, str]:
    """One password per role, generated on the first run and reused afterwards."""
    if path.is_file():
        return {entry["role"]: entry["password"] for entry in json.loads(path.read_text())}
    return {role.value: f"qy-{secrets.token_hex(4)}-2026" for role in Role}


def _nickname(index: int) -> str:
    return f"{_NICKNAMES[index % len(_NICKNAMES)]}{index // len(_NICKNAMES) or ''}"


def demo_personas(settings: Settings, members: int) -> list[Person]:
    """The demo members' citizens, written to the mock registry once and read back after."""
    path = settings.data_dir / REGISTRY_FILE
    if not path.is_file():
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        bundled = list(load_registry())
        write_registry(
            [*bundled, *generate_personas(max(members, 1), PERSONA_SEED, today=today)], path
        )
    people = {person.id_number: person for person in load_registry(path)}
    generated = [p for p in people.values() if int(p.id_number[14:17]) >= 500][:members]
    return [people[number] for number in SHOWCASE] + generated


async def _seed_member(
    kernel: Kernel, person: Person, phone: str, password: str, nickname: str
) -> None:
    if await accounts.find_by_phone(kernel.cipher, phone) is not None:
        return
    config = verification_settings(kernel.settings)
    application = Application(phone, password, person.name, parse_id_number(person.id_number))
    user, member = await create_member(kernel.cipher, application, config.policy_version)
    user.display_name = nickname
    await user.save(update_fields=["display_name"])
    try:
        await check_member(kernel, member.id)
    except DepartmentsPending:
        pass  # the worker's sweep finishes it once the server runs


async def seed(settings: Settings, *, members: int) -> list[DemoLogin]:
    """Create the demo accounts that do not exist yet; return every demo login."""
    path = settings.data_dir / ACCOUNTS_FILE
    passwords = _passwords(path)
    staff = [
        (Role.ADMIN, "13800000001", "团委管理员"),
        (Role.MATCHMAKER, "13800000002", "红娘李姐"),
    ]
    people = demo_personas(settings, members)
    kernel = build_kernel(settings)
    logins = []
    async with connected(settings):
        for role, phone, name in staff:
            if await accounts.find_by_phone(kernel.cipher, phone) is None:
                await accounts.create_user(
                    kernel.cipher,
                    phone=phone,
                    password=passwords[role.value],
                    role=role,
                    display_name=name,
                )
            logins.append(DemoLogin(role.value, phone, passwords[role.value], name))
        member_logins = [
            DemoLogin(
                Role.MEMBER.value, f"139{index:08d}", passwords[Role.MEMBER.value], _nickname(index)
            )
            for index in range(1, len(people) + 1)
        ]
        for batch in range(0, len(people), 20):
            await asyncio.gather(
                *(
                    _seed_member(kernel, person, login.phone, login.password, login.name)
                    for person, login in zip(
                        people[batch : batch + 20], member_logins[batch : batch + 20], strict=True
                    )
                )
            )
        logins += member_logins
        await kernel.close()
    path.write_text(json.dumps([asdict(login) for login in logins], ensure_ascii=False, indent=1))
    path.chmod(0o600)
    return logins


def banner(url: str, logins: list[DemoLogin], settings: Settings) -> str:
    staff = [login for login in logins if login.role != Role.MEMBER]
    members = [login for login in logins if login.role == Role.MEMBER]
    shown = [*staff, *members[2:5], members[0]] if len(members) > 2 else [*staff, *members]
    lines = [f"Qingyuan demo is running at {url}", "Demo logins (phone / password):"]
    lines += [
        f"  {login.role:<10} {login.phone} / {login.password}  {login.name}" for login in shown
    ]
    if len(members) > 2:
        lines.append(f"  ({members[0].phone} is a married persona: a rejected verification)")
    lines.append(f"All {len(logins)} demo logins: {settings.data_dir / ACCOUNTS_FILE}")
    return "\n".join(lines)
