"""SQLite through aiosqlite with one thread hop per statement.

aiosqlite runs each call on its connection's own thread, and SQLAlchemy's adapter makes
four calls per statement: open a cursor, execute, fetch the rows, close the cursor. Each
call is a round trip to that thread (a queue put, the thread wakes, a wake-up of the event
loop through its self-pipe), and these hops, not SQLite, were most of what a statement
cost the event loop. The cursor below runs the whole statement in one call and keeps what
the engine reads afterwards (rows, description, row count, last row id).

The adapter is handed to SQLAlchemy as the DBAPI module (`create_async_engine(...,
module=one_hop_dbapi())`): the URL, the dialect and its behaviour stay aiosqlite's.
It leans on internals, so pyproject.toml bounds both versions to those it was tested on:
SQLAlchemy's adapter classes (their cursor slots, `_execute_mutex`, `_handle_exception`)
and aiosqlite's `Connection._execute` (run a function on the connection's thread) and
`_conn` (the sqlite3 connection, used only on that thread).
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT, await_only

_Outcome = tuple[list[Any], Any, int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the whole statement, cursor closed before returning."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one call on aiosqlite's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No driver cursor is opened here (the base class would: one hop); _run opens
        # and closes its own on the connection's thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1  # the DBAPI's default: rows a bare fetchmany() returns

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        """Nothing to close: the driver's cursor was closed with its statement."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._call(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._call(operation, seq_of_parameters, many=True)

    def _call(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            await_only(self._execute_one_hop(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _execute_one_hop(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            rows, description, rowcount, lastrowid = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._rows = collections.deque(rows)
        self._description = description
        self._rowcount = rowcount
        self._lastrowid = lastrowid


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    # A subclass of the declared cursor class; mypy reads the base's attribute as exact.
    _cursor_cls = OneHopCursor  # type: ignore[assignment]


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DBAPI adapter whose connections use OneHopCursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # aiosqlite's connect as SQLAlchemy does it (its thread made a daemon), rewrapped.
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
