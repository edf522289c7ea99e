"""Migration operations that change Tortoise's migration *state* only, for moving a model from
one part (Tortoise app) to another while its table stays where it is.

Tortoise 1.x has no SeparateDatabaseAndState. A move is a `DeleteModelState` in the old app
and a `CreateModelState` in the new one, with the table name (`Meta.table`) unchanged, so the
rows of an existing database are neither copied nor touched. These operations never rebuild a
table: Tortoise's SQLite RemoveField/AlterField do (create a new table, copy, drop the old
one), and with foreign keys on, dropping e.g. `matching_connection` would delete every message
and report through ON DELETE CASCADE (see verification/migrations/0002_seal_verdicts.py).

Migrations import these classes, so their behaviour is part of recorded history: do not
change what they do, add new operations instead.
"""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class CreateModelState(ops.CreateModel):
    """The model now belongs to this app; its table exists already (no DDL either way)."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return None

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return None


class DeleteModelState(ops.DeleteModel):
    """The model has moved to another app; its table stays (no DDL either way)."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return None

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        return None
