"""Actions: every state change is one typed `do_*` function that runs in one transaction,
writes its audit row and registers its side effects to run after the commit.

The pattern (after zulip's `zerver/actions/`)::

    async def do_suspend_account(kernel, user, *, actor, reason) -> None:
        async with actions.transaction():
            user.is_active = False
            await user.save(update_fields=["is_active"])
            await audit.record(actor, AuditAction.ACCOUNT_SUSPENDED, target=user, reason=reason)
            actions.after_commit(partial(kernel.sessions.delete_all_for_user, user.id))

Routes, jobs and CLI commands call the same `do_*` function, so none of them can change the
state and forget a side effect, and none repeats one.

Why after the commit: a side effect reaches outside the database (Redis, sockets, files, the
job queue). Run inside the transaction, it could announce a change that then rolls back (a
socket told "revoked" for an account still active), or the outside world could look before the
commit and see the old rows (a job kicked for a row it cannot read yet). Run after a rollback,
it would act on a change that never happened, so it does not run then at all.

Tortoise has no on-commit hook (Django's `transaction.on_commit` is what zulip uses), so
`transaction()` keeps one: a context variable holds the effects registered inside the outermost
`transaction()` block of this task, and they run in order once that block commits. A nested
`transaction()` (a savepoint) keeps its own list and hands it to the enclosing block when it
succeeds, or drops it when it rolls back, so an effect runs exactly when its change is kept.
A context variable rather than an argument: services deep in an action register effects
without every function on the way passing a collector, and concurrent requests (one task
each) never see each other's lists. Tasks started inside a block copy the context and so
register into the same block.

`after_rollback` registers the undoing of work done before the transaction that the database
cannot undo (a photo file written before its row).

An effect that fails after the commit is logged and the remaining effects still run: the change
is committed, and an error would make the caller believe it was not (and retry it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from babel.support import LazyProxy
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from qingyuan.platform.i18n import gettext_lazy as _

log = logging.getLogger(__name__)

Effect = Callable[[], Awaitable[object]]


class AuditAction(StrEnum):
    """What an audit row says happened: `<thing>.<past participle>`, one tense for all.

    The value is what the audit table stores (and `/api/v1/admin/audit` returns); the audit
    page shows `AUDIT_ACTION_TEXT` instead, in the reader's language. Renaming a value needs a
    data migration of the stored rows (see platform/migrations/0003_audit_action_past_tense.py).
    """

    ACCOUNT_CREATED = "account.created"
    ACCOUNT_SUSPENDED = "account.suspended"
    ACCOUNT_UNSUSPENDED = "account.unsuspended"
    JOB_FAILED = "job.failed"
    MEMBER_REGISTERED = "member.registered"
    MEMBER_UNMASKED = "member.unmasked"
    VERIFICATION_VERIFIED = "verification.verified"
    VERIFICATION_REJECTED = "verification.rejected"
    VERIFICATION_MARKED_PENDING = "verification.marked_pending"
    VERIFICATION_APPEALED = "verification.appealed"
    VERIFICATION_APPEAL_APPROVED = "verification.appeal_approved"
    VERIFICATION_APPEAL_UPHELD = "verification.appeal_upheld"
    VERIFICATION_CONSENT_WITHDRAWN = "verification.consent_withdrawn"
    VERIFICATION_DEPARTMENT_MISBEHAVED = "verification.department_misbehaved"
    PROFILE_PHOTO_CHANGED = "profile.photo_changed"
    MEMBER_BLOCKED = "member.blocked"
    REPORT_MESSAGES_VIEWED = "report.messages_viewed"
    REPORT_DISMISSED = "report.dismissed"
    REPORT_WARNED = "report.warned"
    REPORT_SUSPENDED = "report.suspended"
    MATCHMAKER_ASSIGNED = "matchmaker.assigned"
    INTRODUCTION_CREATED = "introduction.created"
    ACTIVITY_CREATED = "activity.created"
    ACTIVITY_UPDATED = "activity.updated"
    ACTIVITY_CANCELLED = "activity.cancelled"
    ACTIVITY_CHECKED_IN = "activity.checked_in"
    ACTIVITY_ATTENDANCE_SET = "activity.attendance_set"
    ACTIVITY_ATTENDEES_EXPORTED = "activity.attendees_exported"
    ACTIVITY_SHIFT_ADDED = "activity.shift_added"
    ACTIVITY_VOLUNTEER_ASSIGNED = "activity.volunteer_assigned"
    ACTIVITY_VOLUNTEER_UNASSIGNED = "activity.volunteer_unassigned"


# What the audit page shows for each action (a test fails when a member has no entry here, or
# its text no zh-CN translation).
AUDIT_ACTION_TEXT: dict[AuditAction, LazyProxy] = {
    AuditAction.ACCOUNT_CREATED: _("Account created"),
    AuditAction.ACCOUNT_SUSPENDED: _("Account suspended"),
    AuditAction.ACCOUNT_UNSUSPENDED: _("Account suspension lifted"),
    AuditAction.JOB_FAILED: _("Background job failed"),
    AuditAction.MEMBER_REGISTERED: _("Member registered"),
    AuditAction.MEMBER_UNMASKED: _("Member's personal data unmasked"),
    AuditAction.VERIFICATION_VERIFIED: _("Verification passed"),
    AuditAction.VERIFICATION_REJECTED: _("Verification rejected"),
    AuditAction.VERIFICATION_MARKED_PENDING: _("Verification marked pending"),
    AuditAction.VERIFICATION_APPEALED: _("Verification appealed"),
    AuditAction.VERIFICATION_APPEAL_APPROVED: _("Appeal approved"),
    AuditAction.VERIFICATION_APPEAL_UPHELD: _("Appeal upheld (rejection kept)"),
    AuditAction.VERIFICATION_CONSENT_WITHDRAWN: _("Consent withdrawn"),
    AuditAction.VERIFICATION_DEPARTMENT_MISBEHAVED: _("Department answered wrongly"),
    AuditAction.PROFILE_PHOTO_CHANGED: _("Profile photo changed"),
    AuditAction.MEMBER_BLOCKED: _("Member blocked another member"),
    AuditAction.REPORT_MESSAGES_VIEWED: _("Reported messages viewed"),
    AuditAction.REPORT_DISMISSED: _("Report dismissed"),
    AuditAction.REPORT_WARNED: _("Report upheld with a warning"),
    AuditAction.REPORT_SUSPENDED: _("Report upheld with a suspension"),
    AuditAction.MATCHMAKER_ASSIGNED: _("Member assigned to a matchmaker"),
    AuditAction.INTRODUCTION_CREATED: _("Introduction made"),
    AuditAction.ACTIVITY_CREATED: _("Activity created"),
    AuditAction.ACTIVITY_UPDATED: _("Activity updated"),
    AuditAction.ACTIVITY_CANCELLED: _("Activity cancelled"),
    AuditAction.ACTIVITY_CHECKED_IN: _("Attendee checked in"),
    AuditAction.ACTIVITY_ATTENDANCE_SET: _("Attendance corrected"),
    AuditAction.ACTIVITY_ATTENDEES_EXPORTED: _("Attendee list exported"),
    AuditAction.ACTIVITY_SHIFT_ADDED: _("Volunteer shift added"),
    AuditAction.ACTIVITY_VOLUNTEER_ASSIGNED: _("Volunteer assigned to a shift"),
    AuditAction.ACTIVITY_VOLUNTEER_UNASSIGNED: _("Volunteer removed from a shift"),
}


def action_text(stored: str) -> str:
    """The audit page's text for a stored action; a value no member has (written by a newer
    release, say) is shown as stored rather than hidden."""
    try:
        return str(AUDIT_ACTION_TEXT[AuditAction(stored)])
    except ValueError:
        return stored


@dataclass
class _Block:
    """The effects registered inside one `transaction()` block."""

    committed: list[Effect] = field(default_factory=list)
    rolled_back: list[Effect] = field(default_factory=list)


_current: ContextVar[_Block | None] = ContextVar("qingyuan_action_block", default=None)


@asynccontextmanager
async def transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """One database transaction (a savepoint when nested) whose registered effects run after
    the outermost block commits, and not at all if it rolls back."""
    outer = _current.get()
    block = _Block()
    token = _current.set(block)
    try:
        async with in_transaction() as connection:
            yield connection
    except BaseException:
        _current.reset(token)
        # A savepoint's rollback undoes its own work only, whatever the enclosing block does.
        await _run(block.rolled_back, "after rollback")
        raise
    _current.reset(token)
    if outer is not None:
        outer.committed.extend(block.committed)
        outer.rolled_back.extend(block.rolled_back)
        return
    await _run(block.committed, "after commit")


def after_commit(effect: Effect) -> None:
    """Run `effect()` once the enclosing action's transaction has committed."""
    _block("after_commit").committed.append(effect)


def after_rollback(effect: Effect) -> None:
    """Run `effect()` if the enclosing action's transaction rolls back (undo work done outside
    the database before it, e.g. a file written)."""
    _block("after_rollback").rolled_back.append(effect)


def _block(caller: str) -> _Block:
    block = _current.get()
    if block is None:
        # Outside a transaction there is no commit to wait for: running the effect at once
        # would hide an action that forgot its transaction, so it is a programming error.
        raise RuntimeError(f"{caller}() outside actions.transaction()")
    return block


async def _run(effects: list[Effect], when: str) -> None:
    for effect in effects:
        try:
            await effect()
        except Exception:
            log.exception("A side effect %s failed: %r", when, effect)
