"""Encrypted columns: each part declares the columns it keeps encrypted, in one place.

A part lists its columns as `COLUMNS` in its module `encrypted_columns` (e.g.
`qingyuan.connections.encrypted_columns`); the composition root collects them
(`qingyuan.parts.ENCRYPTED_COLUMNS`), and key rotation (`qingyuan keys rotate`) and the
raw-bytes tests work from that list, so a new column is rotated as soon as it is declared.

A column's associated data names its purpose *and its row* (the row's id and the rows it
belongs to), so a ciphertext copied to another row, another column or another conversation
fails to decrypt instead of being shown there. The id of a new row is known only after the
insert, so `create` inserts an empty value and writes the ciphertext in the same transaction:
the plaintext never reaches the database. A hot path that cannot afford the transaction takes
its id first (`reserve_id`, one statement) and inserts the sealed value at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from qingyuan.platform.crypto import PIICipher, PIIDecryptionError, cipher_for
from qingyuan.platform.database import migration_settings

BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted text column: `associated_data(row)` is what binds a value to its row."""

    model: type[Model]
    field: str
    associated_data: Callable[[Any], str]

    @property
    def name(self) -> str:
        return f"{self.model._meta.db_table}.{self.field}"

    def seal(self, cipher: PIICipher, row: Any, plaintext: str) -> str:
        return cipher.encrypt(plaintext, purpose=self.associated_data(row))

    def open(self, cipher: PIICipher, row: Any) -> str:
        return cipher.decrypt(getattr(row, self.field), purpose=self.associated_data(row))

    async def create(self, cipher: PIICipher, plaintext: str, **values: Any) -> Any:
        """Insert a row whose column holds `plaintext`, encrypted and bound to the new row."""
        async with in_transaction():
            row = await self.model.create(**{**values, self.field: ""})
            setattr(row, self.field, self.seal(cipher, row, plaintext))
            await row.save(update_fields=[self.field])
        return row


async def reserve_id(model: type[Model]) -> int:
    """The id the next row of `model` will have if it is inserted with it, taken from the
    table's own counter in one statement (so it never collides with an id the database hands
    out): PostgreSQL's serial sequence, SQLite's AUTOINCREMENT counter. Ids taken and not used
    leave gaps, as a rolled-back insert does."""
    table = model._meta.db_table
    db = model._meta.db
    if db.capabilities.dialect == "postgres":
        rows = await db.execute_query_dict(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id", [table]
        )
        return int(rows[0]["id"])
    rows = await db.execute_query_dict(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = ? RETURNING seq AS id", [table]
    )
    if not rows:  # the table never had a row, so SQLite has no counter for it yet
        rows = await db.execute_query_dict(
            "INSERT INTO sqlite_sequence (name, seq) "  # noqa: S608 (a table name, no input)
            f'SELECT ?, COALESCE(MAX(id), 0) + 1 FROM "{table}" RETURNING seq AS id',
            [table],
        )
    return int(rows[0]["id"])


class UnreadableValue(Exception):
    """A stored value that no listed key opens (its key was dropped, or it was tampered with);
    names the row, never the value."""


async def rewrite(
    model: type[Model],
    field: str,
    change: Callable[[Any, str], str | None],
    *,
    batch_size: int = BATCH_SIZE,
    pending: Q | None = None,
) -> int:
    """Rewrite `field` row by row in id order, one transaction per batch: `change(row, value)`
    returns the new value or None to leave it. Progress lives in the rows themselves, so a run
    that is stopped loses at most one batch and the next run carries on. Returns rows changed."""
    cursor, changed = 0, 0
    query = model.filter(**{f"{field}__isnull": False})
    if pending is not None:
        query = query.filter(pending)
    while rows := await query.filter(id__gt=cursor).order_by("id").limit(batch_size):
        async with in_transaction():
            for row in rows:
                old = getattr(row, field)
                new = change(row, old)
                if new is not None and new != old:
                    # Compare-and-set: a value rewritten meanwhile by the app is left alone.
                    changed += await model.filter(pk=row.pk, **{field: old}).update(**{field: new})
        cursor = rows[-1].pk
    return changed


async def rotate(
    cipher: PIICipher, columns: Iterable[EncryptedColumn], *, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Re-encrypt `columns` (every part's: `qingyuan.parts.ENCRYPTED_COLUMNS`) under the newest
    key; idempotent and resumable. Returns the rows changed per column (a second run reports
    zeros)."""
    return {
        column.name: await rotate_column(cipher, column, batch_size=batch_size)
        for column in columns
    }


async def rotate_column(
    cipher: PIICipher, column: EncryptedColumn, *, batch_size: int = BATCH_SIZE
) -> int:
    def reseal(row: Any, stored: str) -> str | None:
        if not stored or not cipher.needs_rotation(stored):  # "" holds no value
            return None
        try:
            return column.seal(cipher, row, column.open(cipher, row))
        except PIIDecryptionError as exc:
            raise UnreadableValue(f"{column.name} of row {row.id}: {exc}") from exc

    current = ~Q(**{f"{column.field}__startswith": f"{cipher.current_key_id}:"})
    return await rewrite(column.model, column.field, reseal, batch_size=batch_size, pending=current)


def _migration_cipher() -> PIICipher:
    settings = migration_settings()
    return cipher_for(settings)


async def encrypt_plaintext(
    model: type[Model], field: str, associated_data: Callable[[Any], str]
) -> int:
    """For a data migration: encrypt a column that held plaintext, with the run's keys."""
    cipher = _migration_cipher()
    return await rewrite(
        model, field, lambda row, text: cipher.encrypt(text, purpose=associated_data(row))
    )


async def decrypt_to_plaintext(
    model: type[Model], field: str, associated_data: Callable[[Any], str]
) -> int:
    """The way back of `encrypt_plaintext`, for rolling a migration back."""
    cipher = _migration_cipher()
    return await rewrite(
        model, field, lambda row, stored: cipher.decrypt(stored, purpose=associated_data(row))
    )
