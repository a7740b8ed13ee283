"""The floors the bot is compared with, and what the engine did per update.

- `bare_dispatcher`: aiogram with one handler that answers once.
- `orm_dispatcher`: the same handler plus one SQLAlchemy ORM read-and-write transaction,
  on the product's own engine set-up (WAL and a write lock on SQLite): the floor for any
  database-backed bot on this stack.
- `EngineTally`: round trips, transactions and write locks, counted from the engine's
  events and, for the transactions an update begins lazily (SQLite's BEGIN IMMEDIATE,
  PostgreSQL's BEGIN after reads in autocommit), from what storage.db counts itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Message
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import FsmRecord, utcnow


def bare_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer("hi")

    return dp


def orm_dispatcher(session_factory: async_sessionmaker[AsyncSession]) -> Dispatcher:
    """One ORM read-and-write transaction per update: read a row, change it, commit."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        key = f"floor:{message.chat.id}"
        async with session_factory() as session, session.begin():
            row = await session.scalar(select(FsmRecord).where(FsmRecord.key == key))
            if row is None:
                session.add(FsmRecord(key=key, state="seen", data={}, updated_at=utcnow()))
            else:
                row.updated_at = utcnow()
        await message.answer("hi")

    return dp


async def feed(dp: Dispatcher, bot: Bot, updates: list[Any]) -> None:
    for update in updates:
        await dp.feed_update(bot, update)


@dataclass
class Tally:
    round_trips: int = 0
    transactions: int = 0
    write_locks: int = 0


class EngineTally:
    """Counts, while entered, what `engine` did: statements and commits/rollbacks (each a
    round trip to the driver), transactions begun, and SQLite write locks taken."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.sync_engine
        self._sqlite = engine.dialect.name == "sqlite"
        self.tally = Tally()
        self._raw_at_start = _counted(engine, "raw_statements")
        self._async_engine = engine

    def _statement(self, _conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        self.tally.round_trips += 1
        head = statement.lstrip()[:16].upper()
        if self._sqlite and head.startswith("BEGIN"):
            self.tally.transactions += 1
            if "IMMEDIATE" in head:
                self.tally.write_locks += 1

    def _end(self, conn: Connection) -> None:
        # An update that only read on asyncpg ran in autocommit (storage.db): its commit
        # sends nothing. aiosqlite's commit is a call on its thread either way.
        driver_connection = conn.connection.dbapi_connection
        if not self._sqlite and getattr(driver_connection, "autocommit", False):
            return
        self.tally.round_trips += 1

    def __enter__(self) -> EngineTally:
        event.listen(self._engine, "before_cursor_execute", self._statement)
        event.listen(self._engine, "commit", self._end)
        event.listen(self._engine, "rollback", self._end)
        self._transactions_at_start = _counted(self._async_engine, "transactions")
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "commit", self._end)
        event.remove(self._engine, "rollback", self._end)
        if not self._sqlite:  # PostgreSQL: the BEGINs sent, as storage.db counts them
            self.tally.transactions += (
                _counted(self._async_engine, "transactions") - self._transactions_at_start
            )
        lazy = (
            _counted(self._async_engine, "raw_statements") - self._raw_at_start
        )  # BEGIN IMMEDIATE, unseen above
        self.tally.round_trips += lazy
        self.tally.transactions += lazy
        self.tally.write_locks += lazy


def _counted(engine: AsyncEngine, what: str) -> int:
    """What storage.db counted on `engine` so far: `transactions` or `raw_statements`."""
    try:
        from storage.db import counters  # absent before the hot-path work
    except ImportError:
        return 0
    return int(getattr(counters(engine), what))
