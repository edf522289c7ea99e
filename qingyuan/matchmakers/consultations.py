"""Matchmaker consultations: 1:1 slots a matchmaker offers and one verified member books.

Booking is one conditional UPDATE (`booked_by IS NULL`), so two members pressing at once
cannot both get the slot; a member holds at most one upcoming booking per matchmaker.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.timezone import now

from qingyuan.matchmakers.models import ConsultationSlot
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.verification.status import ensure_verified


async def offer_slot(
    matchmaker: User, starts_at: datetime, ends_at: datetime, place: str
) -> ConsultationSlot:
    """A free slot; `place` is not blank, at most 120 characters (the route's `OfferSlot`)."""
    errors = {}
    if starts_at <= now():
        errors["starts_at"] = _("Choose a time in the future.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if errors:
        raise ValidationFailed(fields=errors)
    return await ConsultationSlot.create(
        matchmaker=matchmaker, starts_at=starts_at, ends_at=ends_at, place=place.strip()
    )


async def free_slots() -> list[ConsultationSlot]:
    return await ConsultationSlot.filter(booked_by_id__isnull=True, starts_at__gt=now()).order_by(
        "starts_at"
    )


async def book(member: User, slot_id: int) -> ConsultationSlot:
    await ensure_verified(member)
    slot = await ConsultationSlot.get_or_none(id=slot_id, starts_at__gt=now())
    if slot is None:
        raise NotFound()
    if slot.booked_by_id == member.id:
        return slot
    if await ConsultationSlot.exists(
        matchmaker_id=slot.matchmaker_id, booked_by_id=member.id, starts_at__gt=now()
    ):
        raise Conflict(_("You already have a consultation booked with this matchmaker."))
    taken = await ConsultationSlot.filter(id=slot_id, booked_by_id__isnull=True).update(
        booked_by_id=member.id, booked_at=now()
    )
    if not taken:
        raise Conflict(_("Someone else has just booked this time."))
    await slot.refresh_from_db()
    return slot


async def cancel_booking(member: User, slot_id: int) -> None:
    """Give the slot back (idempotent)."""
    await ConsultationSlot.filter(id=slot_id, booked_by_id=member.id).update(
        booked_by_id=None, booked_at=None
    )


async def seed_slots(matchmaker: User, today: date, zone: ZoneInfo) -> None:
    """For `qingyuan demo`: a fortnight of afternoon slots, every other day."""
    for day in range(1, 15, 2):
        starts = datetime.combine(today + timedelta(days=day), time(15), tzinfo=zone)
        await offer_slot(
            matchmaker, starts, starts + timedelta(minutes=45), "团市委青年之家 红娘咨询室"
        )
