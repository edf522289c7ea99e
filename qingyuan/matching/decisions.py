"""Likes and passes on proposals; a mutual like opens a connection.

A decision is final: the same decision again is harmless (a double tap), a different one is
refused. Both decisions and the connection are written in one transaction under a row lock,
so two members liking each other at the same instant create exactly one connection.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.connections.models import Connection, ConnectionSource
from qingyuan.matching.models import Decision, Proposal
from qingyuan.platform.errors import Conflict, NotFound
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.notifications import notify


def side_of(proposal: Proposal, user_id: int) -> str:
    return "a" if proposal.a_id == user_id else "b"


async def decide(user_id: int, proposal_id: int, decision: Decision) -> Connection | None:
    """Record a like or pass; return the connection when it completes a mutual like."""
    async with in_transaction() as connection:
        proposal = (
            await Proposal.filter(id=proposal_id).select_for_update().using_db(connection).first()
        )
        if proposal is None or user_id not in (proposal.a_id, proposal.b_id):
            raise NotFound()
        side = side_of(proposal, user_id)
        existing = getattr(proposal, f"{side}_decision")
        if existing is not None:
            if existing != decision:
                raise Conflict(_("You have already decided on this match."))
            return await _connection_of(proposal)
        if proposal.expires_at <= now():
            raise Conflict(_("This match has expired."))
        setattr(proposal, f"{side}_decision", decision)
        setattr(proposal, f"{side}_decided_at", now())
        await proposal.save(using_db=connection)
        if proposal.a_decision == proposal.b_decision == Decision.LIKE:
            return await _connect(proposal)
    return None


async def _connect(proposal: Proposal) -> Connection:
    return await open_connection(
        proposal.a_id, proposal.b_id, ConnectionSource.MATCH, proposal_id=proposal.id
    )


async def open_connection(
    user_a: int, user_b: int, source: ConnectionSource, *, proposal_id: int | None = None
) -> Connection:
    """Connect two members, once: the one way a match, an introduction or an activity pick
    opens a chat. Connected already (another way, or concurrently) → that connection."""
    a_id, b_id = sorted((user_a, user_b))
    try:
        async with in_transaction():  # a savepoint: PostgreSQL aborts the outer one otherwise
            connection = await Connection.create(
                a_id=a_id, b_id=b_id, source=source, proposal_id=proposal_id
            )
    except IntegrityError:
        return await Connection.get(a_id=a_id, b_id=b_id)
    for user_id in (a_id, b_id):
        await notify(user_id, "connection.created", connection_id=connection.id)
    return connection


async def _connection_of(proposal: Proposal) -> Connection | None:
    return await Connection.get_or_none(a_id=proposal.a_id, b_id=proposal.b_id)


async def connections_of(user_id: int) -> list[Connection]:
    mine = await Connection.filter(a_id=user_id, ended_at__isnull=True).order_by("-created_at")
    theirs = await Connection.filter(b_id=user_id, ended_at__isnull=True).order_by("-created_at")
    return sorted([*mine, *theirs], key=lambda c: c.created_at, reverse=True)
