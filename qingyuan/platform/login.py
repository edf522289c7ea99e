"""Logging in and out: rate limits, credential check, a fresh session, the audit trail.

Limits count failed attempts per account (by blind index, never the phone number) and all
attempts per client address, each a setting. A wrong phone and a wrong password get the same
answer, so the form does not reveal who has an account.
"""

from __future__ import annotations

from qingyuan.platform import accounts, ratelimit
from qingyuan.platform.errors import RateLimited, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import User
from qingyuan.platform.sessions import Session


async def log_in(
    kernel: Kernel, phone: str, password: str, client_ip: str, previous: Session | None = None
) -> tuple[User, Session]:
    """Check the credentials and open a new session; the `previous` one of this browser ends."""
    settings = kernel.settings
    by_ip = await ratelimit.hit(kernel.redis, f"login-ip:{client_ip}", settings.rate_login_ip)
    if not by_ip.allowed:
        raise RateLimited(by_ip.retry_after)
    phone = accounts.normalise_phone(phone)
    account_bucket = f"login-account:{accounts.phone_index(kernel.cipher, phone)}"
    by_account = await ratelimit.peek(kernel.redis, account_bucket, settings.rate_login_account)
    if not by_account.allowed:
        raise RateLimited(by_account.retry_after)
    user = await accounts.authenticate(kernel.cipher, phone, password)
    if user is None:
        await ratelimit.hit(kernel.redis, account_bucket, settings.rate_login_account)
        raise ValidationFailed(_("The phone number or password is not correct."))
    await ratelimit.reset(kernel.redis, account_bucket)
    await log_out(kernel, previous)
    return user, await kernel.sessions.create(user.id, user.role)


async def log_out(kernel: Kernel, session: Session | None) -> None:
    if session is not None:
        await kernel.sessions.delete(session)
