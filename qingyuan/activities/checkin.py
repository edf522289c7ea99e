"""Check-in at the door: a signed QR token or a short typed code, one entry per seat.

The QR token is `QY1.<registration id>.<signature>`: an HMAC-SHA256 (truncated to 128 bits)
of the registration id under the check-in key from settings. It carries no personal data, and
it cannot be forged or altered without the key. The typed code is 8 random characters from an
alphabet without look-alikes (no 0/O, 1/I/L), stored with the registration: 32^8 ≈ 10^12
codes, for a few thousand seats, so guessing one is hopeless and volunteers can read it out.

Only admins, and volunteers with a shift at the ticket's activity, check members in. A check-in
is refused, with the reason, when the code is unknown or forged, the staff member has no shift
there, the seat is not a confirmed one, the activity is another one than the volunteer's, it is
cancelled, outside the window (from `QINGYUAN_CHECKIN_OPENS_MINUTES` before the start until the
end) or the member has already entered. A typed code is guessable, so a typed code of another
activity, or of one the volunteer is not staffing, is refused exactly like a code never issued
(a refusal must not confirm that a code exists), and each staff member has
`QINGYUAN_RATE_CHECKIN_CODE` (20/900) wrong typed codes per window. A QR token cannot be
guessed or forged, so its refusals may say what is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import qrcode
import qrcode.constants
import qrcode.image.svg
from redis.asyncio import Redis
from tortoise.timezone import now

from qingyuan.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Registration,
    RegistrationStatus,
    ShiftAssignment,
)
from qingyuan.activities.settings import EventSettings
from qingyuan.platform import actions, audit, ratelimit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import Conflict, RateLimited
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TOKEN_PREFIX = "QY1."  # noqa: S105 (a format marker, not a secret)
_TYPED = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _signature(key: bytes, registration_id: int) -> str:
    digest = hmac.new(key, f"checkin:{registration_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def qr_token(config: EventSettings, registration_id: int) -> str:
    """What the ticket's QR code encodes."""
    return f"{TOKEN_PREFIX}{registration_id}.{_signature(config.checkin_key, registration_id)}"


def qr_svg(token: str) -> str:
    """The token as an inline SVG QR code (error correction M: survives a cracked screen)."""
    image = qrcode.make(
        token,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


def format_code(code: str) -> str:
    """`ABCD-EFGH`: easier to read out and type in two halves."""
    return f"{code[:4]}-{code[4:]}"


class CheckInRefused(Conflict):
    """A refused check-in; `reason` is the machine code the scan page shows a message for."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = f"checkin_{reason}"


def refusal(reason: str, *, opens_minutes: int = 30) -> CheckInRefused:
    messages = {
        "unknown": _("This code is not valid. Please check it and try again."),
        "forged": _("This QR code was not issued by Qingyuan."),
        "other_activity": _("This ticket is for another activity."),
        "not_staffed": _(
            "You have no shift at this activity, so you cannot check members in there."
        ),
        "not_confirmed": _("This registration does not hold a seat (cancelled or waitlisted)."),
        "cancelled_activity": _("This activity has been cancelled."),
        "too_early": _(
            "Check-in has not opened yet: it opens %(minutes)d minutes before the start.",
            minutes=opens_minutes,
        ),
        "too_late": _("This activity has ended; check-in is closed."),
        "already": _("This ticket has already been used to enter."),
    }
    return CheckInRefused(reason, messages[reason])


async def find_ticket(config: EventSettings, raw: str) -> Registration:
    """The registration a scanned token or typed code names, or a refusal."""
    text = (raw or "").strip()
    if text.startswith(TOKEN_PREFIX):
        number, _sep, signature = text.removeprefix(TOKEN_PREFIX).partition(".")
        if not number.isdigit() or len(number) > 12:
            raise refusal("forged")
        if not hmac.compare_digest(signature, _signature(config.checkin_key, int(number))):
            raise refusal("forged")
        registration = await Registration.get_or_none(id=int(number))
    else:
        code = re.sub(r"[\s\-]", "", text).upper()
        if not _TYPED.fullmatch(code):
            raise refusal("unknown")
        registration = await Registration.get_or_none(code=code)
    if registration is None:
        raise refusal("unknown")
    return registration


@dataclass(frozen=True)
class CheckIn:
    registration: Registration
    activity: Activity


def check_window(config: EventSettings, activity: Activity, at: datetime) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise refusal("cancelled_activity")
    if at < activity.starts_at - timedelta(minutes=config.checkin_opens_minutes):
        raise refusal("too_early", opens_minutes=config.checkin_opens_minutes)
    if at > activity.ends_at:
        raise refusal("too_late")


async def may_check_in(staff: User, activity_id: int) -> bool:
    """Admins anywhere; a volunteer at an activity they have a shift at."""
    if staff.role == Role.ADMIN:
        return True
    return await ShiftAssignment.filter(
        volunteer_id=staff.id, shift__activity_id=activity_id
    ).exists()


async def _staffed_ticket(
    config: EventSettings, staff: User, raw: str, activity_id: int | None, *, typed: bool
) -> Registration:
    """The ticket, if this staff member may check it in (at the activity they chose)."""
    if activity_id is not None and not await may_check_in(staff, activity_id):
        raise refusal("not_staffed")
    registration = await find_ticket(config, raw)
    if activity_id is not None and registration.activity_id != activity_id:
        raise refusal("unknown" if typed else "other_activity")
    if not await may_check_in(staff, registration.activity_id):
        raise refusal("unknown" if typed else "not_staffed")
    return registration


async def _typed_attempt(
    config: EventSettings, redis: Redis, staff: User, raw: str, activity_id: int | None
) -> Registration:
    """`_staffed_ticket` for a typed code, counting each one refused as unknown."""
    bucket = f"checkin-code:{staff.id}"
    verdict = await ratelimit.hit(redis, bucket, config.code_attempts)
    if not verdict.allowed:
        raise RateLimited(
            verdict.retry_after,
            _("Too many wrong check-in codes. Please wait, or scan the QR code instead."),
        )
    try:
        registration = await _staffed_ticket(config, staff, raw, activity_id, typed=True)
    except CheckInRefused as refused:
        if refused.reason != "unknown":
            await ratelimit.give_back(redis, bucket)
        raise
    await ratelimit.give_back(redis, bucket)
    return registration


async def check_in(
    config: EventSettings,
    redis: Redis,
    staff: User,
    raw: str,
    *,
    activity_id: int | None = None,
    at: datetime | None = None,
) -> CheckIn:
    """Let one member in, once; the conditional update makes a double scan a refusal."""
    at = at or now()
    if (raw or "").strip().startswith(TOKEN_PREFIX):
        registration = await _staffed_ticket(config, staff, raw, activity_id, typed=False)
    else:
        registration = await _typed_attempt(config, redis, staff, raw, activity_id)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise refusal("not_confirmed")
    activity = await Activity.get(id=registration.activity_id)
    check_window(config, activity, at)
    async with actions.transaction():
        entered = await Registration.filter(id=registration.id, checked_in_at__isnull=True).update(
            checked_in_at=at, checked_in_by_id=staff.id, attendance=Attendance.ATTENDED
        )
        if not entered:
            raise refusal("already")
        await audit.record(
            staff,
            AuditAction.ACTIVITY_CHECKED_IN,
            target_type="registration",
            target_id=registration.id,
            activity_id=activity.id,
        )
    await registration.refresh_from_db()
    return CheckIn(registration, activity)
