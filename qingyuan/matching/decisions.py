"""Likes and passes on proposals; a mutual like opens a connection.

A decision is final: the same decision again is harmless (a double tap), a different one is
refused. Both decisions and the connection are written in one transaction under a row lock,
so two members liking each other at the same instant create exactly one connection.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.connections import Connection, ConnectionSource
from qingyuan.connections.pairs import connection_between, open_connection
from qingyuan.matching.models import Decision, Proposal
from qingyuan.platform.errors import Conflict, NotFound
from qingyuan.platform.i18n import gettext as _


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
            return await connection_between(proposal.a_id, proposal.b_id)
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


async def were_proposed(user_a: int, user_b: int) -> bool:
    """Whether the two were ever proposed to each other (so they have seen each other)."""
    a_id, b_id = sorted((user_a, user_b))
    return await Proposal.exists(a_id=a_id, b_id=b_id)


async def passed_either_way(user_a: int, user_b: int) -> bool:
    """Whether either of the two ever passed on the other."""
    a_id, b_id = sorted((user_a, user_b))
    passed = Q(a_decision=Decision.PASS) | Q(b_decision=Decision.PASS)
    return await Proposal.filter(passed, a_id=a_id, b_id=b_id).exists()
