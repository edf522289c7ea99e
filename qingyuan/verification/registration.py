"""Real-name registration: validate everything, record consent, create the member, start checks.

Every field is validated before anything is written, and all problems are reported at once.
Duplicates (phone or ID number already registered) get one and the same answer, so the form
cannot be used to find out whether someone is a member.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis.exceptions import RedisError
from taskiq.exceptions import SendTaskError
from tortoise.exceptions import IntegrityError

from qingyuan.platform import accounts, actions, audit, ratelimit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Conflict, RateLimited, UserError, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.jobs import kick
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import Role, User
from qingyuan.platform.passwords import hash_password
from qingyuan.verification.idnumber import (
    IdNumber,
    IneligibleAge,
    InvalidIdNumber,
    check_age_window,
    parse_id_number,
)
from qingyuan.verification.models import CheckStatus, Consent, DepartmentCheck, Member
from qingyuan.verification.protocol import DEPARTMENTS
from qingyuan.verification.settings import verification_settings

ID_PURPOSE = "id_number"
NAME_PURPOSE = "real_name"
CONSENT_PURPOSES = ("sensitive_personal_information", "matching")
CHECK_JOB = "verification.check_member"
logger = logging.getLogger(__name__)
_REAL_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{1,15}(·[\u3400-\u4dbf\u4e00-\u9fff]{1,15})*")


@dataclass(frozen=True)
class Application:
    phone: str
    password: str
    real_name: str
    id_number: IdNumber


def _id_number_message(error: InvalidIdNumber) -> str:
    return {
        "format": _("Enter the 18-character ID number; only the last character may be X."),
        "region": _("The first six digits are not a valid region code."),
        "birth_date": _("The birth date in this ID number is not a real date."),
        "checksum": _("This ID number does not add up. Please check it for typos."),
    }.get(error.code, _("This is not a valid ID number."))


def _age_message(error: IneligibleAge) -> str:
    if error.code == "too_young":
        return _(
            "Members must be of legal marriage age: at least %(limit)d for you.", limit=error.limit
        )
    return _("Registration is open to people up to %(limit)d years old.", limit=error.limit)


def validate(kernel: Kernel, body: dict[str, Any]) -> Application:
    """Check every field of a registration; ValidationFailed names each faulty field."""
    errors: dict[str, str] = {}
    text = {
        name: value if isinstance(value := body.get(name), str) else ""
        for name in ("phone", "password", "real_name", "id_number")
    }
    for name, value in text.items():
        if not value:
            errors[name] = _("This field is required.")
    phone = _collect(errors, "phone", lambda: accounts.normalise_phone(text["phone"]))
    _collect(errors, "password", lambda: accounts.check_password_strength(text["password"]))
    real_name = text["real_name"].strip()
    if real_name and not _REAL_NAME.fullmatch(real_name):
        errors["real_name"] = _("Enter your name exactly as on your ID card, in Chinese.")
    id_number = _parse_id(kernel, text["id_number"], errors) if text["id_number"] else None
    consents = body.get("consents")
    if not isinstance(consents, dict) or not all(consents.get(p) is True for p in CONSENT_PURPOSES):
        errors["consents"] = _("Both consents are needed before we can verify you.")
    if errors or phone is None or id_number is None:  # each None has its error recorded
        raise ValidationFailed(fields=errors)
    return Application(phone, text["password"], real_name, id_number)


def _collect(errors: dict[str, str], field: str, check: Any) -> Any:
    if field in errors:
        return None
    try:
        return check()
    except UserError as error:
        errors[field] = error.fields.get(field, error.message)
        return None


def _parse_id(kernel: Kernel, raw: str, errors: dict[str, str]) -> IdNumber | None:
    config = verification_settings(kernel.settings)
    try:
        parsed = parse_id_number(raw)
        check_age_window(parsed, today=kernel.settings.local_today(), max_age=config.max_member_age)
    except InvalidIdNumber as error:
        errors["id_number"] = _id_number_message(error)
        return None
    except IneligibleAge as error:
        errors["id_number"] = _age_message(error)
        return None
    return parsed


async def register(kernel: Kernel, body: dict[str, Any], client_ip: str) -> tuple[User, Member]:
    """Create a member from a registration body, then queue the department checks."""
    config = verification_settings(kernel.settings)
    limit = await ratelimit.hit(
        kernel.redis, f"register-ip:{client_ip}", config.registration_limit_ip
    )
    if not limit.allowed:
        raise RateLimited(limit.retry_after)
    application = validate(kernel, body)
    async with actions.transaction():
        user, member = await create_member(kernel.cipher, application, config.policy_version)
        actions.after_commit(partial(_start_checks, kernel, member.id))
    return user, member


async def _start_checks(kernel: Kernel, member_id: int) -> None:
    """Queue the member's checks; if the queue is unreachable, the sweep starts them instead.

    Runs after the member's commit (a job kicked earlier could look for a member not there
    yet). The member is committed by now, so a failure here must not answer the registration with an
    error: a retry would then find the phone number taken. The sweep (every 5 minutes) picks up
    every member with a check nobody has tried yet.
    """
    try:
        await kick(kernel.broker, CHECK_JOB, member_id)
    except (SendTaskError, RedisError, OSError) as error:
        logger.warning(
            "checks of member %s not queued (%s); the sweep will start them",
            member_id,
            type(error).__name__,
        )


async def create_member(
    cipher: PIICipher,
    application: Application,
    policy_version: str,
    *,
    password_hash: str | None = None,
) -> tuple[User, Member]:
    """Account, member, consents and pending checks in one transaction, audited.

    `password_hash` is the application's password hashed already: the demo seeds hashes at a
    cheap cost that the member's first login upgrades (`accounts.authenticate`).
    """
    id_index = cipher.blind_index(application.id_number.value, purpose=ID_PURPOSE)
    duplicate = Conflict(
        _(
            "This phone number or ID number cannot be registered again. "
            "If you already have an account, please log in."
        )
    )
    if await Member.exists(id_number_index=id_index) or await accounts.find_by_phone(
        cipher, application.phone
    ):
        raise duplicate
    if password_hash is None:  # slow: not inside the transaction
        password_hash = await hash_password(application.password)
    try:
        async with actions.transaction():
            user = await accounts.insert_user(
                cipher, phone=application.phone, password_hash=password_hash, role=Role.MEMBER
            )
            member = await Member.create(
                user=user,
                real_name_encrypted=cipher.encrypt(application.real_name, purpose=NAME_PURPOSE),
                id_number_encrypted=cipher.encrypt(application.id_number.value, purpose=ID_PURPOSE),
                id_number_index=id_index,
                birth_date=application.id_number.birth_date,
                gender=application.id_number.gender,
            )
            for purpose in CONSENT_PURPOSES:
                await Consent.create(member=member, purpose=purpose, policy_version=policy_version)
            for department in DEPARTMENTS:
                await DepartmentCheck.create(
                    member=member, department=department, status=CheckStatus.PENDING
                )
            await audit.record(
                user,
                AuditAction.MEMBER_REGISTERED,
                target_type="member",
                target_id=member.id,
                policy_version=policy_version,
            )
    except (IntegrityError, Conflict) as error:  # a concurrent duplicate lost the race
        raise duplicate from error
    return user, member
