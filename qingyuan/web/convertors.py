"""The `{name:id}` path convertor: a row id the database can hold, else the route does not match.

Starlette's `int` convertor accepts any number of digits, and an id beyond the column's range
makes the driver raise (SQLite: OverflowError; PostgreSQL: out of range) — a 500 for what is
simply a page that does not exist. Nine digits stay inside a 32-bit primary key.
"""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor

MAX_ID = 10**9  # what the regex lets through: ids below this


class IdConvertor(IntegerConvertor):
    regex = "[0-9]{1,9}"


register_url_convertor("id", IdConvertor())
