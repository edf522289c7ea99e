"""Hand-written SQL for the reads every page makes, run through Tortoise's own connection.

Why: building a statement with Tortoise's query builder costs 0.3–1.5 ms of CPU (pypika
terms, queryset copies) for SQL that SQLite runs in 0.02–0.2 ms, and a member's page makes
several (bench/README.md, "Web"). The few statements on every page are written once here by
the part that owns the table; everything else keeps using the query builder.

Statements use `?` placeholders (SQLite's); on PostgreSQL they become `$1, $2, …` once per
distinct statement. Values are always parameters, never formatted into the text. Rows come
back as dicts; `models_from` turns them into model instances the way Tortoise's own select
does (`Model._init_from_db`), so field conversions (JSON, dates, enums, encrypted columns)
are Tortoise's.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)


@functools.lru_cache(maxsize=512)
def _for_dialect(sql: str, dialect: str) -> str:
    """`?` placeholders as the backend wants them (no statement here holds a literal `?`)."""
    if dialect != "postgres":
        return sql
    head, *rest = sql.split("?")
    return head + "".join(f"${number}{tail}" for number, tail in enumerate(rest, 1))


def placeholders(count: int) -> str:
    """`?, ?, ?` for an IN list of `count` values (at least one: `IN ()` is not SQL)."""
    return ", ".join("?" * max(count, 1))


async def rows(model: type[Model], sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run `sql` on the connection `model` lives on (the current transaction's, if any)."""
    db = model._meta.db
    return await db.execute_query_dict(_for_dialect(sql, db.capabilities.dialect), list(values))


@functools.cache
def columns(model: type[Model], alias: str, *, labelled: bool = False) -> str:
    """`alias.col1, alias.col2, …`: every column of `model`, as `models_from` expects them;
    `labelled` names them `"alias.col"`, for a join whose tables share column names
    (split the rows with `part_of`).

    Call it when a statement runs, not at import: Tortoise adds the foreign-key columns
    (`user_id`) to a model's fields only when it initialises."""
    names = model._meta.fields_db_projection.values()
    if labelled:
        return ", ".join(f'{alias}."{column}" AS "{alias}.{column}"' for column in names)
    return ", ".join(f'{alias}."{column}"' for column in names)


def part_of(row: dict[str, Any], alias: str) -> dict[str, Any]:
    """The columns of one table of a joined row read with `columns(..., labelled=True)`."""
    prefix = alias + "."
    return {name[len(prefix) :]: value for name, value in row.items() if name.startswith(prefix)}


def models_from(model: type[M], found: list[dict[str, Any]]) -> list[M]:
    """Model instances from rows holding every column of `model` (see `columns`)."""
    return [model._init_from_db(**row) for row in found]


async def count(model: type[Model], sql: str, values: Sequence[Any] = ()) -> int:
    """The single number a `SELECT COUNT(*) AS n …` statement returns."""
    [row] = await rows(model, sql, values)
    return int(row["n"])
