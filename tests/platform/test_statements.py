"""Precompiled statements (platform/statements.py) give what Tortoise's query builder gives,
on SQLite and (with -m integration) on PostgreSQL: the same model instances, field
conversions included, values passed as parameters, and the current transaction's view."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient
from tortoise.transactions import in_transaction

from qingyuan.platform import notifications, statements
from qingyuan.platform.models import Notification, User
from tests.conftest import run


def test_placeholders_become_numbered_on_postgresql() -> None:
    sql = "SELECT 1 FROM t WHERE a = ? AND b IN (?, ?)"
    assert statements._for_dialect(sql, "sqlite") == sql
    assert statements._for_dialect(sql, "postgres") == (
        "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3)"
    )
    assert statements.placeholders(3) == "?, ?, ?"
    assert statements.placeholders(0) == "?"  # `IN ()` is not SQL


def test_models_from_rows_equal_the_query_builders(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    run(client, notifications.notify, user.id, "match.proposed", day="2026-12-02")

    async def both() -> tuple[list[Notification], list[Notification]]:
        sql = (
            f'SELECT {statements.columns(Notification, "n")} FROM "platform_notification" n'  # noqa: S608
            " WHERE n.user_id = ?"
        )
        found = await statements.rows(Notification, sql, [user.id])
        built = await Notification.filter(user_id=user.id)
        return statements.models_from(Notification, found), built

    mine, built = run(client, both)
    assert [(n.id, n.user_id, n.kind, n.data, n.created_at, n.read_at) for n in mine] == [
        (n.id, n.user_id, n.kind, n.data, n.created_at, n.read_at) for n in built
    ]
    assert mine[0].data == {"day": "2026-12-02"}  # JSON decoded, not text


def test_a_value_is_a_parameter_never_sql(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    run(client, notifications.notify, user.id, "match.proposed")
    sql = 'SELECT COUNT(*) AS n FROM "platform_notification" WHERE kind = ?'
    assert run(client, statements.count, Notification, sql, ["x' OR '1'='1"]) == 0
    assert run(client, statements.count, Notification, sql, ["match.proposed"]) == 1


def test_statements_see_the_current_transaction(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    async def inside() -> int:
        async with in_transaction():
            await Notification.create(user_id=user.id, kind="match.proposed", data={})
            return await notifications.unread_count(user.id)

    assert run(client, inside) == 1
    assert run(client, notifications.unread_count, user.id) == 1
