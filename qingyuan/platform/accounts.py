"""Accounts: creation, phone + password authentication, roles.

Phone numbers are personal data: stored encrypted and looked up by blind index only.
Staff accounts are made by `qingyuan createuser`, never by sign-up.
"""

from __future__ import annotations

import re

from tortoise.exceptions import IntegrityError
from tortoise.timezone import now

from qingyuan.platform import actions, audit, passwords
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Conflict, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User

PHONE_PURPOSE = "phone"
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
MIN_PASSWORD_LENGTH = 8


def normalise_phone(raw: str) -> str:
    """A mainland mobile number without separators or country code, or ValidationFailed."""
    phone = re.sub(r"[\s\-()]", "", raw or "")
    phone = phone.removeprefix("+86").removeprefix("0086")
    if not _MAINLAND_MOBILE.fullmatch(phone):
        raise ValidationFailed(fields={"phone": _("Enter an 11-digit mainland mobile number.")})
    return phone


def check_password_strength(password: str) -> None:
    """At least 8 characters with letters and digits: long enough, yet typeable on a phone."""
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or not re.search(r"[A-Za-z]", password)
        or not re.search(r"\d", password)
    ):
        raise ValidationFailed(
            fields={"password": _("Use at least 8 characters with both letters and digits.")}
        )


def phone_index(cipher: PIICipher, phone: str) -> str:
    return cipher.blind_index(phone, purpose=PHONE_PURPOSE)


def phone_of(cipher: PIICipher, user: User) -> str:
    return cipher.decrypt(user.phone_encrypted, purpose=PHONE_PURPOSE)


async def create_user(
    cipher: PIICipher, *, phone: str, password: str, role: Role, display_name: str = ""
) -> User:
    """Create an account; a phone already registered is a Conflict that names no one."""
    phone, password_hash = await _checked_credentials(phone, password)
    return await insert_user(
        cipher, phone=phone, password_hash=password_hash, role=role, display_name=display_name
    )


async def do_create_staff(
    cipher: PIICipher,
    *,
    phone: str,
    password: str,
    role: Role,
    display_name: str,
    actor: User | None,
    reason: str = "",
    **data: str,
) -> User:
    """A staff account (admin, matchmaker), audit-logged with who made it (`data`: ids and
    codes, e.g. the operator of `qingyuan createuser`)."""
    phone, password_hash = await _checked_credentials(phone, password)
    async with actions.transaction():
        user = await insert_user(
            cipher, phone=phone, password_hash=password_hash, role=role, display_name=display_name
        )
        await audit.record(
            actor, AuditAction.ACCOUNT_CREATED, target_type="user", target_id=user.id,
            reason=reason, role=role.value, **data,
        )  # fmt: skip
    return user


async def _checked_credentials(phone: str, password: str) -> tuple[str, str]:
    """The normalised phone and the password's hash, or ValidationFailed. Hashing takes tens
    of milliseconds: done before any transaction opens."""
    phone = normalise_phone(phone)
    check_password_strength(password)
    return phone, await passwords.hash_password(password)


async def insert_user(
    cipher: PIICipher, *, phone: str, password_hash: str, role: Role, display_name: str = ""
) -> User:
    """The insert alone, for callers that hashed the password before opening a transaction
    (hashing takes tens of milliseconds; on SQLite a transaction holds the only connection)."""
    try:
        return await User.create(
            role=role,
            phone_encrypted=cipher.encrypt(phone, purpose=PHONE_PURPOSE),
            phone_index=phone_index(cipher, phone),
            display_name=display_name,
            password_hash=password_hash,
        )
    except IntegrityError as exc:
        raise Conflict(_("This phone number cannot be registered.")) from exc


async def find_by_phone(cipher: PIICipher, phone: str) -> User | None:
    return await User.get_or_none(phone_index=phone_index(cipher, phone))


async def authenticate(cipher: PIICipher, phone: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost whether or not it exists)."""
    user = await find_by_phone(cipher, phone)
    if not await passwords.verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.is_active:
        return None
    user.last_login_at = now()
    update = ["last_login_at"]
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
        update.append("password_hash")
    await user.save(update_fields=update)
    return user
