"""Matchmakers (红娘): assigned members, consultation notes, and introductions.

An admin assigns members to a matchmaker; the matchmaker sees them masked, keeps notes of
consultations and introduces two of them with a note. An introduction respects what the daily
match respects: both verified, each fits the other's gender, age, city and degree
preferences, neither blocked nor passed on the other, not connected already. When both accept,
a connection opens (the same `open_connection` as a mutual like); one decline closes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from tortoise.expressions import Q
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.connections.models import Connection, ConnectionSource
from qingyuan.connections.safety import is_blocked
from qingyuan.matching.decisions import open_connection
from qingyuan.matching.models import Decision, Profile, Proposal
from qingyuan.matching.questions import DEGREE_LEVEL
from qingyuan.matchmakers.encrypted_columns import CONSULTATION_NOTE, INTRODUCTION_NOTE
from qingyuan.matchmakers.models import (
    CareAssignment,
    ConsultationNote,
    Introduction,
    IntroductionStatus,
)
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User
from qingyuan.platform.notifications import notify
from qingyuan.verification.facts import VerifiedFacts, verified_facts

NOTE_MAX = 1000


def _note(text: Any) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if not 1 <= len(text) <= NOTE_MAX:
        raise ValidationFailed(
            fields={"note": _("Write a note of 1 to %(n)d characters.", n=NOTE_MAX)}
        )
    return text


async def assign(admin: User, matchmaker_id: Any, member_id: Any) -> CareAssignment:
    """Put a member in a matchmaker's care (audit-logged, idempotent)."""
    matchmaker = await User.get_or_none(id=_id(matchmaker_id), role=Role.MATCHMAKER)
    member = await User.get_or_none(id=_id(member_id), role=Role.MEMBER)
    if matchmaker is None or member is None:
        raise ValidationFailed(_("Choose an existing matchmaker and member."))
    async with actions.transaction():
        assignment, created = await CareAssignment.get_or_create(
            matchmaker_id=matchmaker.id, member_id=member.id
        )
        if created:
            await audit.record(
                admin, AuditAction.MATCHMAKER_ASSIGNED, target_type="user", target_id=member.id,
                matchmaker_id=matchmaker.id,
            )  # fmt: skip
    return assignment


def _id(value: Any) -> int:
    """A user id from input, or 0 (no such user) for anything else, out-of-range included."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if 0 < number < 2**31 else 0


async def assigned_ids(matchmaker_id: int) -> list[int]:
    return cast(
        list[int],  # Tortoise types flat values_list rows as tuples
        await CareAssignment.filter(matchmaker_id=matchmaker_id)
        .order_by("member_id")
        .values_list("member_id", flat=True),
    )


async def _assigned(matchmaker_id: int, member_id: Any) -> int:
    """The member's id if assigned to this matchmaker; any other member is 404 to them."""
    member_id = _id(member_id)
    if not await CareAssignment.exists(matchmaker_id=matchmaker_id, member_id=member_id):
        raise NotFound()
    return member_id


def note_view(cipher: PIICipher, note: ConsultationNote) -> dict[str, Any]:
    """A consultation note as its matchmaker reads it: id, text (decrypted), created_at."""
    return {
        "id": note.id,
        "text": CONSULTATION_NOTE.open(cipher, note),
        "created_at": note.created_at,
    }


async def add_note(
    cipher: PIICipher, matchmaker: User, member_id: Any, text: Any
) -> dict[str, Any]:
    member_id = await _assigned(matchmaker.id, member_id)
    note = await CONSULTATION_NOTE.create(
        cipher, _note(text), matchmaker_id=matchmaker.id, member_id=member_id
    )
    return note_view(cipher, note)


async def notes_of(cipher: PIICipher, matchmaker_id: int, member_id: Any) -> list[dict[str, Any]]:
    """A member's consultation notes, newest first (404 unless the member is assigned)."""
    member_id = await _assigned(matchmaker_id, member_id)
    notes = ConsultationNote.filter(matchmaker_id=matchmaker_id, member_id=member_id)
    return [note_view(cipher, note) for note in await notes.order_by("-id")]


def _wants(profile: Profile, other: VerifiedFacts, other_city: int, day: date) -> bool:
    """Whether `other` meets `profile`'s gender sought, age range, minimum degree and cities:
    the rules of the daily match's hard filter (`candidates.compatible`), for one pair."""
    return (
        other.gender == profile.seek_gender
        and profile.age_min <= other.age(day) <= profile.age_max
        and DEGREE_LEVEL.get(other.degree, 0) >= profile.min_degree
        and (not profile.cities or other_city in profile.cities)
    )


async def _check_pair(a_id: int, b_id: int, day: date) -> None:
    """Refuse a pair the daily match would refuse, saying which rule (in general terms)."""
    facts = await verified_facts([a_id, b_id])
    profiles = {p.user_id: p for p in await Profile.filter(user_id__in=[a_id, b_id])}
    if len(facts) < 2 or len(profiles) < 2:
        raise ValidationFailed(_("Both members must be verified and have a profile."))
    a, b = profiles[a_id], profiles[b_id]
    if not (_wants(a, facts[b_id], b.city, day) and _wants(b, facts[a_id], a.city, day)):
        raise ValidationFailed(
            _("Their preferences (gender, age, city or degree) do not fit each other.")
        )
    lo, hi = sorted((a_id, b_id))
    passed = Proposal.filter(Q(a_decision=Decision.PASS) | Q(b_decision=Decision.PASS))
    if await is_blocked(a_id, b_id) or await passed.filter(a_id=lo, b_id=hi).exists():
        raise ValidationFailed(_("One of them has declined or blocked the other."))
    if await Connection.exists(a_id=lo, b_id=hi):
        raise Conflict(_("They are already connected."))
    if await Introduction.exists(a_id=lo, b_id=hi, status=IntroductionStatus.PENDING):
        raise Conflict(_("This introduction is already waiting for their answers."))


async def introduce(
    cipher: PIICipher, matchmaker: User, a_id: Any, b_id: Any, note: Any, day: date
) -> Introduction:
    """Introduce two assigned members with a note; both are notified."""
    a_id, b_id = await _assigned(matchmaker.id, a_id), await _assigned(matchmaker.id, b_id)
    if a_id == b_id:
        raise ValidationFailed(fields={"b_id": _("Choose two different members.")})
    text = _note(note)
    await _check_pair(a_id, b_id, day)
    lo, hi = sorted((a_id, b_id))
    async with actions.transaction():
        intro: Introduction = await INTRODUCTION_NOTE.create(
            cipher, text, matchmaker_id=matchmaker.id, a_id=lo, b_id=hi
        )
        await audit.record(
            matchmaker, AuditAction.INTRODUCTION_CREATED,
            target_type="introduction", target_id=intro.id, a_id=lo, b_id=hi,
        )  # fmt: skip
        for user_id in (lo, hi):
            await notify(user_id, "introduction.created", introduction_id=intro.id)
    return intro


async def respond(user_id: int, introduction_id: int, accept: Any) -> Introduction:
    """A member's answer. Both yes → a connection; one no → declined. Answers are final."""
    async with in_transaction():
        intro = await Introduction.filter(id=introduction_id).select_for_update().first()
        if intro is None or user_id not in (intro.a_id, intro.b_id):
            raise NotFound()
        if not isinstance(accept, bool):
            raise ValidationFailed(fields={"accept": _("Answer yes or no.")})
        if intro.status != IntroductionStatus.PENDING:
            raise Conflict(_("This introduction has already been answered."))
        side = "a" if intro.a_id == user_id else "b"
        setattr(intro, f"{side}_accepted", accept)
        if not accept:
            intro.status, intro.decided_at = IntroductionStatus.DECLINED, now()
        elif intro.a_accepted and intro.b_accepted:
            connection = await open_connection(
                intro.a_id, intro.b_id, ConnectionSource.INTRODUCTION
            )
            intro.status, intro.decided_at = IntroductionStatus.ACCEPTED, now()
            intro.connection_id = connection.id
        # Only the answer: writing back the note read here could undo a key rotation.
        await intro.save(
            update_fields=["a_accepted", "b_accepted", "status", "decided_at", "connection_id"]
        )
    return intro


async def introductions_for(user: User) -> list[Introduction]:
    """A member's introductions, or the ones a matchmaker made; newest first."""
    if user.role == Role.MATCHMAKER:
        query = Introduction.filter(matchmaker_id=user.id)
    else:
        query = Introduction.filter(Q(a_id=user.id) | Q(b_id=user.id))
    return await query.order_by("-id")


def introduction_json(cipher: PIICipher, intro: Introduction, viewer_id: int) -> dict[str, Any]:
    """What either side sees; a member sees their own answer and whom they were introduced to,
    not the other side's answer until the introduction is decided."""
    mine = None
    if viewer_id in (intro.a_id, intro.b_id):
        mine = intro.a_accepted if viewer_id == intro.a_id else intro.b_accepted
    return {
        "id": intro.id,
        "status": intro.status.value,
        "note": INTRODUCTION_NOTE.open(cipher, intro),
        "member_ids": [intro.a_id, intro.b_id],
        "other_id": intro.b_id if viewer_id == intro.a_id else intro.a_id,
        "my_answer": mine,
        "connection_id": intro.connection_id,
        "created_at": intro.created_at.isoformat(),
    }
