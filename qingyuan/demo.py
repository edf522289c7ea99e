"""Demo data for `qingyuan demo`: staff, and members who are personas verified for real.

Members are fictitious citizens: `generate_personas` makes them, they are written once into
`<data dir>/mock-registry.jsonl` (the bundled personas included) where the in-process mock
departments find them, and every member goes through the real verification pipeline. A few
bundled personas (married, debtor) are members too, so the demo shows rejections.

Seeding is idempotent: accounts are found by their (blind-indexed) phone numbers and only the
missing ones are created; the registry and the passwords are kept from the first run. Every
login has its own password, hashed once at argon2's cheapest cost and upgraded to the
configured cost at the first login, so seeding 200 members takes seconds, not a minute.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from qingyuan.activities import Activity, Registration
from qingyuan.activities.seeding import seed_month
from qingyuan.matching import Profile, profiles
from qingyuan.matching.daily import run_day
from qingyuan.matching.photos import PHOTO_DIR
from qingyuan.matching.questions import INTEREST_TAGS, QUESTIONS
from qingyuan.matching.training import model_dir
from qingyuan.matchmakers import CareAssignment, consultations
from qingyuan.parts import build_kernel, build_services, connected
from qingyuan.platform import accounts
from qingyuan.platform.files import private_file, write_private
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import Role, User
from qingyuan.platform.passwords import hash_with_profile
from qingyuan.platform.settings import GENERATED_KEYS_FILE
from qingyuan.settings import Settings
from qingyuan.verification import Member, VerificationStatus
from qingyuan.verification.departments import (
    Person,
    generate_personas,
    load_registry,
    write_registry,
)
from qingyuan.verification.idnumber import age_on, parse_id_number
from qingyuan.verification.pipeline import DepartmentsPending, check_member
from qingyuan.verification.registration import Application, create_member
from qingyuan.verification.settings import verification_settings
from qingyuan.verification.wiring import VerificationServices

ACCOUNTS_FILE = "demo-accounts.json"
REGISTRY_FILE = "mock-registry.jsonl"
DATABASE_FILE = "qingyuan.sqlite3"
# What `reset` removes from the data directory: the database (with SQLite's side files), the
# development keys, the logins, the personas, and the photos and models of the demo's members.
DEMO_FILES = (
    DATABASE_FILE,
    f"{DATABASE_FILE}-wal",
    f"{DATABASE_FILE}-shm",
    f"{DATABASE_FILE}-journal",
    GENERATED_KEYS_FILE,
    ACCOUNTS_FILE,
    REGISTRY_FILE,
    PHOTO_DIR,
)
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


Progress = Callable[[str], None]
STAFF = (
    (Role.ADMIN, "13800000001", "团委管理员"),
    (Role.MATCHMAKER, "13800000002", "红娘李姐"),
)
# Members whose answers are committed together: one commit per answer kept SQLite waiting
# on the disk longer than the departments took to answer.
VERIFIED_PER_COMMIT = 50
# The cost the demo hashes at: 200 members at the production cost took a minute of CPU; the
# first login at the configured cost rehashes (`accounts.authenticate`).
SEED_PROFILE = "cheapest"


def _quiet(message: str) -> None:
    """No progress output (tests and other callers of `seed`)."""


def _nickname(index: int) -> str:
    return f"{_NICKNAMES[index % len(_NICKNAMES)]}{index // len(_NICKNAMES) or ''}"


def _new_password() -> str:
    return f"qy-{secrets.token_hex(4)}-2026"


def demo_logins(path: Path, members: int) -> list[DemoLogin]:
    """Every demo login, each with its own password: generated once, then read from `path`.

    The file is written before any account exists, so an interrupted first run cannot leave
    accounts whose passwords nobody knows; it is created readable by its owner only, and keeps
    the logins of an earlier run with more members.
    """
    entries = json.loads(path.read_text()) if path.is_file() else []
    known = {entry["phone"]: entry["password"] for entry in entries}
    wanted = [(role.value, phone, name) for role, phone, name in STAFF] + [
        (Role.MEMBER.value, f"139{index:08d}", _nickname(index)) for index in range(1, members + 1)
    ]
    logins = [
        DemoLogin(role, phone, known.get(phone) or _new_password(), name)
        for role, phone, name in wanted
    ]
    if any(login.phone not in known for login in logins):
        phones = {login.phone for login in logins}
        kept = [entry for entry in entries if entry["phone"] not in phones]
        text = json.dumps([*map(asdict, logins), *kept], ensure_ascii=False, indent=1)
        write_private(path, text)
    return logins


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


async def _users_by_phone(kernel: Kernel, logins: list[DemoLogin]) -> dict[str, User]:
    """The demo accounts that exist already, in one query (blind indexes, no decryption)."""
    by_index = {accounts.phone_index(kernel.cipher, login.phone): login.phone for login in logins}
    users = await User.filter(phone_index__in=list(by_index))
    return {by_index[user.phone_index]: user for user in users}


async def _seed_staff(kernel: Kernel, staff: list[DemoLogin], existing: dict[str, User]) -> None:
    for login, (role, _, _) in zip(staff, STAFF, strict=True):
        if login.phone not in existing:
            existing[login.phone] = await accounts.insert_user(
                kernel.cipher,
                phone=login.phone,
                password_hash=hash_with_profile(SEED_PROFILE, login.password),
                role=role,
                display_name=login.name,
            )


async def _seed_members(
    kernel: Kernel,
    people: list[Person],
    logins: list[DemoLogin],
    existing: dict[str, User],
    progress: Progress,
) -> None:
    """Register the missing members as the registration form does, each with a cheap hash."""
    policy = verification_settings(kernel.settings).consent_policy_version
    missing = [(p, x) for p, x in zip(people, logins, strict=True) if x.phone not in existing]
    if not missing:
        return
    progress(f"Registering {len(missing)} demo members…")
    async with in_transaction():  # one commit, not one per member
        for person, login in missing:
            application = Application(
                login.phone, login.password, person.name, parse_id_number(person.id_number)
            )
            user, _ = await create_member(
                kernel.cipher,
                application,
                policy,
                password_hash=hash_with_profile(SEED_PROFILE, login.password),
            )
            user.display_name = login.name
            await user.save(update_fields=["display_name"])
            existing[login.phone] = user


async def _verify_members(
    services: VerificationServices, users: list[User], progress: Progress
) -> None:
    """Every member with open checks asks the six departments (at once), a batch of members
    per commit. Members go one after another: a check takes the member's row lock in a nested
    transaction, and savepoints of one connection cannot interleave."""
    pending = Member.filter(user_id__in=[u.id for u in users], status=VerificationStatus.PENDING)
    waiting = [member.id for member in await pending.order_by("id")]
    if not waiting:
        return
    progress(f"Verifying {len(waiting)} members with the six mock departments…")
    for start in range(0, len(waiting), VERIFIED_PER_COMMIT):
        batch = waiting[start : start + VERIFIED_PER_COMMIT]
        async with in_transaction():
            for member_id in batch:
                with contextlib.suppress(DepartmentsPending):  # the worker's sweep finishes it
                    await check_member(services, member_id)
        progress(f"  {start + len(batch)}/{len(waiting)} members checked")
    counts = Counter(member.status.value for member in await Member.filter(id__in=waiting))
    progress("  " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))


async def _seed_profiles(
    people: list[Person], logins: list[DemoLogin], existing: dict[str, User], progress: Progress
) -> None:
    """Profiles and questionnaires for verified members who have none, in one transaction."""
    users = {login.phone: existing[login.phone] for login in logins}
    verified = set(
        cast(
            list[int],  # Tortoise types flat values_list rows as tuples
            await Member.filter(
                user_id__in=[u.id for u in users.values()], status=VerificationStatus.VERIFIED
            ).values_list("user_id", flat=True),
        )
    )
    with_profile = set(
        cast(
            list[int],
            await Profile.filter(user_id__in=list(verified)).values_list("user_id", flat=True),
        )
    )
    missing = verified - with_profile
    todo = [
        (users[login.phone], person, login.name)
        for person, login in zip(people, logins, strict=True)
        if users[login.phone].id in missing
    ]
    if not todo:
        return
    progress(f"Writing {len(todo)} profiles and questionnaires…")
    async with in_transaction():
        for user, person, nickname in todo:
            await _seed_profile(user, person, nickname)


async def seed(settings: Settings, *, members: int, progress: Progress = _quiet) -> list[DemoLogin]:
    """Create whatever of the demo does not exist yet; return every demo login.

    Each step finds what an earlier (possibly interrupted) run left and does only the rest,
    so a second start costs a few queries.
    """
    people = demo_personas(settings, members)
    logins = demo_logins(settings.data_dir / ACCOUNTS_FILE, len(people))
    staff, member_logins = logins[: len(STAFF)], logins[len(STAFF) :]
    services = build_services(build_kernel(settings))
    kernel = services.kernel
    async with connected(settings):
        try:
            existing = await _users_by_phone(kernel, logins)
            await _seed_staff(kernel, staff, existing)
            await _seed_members(kernel, people, member_logins, existing, progress)
            member_users = [existing[login.phone] for login in member_logins]
            await _verify_members(services.verification, member_users, progress)
            await _seed_profiles(people, member_logins, existing, progress)
            await _run_match(kernel, progress)
            admin, matchmaker = (existing[login.phone] for login in staff)
            if not await Activity.exists():
                progress("Seeding a month of activities, volunteer shifts and sign-ups…")
                added = await seed_month(settings, admin, matchmaker, member_users)
                zone = ZoneInfo(settings.timezone)
                await consultations.seed_slots(matchmaker, settings.local_today(), zone)
                progress(f"  {added} activities, {await Registration.all().count()} sign-ups")
            for user in member_users[:8]:
                await CareAssignment.get_or_create(matchmaker_id=matchmaker.id, member_id=user.id)
        finally:
            await services.aclose()
    return logins


async def _run_match(kernel: Kernel, progress: Progress) -> None:
    """Today's match, for real; `run_day` is idempotent, so a later start only reads it."""
    progress("Running today's match…")
    figures = await run_day(kernel, kernel.settings.local_today())
    progress(
        f"  {figures['eligible']} eligible members, {figures['proposed_pairs']} new pairs "
        f"proposed ({figures['seconds']} s)"
    )


class ResetRefused(Exception):
    """`reset` found something that is not the demo's own data; nothing was removed."""


def reset(settings: Settings) -> list[Path]:
    """Remove the demo's data from its data directory, so that the next `seed` starts anew.

    Only the demo's own files go, and only when the data directory is the demo's: an SQLite
    database there, never one elsewhere (QINGYUAN_DATABASE_URL), never in production, and
    never a database that holds no demo logins (someone's development data).
    """
    database = settings.data_dir / DATABASE_FILE
    if settings.is_production:
        raise ResetRefused("--reset refuses to run with QINGYUAN_ENV=production.")
    if settings.database_url != f"sqlite://{database}":
        raise ResetRefused(
            "--reset removes only the demo's own SQLite database in the data directory "
            f"({settings.data_dir}), and QINGYUAN_DATABASE_URL points elsewhere."
        )
    if database.exists() and not (settings.data_dir / ACCOUNTS_FILE).exists():
        raise ResetRefused(
            f"{database} holds no demo logins ({ACCOUNTS_FILE}): it was not made by "
            "`qingyuan demo`, so --reset leaves it alone."
        )
    removed = []
    for path in [*(settings.data_dir / name for name in DEMO_FILES), model_dir(settings)]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


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
