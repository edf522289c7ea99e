"""Count the SQL statements one HTTP request runs, from Tortoise's own query log.

Every statement a Tortoise client executes (`execute_query`, `execute_query_dict`,
`execute_insert`, `execute_many`, on SQLite and asyncpg, in or out of a transaction) is
logged by `tortoise.db_client` at DEBUG as ``"%s: %s" % (query, values)``. `CountingApp`
wraps the ASGI app: a context variable marks the request's task (and any task it spawns), so
statements of background work running in the same loop are not counted against a page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.log import db_client_logger

_statements: ContextVar[list[str] | None] = ContextVar("request_statements", default=None)
QUERY_RECORD = "%s: %s"


class _StatementHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        statements = _statements.get()
        if statements is not None and record.msg == QUERY_RECORD and record.args:
            statements.append(str(record.args[0]))


class CountingApp:
    """The app, recording the statements of each HTTP request in `last`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last: list[str] = []

    def __getattr__(self, name: str) -> Any:  # `client.app.state`, `.routes`: the real app's
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.last = []
        token = _statements.set(self.last)
        try:
            await self.app(scope, receive, send)
        finally:
            _statements.reset(token)


@contextlib.contextmanager
def query_logging() -> Iterator[None]:
    """Turn Tortoise's DEBUG query log on (kept out of the test report) for the block."""
    handler = _StatementHandler()
    level, propagate = db_client_logger.level, db_client_logger.propagate
    db_client_logger.addHandler(handler)
    db_client_logger.setLevel(logging.DEBUG)
    db_client_logger.propagate = False  # statements carry values: not into captured logs
    try:
        yield
    finally:
        db_client_logger.removeHandler(handler)
        db_client_logger.setLevel(level)
        db_client_logger.propagate = propagate
