"""Who is connected with whom: opening a connection (the one way a match, an introduction or
an activity pick opens a chat), and the pairs other parts must respect (the matcher never
proposes a connected or blocked pair again)."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from qingyuan.connections.models import Block, Connection, ConnectionSource
from qingyuan.platform.notifications import notify


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


async def connection_between(user_a: int, user_b: int) -> Connection | None:
    """The pair's connection, open or ended."""
    a_id, b_id = sorted((user_a, user_b))
    return await Connection.get_or_none(a_id=a_id, b_id=b_id)


async def connections_of(user_id: int) -> list[Connection]:
    """Open connections of `user_id` (either side), newest first, in one query."""
    query = Connection.filter(Q(a_id=user_id) | Q(b_id=user_id), ended_at__isnull=True)
    return await query.order_by("-created_at", "-id")


async def connected_and_blocked_pairs() -> list[tuple[int, int]]:
    """Every pair ever connected, and every block (blocker, blocked): pairs the matcher must
    not propose, in either order."""
    blocks = await Block.all().values_list("blocker_id", "blocked_id")
    connections = await Connection.all().values_list("a_id", "b_id")
    return [(a, b) for a, b in (*blocks, *connections)]
