"""Demo data for `qingyuan demo`: staff and members, seeded once, logins kept on disk.

Seeding is idempotent: accounts are found by their (blind-indexed) phone numbers and only
the missing ones are created, so running the demo twice duplicates nothing. The passwords
are generated on the first run and kept in `<data dir>/demo-accounts.json`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from qingyuan.platform import accounts
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.database import connected
from qingyuan.platform.models import Role
from qingyuan.platform.settings import Settings

ACCOUNTS_FILE = "demo-accounts.json"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = [
    "思远",
    "雨桐",
    "子涵",
    "浩然",
    "欣怡",
    "梓萱",
    "俊杰",
    "诗琪",
    "宇航",
    "佳怡",
    "一鸣",
    "晓雯",
    "博文",
    "静怡",
    "天佑",
    "若曦",
    "明轩",
    "可馨",
    "嘉豪",
    "语嫣",
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    phone: str
    password: str
    name: str


def _demo_people(members: int) -> list[tuple[Role, str, str]]:
    staff = [
        (Role.ADMIN, "13800000001", "团委管理员"),
        (Role.MATCHMAKER, "13800000002", "红娘李姐"),
    ]
    people = [
        (
            Role.MEMBER,
            f"139{index:08d}",
            _SURNAMES[index % len(_SURNAMES)] + _GIVEN[(index * 7) % len(_GIVEN)],
        )
        for index in range(1, members + 1)
    ]
    return staff + people


def _passwords(path: Path) -> dict[str, str]:
    """One password per role, generated on the first run and reused afterwards."""
    if path.is_file():
        return {entry["role"]: entry["password"] for entry in json.loads(path.read_text())}
    return {role.value: f"qy-{secrets.token_hex(4)}-2026" for role in Role}


async def seed(settings: Settings, *, members: int) -> list[DemoLogin]:
    """Create the demo accounts that do not exist yet; return every demo login."""
    path = settings.data_dir / ACCOUNTS_FILE
    passwords = _passwords(path)
    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    logins = []
    async with connected(settings):
        for role, phone, name in _demo_people(members):
            if await accounts.find_by_phone(cipher, phone) is None:
                await accounts.create_user(
                    cipher,
                    phone=phone,
                    password=passwords[role.value],
                    role=role,
                    display_name=name,
                )
            logins.append(DemoLogin(role.value, phone, passwords[role.value], name))
    path.write_text(json.dumps([asdict(login) for login in logins], ensure_ascii=False, indent=1))
    path.chmod(0o600)
    return logins


def banner(url: str, logins: list[DemoLogin], settings: Settings) -> str:
    shown = [login for login in logins if login.role != Role.MEMBER][:2]
    shown += [login for login in logins if login.role == Role.MEMBER][:3]
    lines = [f"Qingyuan demo is running at {url}", "Demo logins (phone / password):"]
    lines += [
        f"  {login.role:<10} {login.phone} / {login.password}  {login.name}" for login in shown
    ]
    lines.append(f"All {len(logins)} demo logins: {settings.data_dir / ACCOUNTS_FILE}")
    return "\n".join(lines)
