"""One transaction per update: reads take no lock, writes queue in arrival order, and the
FSM, the services and the transcript of an update commit together."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import DBAPIError

from bench.session import MemorySession
from bench.updates import text_update
from bot.wiring import AppDeps, build_bot, build_dispatcher
from storage.db import counters, write_gate
from storage.models import FsmRecord, TranscriptEntry
from storage.uow import UpdateUnitOfWork
from storage.write_gate import WriteGate


async def test_writers_get_the_gate_in_the_order_they_asked() -> None:
    gate = WriteGate()
    order: list[int] = []
    await gate.acquire()

    async def writer(number: int) -> None:
        await gate.acquire()
        order.append(number)
        gate.release()

    tasks = []
    for number in range(5):
        tasks.append(asyncio.create_task(writer(number)))
        await asyncio.sleep(0)  # each one queues before the next is started
    gate.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_an_update_reads_without_the_write_lock_and_takes_it_at_its_first_write(
    deps: AppDeps,
) -> None:
    gate = write_gate(deps.engine)
    async with UpdateUnitOfWork(deps.session_factory) as uow:
        await uow.session.scalar(select(func.count(FsmRecord.key)))
        if gate is not None:  # SQLite
            assert not gate.held_here
        uow.session.add(FsmRecord(key="k", state="s", data={}, updated_at=deps.clock.now()))
        await uow.session.flush()
        if gate is not None:
            assert gate.held_here
        await uow.commit()
        if gate is not None:
            assert not gate.held_here
    async with deps.session_factory() as session:
        assert await session.scalar(select(FsmRecord.state).where(FsmRecord.key == "k")) == "s"


async def test_help_writes_nothing_alone_its_transcript_joins_a_group_commit(
    deps: AppDeps,
) -> None:
    """/help changes nothing: the update commits nothing of its own, and its transcript
    lines wait for the group commit, which writes every finished update's in one go."""
    dp = build_dispatcher(deps)
    bot = build_bot(deps.settings, session=MemorySession())
    deps.group_commit.flush_after = 60  # nothing written by time during the test
    users = (77, 78, 79)
    for user in users:  # first contact: the account is made (and committed at once)
        await dp.feed_update(bot, text_update(user, "/help"))
    await deps.group_commit.flush()
    before = counters(deps.engine).transactions
    await asyncio.gather(*(dp.feed_update(bot, text_update(user, "/help")) for user in users))
    # Its reads ran outside any transaction, on PostgreSQL as on SQLite.
    assert counters(deps.engine).transactions - before == 0
    assert len(deps.group_commit.pending()) == 3

    await deps.group_commit.flush()
    assert counters(deps.engine).transactions - before == 1
    assert deps.group_commit.pending() == []
    async with deps.session_factory() as session:
        lines = await session.scalar(select(func.count(TranscriptEntry.id)))
    assert lines == 12  # "/help" in and the answer out, twice for each


async def test_the_group_commit_writes_every_updates_lines_in_one_statement(
    deps: AppDeps,
) -> None:
    """Whether a line is written blank (its customer erased meanwhile) is decided in the
    INSERT itself, line by line: no look at the conversations before it."""
    dp = build_dispatcher(deps)
    bot = build_bot(deps.settings, session=MemorySession())
    deps.group_commit.flush_after = 60
    users = (77, 78, 79)
    for user in users:
        await dp.feed_update(bot, text_update(user, "/help"))
    await deps.group_commit.flush()
    for user in users:
        await dp.feed_update(bot, text_update(user, "/help"))
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(statement.split(" (")[0])

    event.listen(deps.engine.sync_engine, "before_cursor_execute", record)
    try:
        await deps.group_commit.flush()
    finally:
        event.remove(deps.engine.sync_engine, "before_cursor_execute", record)
    assert statements == ["INSERT INTO transcript_entries"]
    async with deps.session_factory() as session:
        lines = await session.scalar(select(func.count(TranscriptEntry.id)))
    assert lines == 12


async def test_what_waits_for_the_group_commit_is_written_when_the_bot_stops(
    deps: AppDeps,
) -> None:
    dp = build_dispatcher(deps)
    bot = build_bot(deps.settings, session=MemorySession())
    await dp.feed_update(bot, text_update(77, "/help"))
    assert deps.group_commit.pending()
    await deps.group_commit.close()
    async with deps.session_factory() as session:
        lines = await session.scalar(select(func.count(TranscriptEntry.id)))
    assert lines == 2


async def test_an_update_opens_its_transaction_at_its_first_write_or_locking_read(
    deps: AppDeps,
) -> None:
    """Reads before them open none (on PostgreSQL they run in autocommit: no BEGIN, no
    COMMIT). A read that locks rows on PostgreSQL opens it, so the lock is held until
    the update commits; SQLite has no row locks (services take its write lock instead)."""
    on_postgresql = write_gate(deps.engine) is None
    async with deps.session_factory() as session:
        session.add(FsmRecord(key="k", state="s", data={}, updated_at=deps.clock.now()))
        await session.commit()
    tally = counters(deps.engine)
    row = select(FsmRecord.state).where(FsmRecord.key == "k")
    before = tally.transactions
    async with UpdateUnitOfWork(deps.session_factory) as uow:
        assert await uow.session.scalar(row) == "s"
        assert await uow.session.scalar(row) == "s"
        assert tally.transactions == before
        await uow.session.scalar(row.with_for_update())
        assert tally.transactions == before + (1 if on_postgresql else 0)
        await uow.session.execute(update(FsmRecord).where(FsmRecord.key == "k").values(state="t"))
        assert tally.transactions == before + 1  # the write joined it (or, on SQLite, opened it)
        if on_postgresql:
            async with deps.engine.connect() as other:
                with pytest.raises(DBAPIError, match="could not obtain lock"):
                    await other.execute(row.with_for_update(nowait=True))
        await uow.commit()
    async with deps.engine.connect() as other:
        assert (await other.execute(row.with_for_update(nowait=True))).scalar() == "t"


async def test_the_benchmarks_tally_counts_the_transactions_sent(deps: AppDeps) -> None:
    """What BENCHMARKS.md reports per update: the ORM floor begins one transaction;
    /help, which only reads (its transcript held for the group commit), begins none,
    on PostgreSQL too, where its commit sends nothing either."""
    from bench.floor import EngineTally, orm_dispatcher

    deps.group_commit.flush_after = 60
    bot = build_bot(deps.settings, session=MemorySession())
    dp = build_dispatcher(deps)
    await dp.feed_update(bot, text_update(7, "/help"))  # the account is made
    with EngineTally(deps.engine) as floor:
        await orm_dispatcher(deps.session_factory).feed_update(bot, text_update(7, "hi"))
    with EngineTally(deps.engine) as product:
        await dp.feed_update(bot, text_update(7, "/help"))
    assert floor.tally.transactions == 1
    assert product.tally.transactions == 0
    on_postgresql = write_gate(deps.engine) is None
    # The identity's one read (on SQLite, aiosqlite's commit is one more call to its thread).
    assert product.tally.round_trips == (1 if on_postgresql else 2)


async def test_a_service_block_in_an_update_writes_from_its_start(deps: AppDeps) -> None:
    """What a service block reads and then writes stays consistent: on SQLite it holds the
    write lock from its first statement, as a transaction of its own would."""
    gate = write_gate(deps.engine)
    tally = counters(deps.engine)
    before = tally.transactions
    async with UpdateUnitOfWork(deps.session_factory) as uow:
        async with uow.transaction():
            assert tally.transactions == before + 1  # on PostgreSQL too: BEGIN comes first
            await uow.session.scalar(select(func.count(FsmRecord.key)))
            if gate is not None:
                assert gate.held_here
        async with uow.transaction(reads_first=True):
            pass
        await uow.commit()
        if gate is not None:
            assert not gate.held_here


async def test_the_previous_message_waiting_for_the_group_commit_still_counts(
    deps: AppDeps,
) -> None:
    """Two messages in a row not understood offer a person, also when the first one's
    transcript line is still waiting for the group commit (this process looks there)."""
    deps.group_commit.flush_after = 60  # nothing reaches the database during the test
    dp = build_dispatcher(deps)
    session = MemorySession()
    bot = build_bot(deps.settings, session=session)
    await dp.feed_update(bot, text_update(77, "qwzx vbnm"))
    assert session.buttons.get(77, []) == []  # once: just a hint
    await dp.feed_update(bot, text_update(77, "plkj hgfd"))
    assert len(deps.group_commit.pending()) == 2
    assert session.buttons[77], "twice in a row: a person is offered, with a button"
