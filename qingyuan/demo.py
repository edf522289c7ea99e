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
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from qingyuan.events.seeding import seed_month
from qingyuan.matching import profiles
from qingyuan.matching.daily import run_day
from qingyuan.matching.models import Assignment
from qingyuan.matching.questions import INTEREST_TAGS, QUESTIONS
from qingyuan.platform import accounts
from qingyuan.platform.database import connected
from qingyuan.platform.files import private_file, write_private
from qingyuan.platform.kernel import Kernel, build_kernel
from qingyuan.platform.models import Role, User
from qingyuan.platform.settings import Settings
from qingyuan.verification.departments import (
    Person,
    generate_personas,
    load_registry,
    write_registry,
)
from qingyuan.verification.idnumber import age_on, parse_id_number
from qingyuan.verification.models import VerificationStatus
from qingyuan.verification.pipeline import DepartmentsPending, check_member
from qingyuan.verification.registration import Application, create_member
from qingyuan.verification.settings import verification_settings

ACCOUNTS_FILE = "demo-accounts.json"
REGISTRY_FILE = "mock-registry.jsonl"
PERSONA_SEED = 2026
# Bundled personas who join the demo as they are: rejected members to look at.
SHOWCASE = ("330106198806160932", "110105199310101266")  # married; dishonest debtor
_BIOS = [
    "周末喜欢去西湖边跑步，也爱窝在家里看电影。",
    "在杭州做产品经理，想认识一个能一起做饭的人。",
    "喜欢徒步和摄影，去过很多小城。",
    "慢热，但熟了很能聊。最近在学做咖啡。",
    "中学老师，喜欢读书和羽毛球。",
    "程序员，养了一只猫，周末常去爬山。",
    "喜欢剧本杀和桌游，希望找到一个聊得来的人。",
    "工作稳定，家人和睦，想认真谈一段感情。",
]
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
        citizens = [*bundled, *generate_personas(max(members, 1), PERSONA_SEED, today=today)]
        write_registry(citizens, private_file(path))  # names and ID numbers: owner only
    people = {person.id_number: person for person in load_registry(path)}
    generated = [p for p in people.values() if int(p.id_number[14:17]) >= 500][:members]
    return [people[number] for number in SHOWCASE] + generated


async def _seed_profile(user: User, person: Person, nickname: str) -> None:
    """A varied, plausible profile and questionnaire, the same on every run for this person."""
    rng = random.Random(person.id_number)
    identity = parse_id_number(person.id_number)
    age = age_on(identity.birth_date, date.today())
    city = int(person.hukou_region[:4])
    male = identity.gender == "male"
    await profiles.save_profile(
        user,
        {
            "nickname": nickname,
            "city": city if city in profiles.city_names() else 3301,
            "height_cm": rng.randint(165, 185) if male else rng.randint(155, 172),
            "bio": rng.choice(_BIOS),
            "interests": rng.sample(sorted(INTEREST_TAGS), rng.randint(3, 6)),
            "seek_gender": "female" if male else "male",
            "age_min": max(20, age - rng.randint(3, 6)),
            "age_max": min(60, age + rng.randint(3, 8)),
            "cities": [],
            "min_degree": rng.choice([0, 0, 2, 3]),
        },
    )
    answers = {}
    for question in QUESTIONS:
        options = len(question.options)
        answer = rng.randrange(options)
        accepted = sorted({answer, *rng.sample(range(options), rng.randint(0, options - 1))})
        answers[question.key] = {
            "answer": answer,
            "acceptable": accepted,
            "importance": rng.randint(1, 4),
        }
    await profiles.save_answers(user, answers)


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
        status = await check_member(kernel, member.id)
    except DepartmentsPending:
        return  # the worker's sweep finishes it once the server runs
    if status == VerificationStatus.VERIFIED:
        await _seed_profile(user, person, nickname)


async def _seed_activities(kernel: Kernel, member_phones: list[str]) -> None:
    """A month of activities, once; some members signed up (see events/seeding.py)."""
    admin = await accounts.find_by_phone(kernel.cipher, "13800000001")
    matchmaker = await accounts.find_by_phone(kernel.cipher, "13800000002")
    found = [await accounts.find_by_phone(kernel.cipher, phone) for phone in member_phones]
    assert admin is not None and matchmaker is not None
    await seed_month(kernel.settings, admin, matchmaker, [user for user in found if user])


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
        await run_day(kernel, kernel.settings.local_today())  # idempotent: once a day
        await _seed_activities(kernel, [login.phone for login in member_logins])
        await _assign_to_matchmaker(kernel, staff[1][1], member_logins[:8])
        await kernel.close()
    write_private(
        path, json.dumps([asdict(login) for login in logins], ensure_ascii=False, indent=1)
    )
    return logins


async def _assign_to_matchmaker(kernel: Kernel, phone: str, members: list[DemoLogin]) -> None:
    """Give the demo matchmaker a few members, so the console has someone to work with."""
    matchmaker = await accounts.find_by_phone(kernel.cipher, phone)
    for login in members:
        member = await accounts.find_by_phone(kernel.cipher, login.phone)
        await Assignment.get_or_create(matchmaker_id=matchmaker.id, member_id=member.id)


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
