"""The one-hop SQLite adapter: one call on aiosqlite's thread per statement, and the
engine still reads what the DBAPI promises (rows, row counts, ids, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.sqlite_driver import OneHopCursor

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions aiosqlite ran on its thread, in order."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_call_on_the_connections_thread(
    engine: AsyncEngine, thread_calls: list[str]
) -> None:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")  # connected and warmed up
        thread_calls.clear()
        rows = (await connection.execute(select(notes.c.id, notes.c.body))).all()
        assert (await connection.execute(text("SELECT 41 + 1"))).scalar_one() == 42
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert isinstance(raw.dbapi_connection.cursor(), OneHopCursor)  # type: ignore[union-attr]
    assert rows == []
    # SQLAlchemy's own adapter makes four: open a cursor, execute, fetch, close.
    assert thread_calls[:2] == ["_run", "_run"]


async def test_row_counts_new_ids_many_rows_and_the_results_of_each(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(insert(notes).values(body="first"))
        assert first.inserted_primary_key == (1,)
        many = await connection.execute(insert(notes), [{"body": "a"}, {"body": "b"}])
        assert many.rowcount == 2
        changed = await connection.execute(
            update(notes).where(notes.c.body.in_(["a", "b"])).values(body=notes.c.body + "!")
        )
        assert changed.rowcount == 2
        nothing = await connection.execute(update(notes).where(notes.c.id == 99).values(body="x"))
        assert nothing.rowcount == 0
        returned = await connection.execute(
            insert(notes).values(body="back").returning(notes.c.id, notes.c.body)
        )
        assert returned.all() == [(4, "back")]
    async with engine.connect() as connection:
        bodies = (await connection.execute(select(notes.c.body).order_by(notes.c.id))).scalars()
        assert bodies.all() == ["first", "a!", "b!", "back"]
        rows = await connection.execute(select(notes.c.id).order_by(notes.c.id))
        assert rows.fetchmany() == [(1,)]  # the DBAPI's default size: one row
        assert rows.fetchmany(2) == [(2,), (3,)]
        assert rows.fetchall() == [(4,)]
        streamed = await connection.stream(select(notes.c.id).order_by(notes.c.id))
        assert [row.id async for row in streamed] == [1, 2, 3, 4]


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(notes).values(body="once"))
        with pytest.raises(IntegrityError):
            await connection.execute(insert(notes).values(body="once"))
        await connection.rollback()
        count = await connection.scalar(text("SELECT count(*) FROM notes"))
    assert count == 0  # rolled back with the failure, and the connection still answers
