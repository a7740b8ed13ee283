"""Measure the bot against baselines from the same run, and write BENCHMARKS.md.

    python -m bench.run [--rounds N] [--updates N] [--postgres URL] [--out BENCHMARKS.md]

The suite itself is in bench/suite.py; this module keeps the pieces it and the tests use.

Every figure is a ratio to something measured in this same run (a bare aiogram
handler, plain sqlite3, Telegram's 30 messages a second), because absolute numbers
vary from machine to machine and run to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.types import Message
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from bench.conversation import cancel_one, confirmed_requests, load_bench_shop
from bench.session import MemorySession
from bench.settings import TOKEN, bench_settings
from bench.updates import text_update
from bot.channels.notifier import Notifier, NotifierConfig
from bot.demo_data import seed_demo
from bot.services.cancellation.matching import CandidateIndex, OrderCandidate
from bot.services.outbox import Outbox
from bot.texts import Renderer
from bot.wiring import AppDeps, build_bot, build_deps, build_dispatcher
from dialogs.outbox_keyboards import KEYBOARDS
from storage.migrate import upgrade

TELEGRAM_LIMIT = 30.0  # messages per second a bot may send, Telegram's bulk limit


@dataclass
class Result:
    name: str
    per_second: float
    p50_ms: float
    p99_ms: float
    extra: str = ""


async def _timed(count: int, one: Callable[[int], Awaitable[object]]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        begin = time.perf_counter()
        await one(index)
        latencies.append((time.perf_counter() - begin) * 1000)
    return count / (time.perf_counter() - started), latencies


def _result(name: str, rate: float, latencies: list[float], extra: str = "") -> Result:
    ordered = sorted(latencies)
    return Result(
        name, rate, statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1], extra
    )


async def bare_aiogram(count: int) -> Result:
    """The floor: a Dispatcher with one handler that answers once."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer("hi")

    bot = Bot(TOKEN, session=MemorySession())
    rate, latencies = await _timed(
        count, lambda i: dp.feed_update(bot, text_update(10_000 + i % 500, "hello"))
    )
    return _result("bare aiogram handler (baseline)", rate, latencies)


async def _our_bot(deps: AppDeps, count: int, text: str, name: str) -> Result:
    dp = build_dispatcher(deps)
    bot = build_bot(deps.settings, session=MemorySession())
    statements = 0

    def count_statement(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(deps.engine.sync_engine, "before_cursor_execute", count_statement)
    rate, latencies = await _timed(
        count, lambda i: dp.feed_update(bot, text_update(20_000 + i % 500, text))
    )
    await deps.group_commit.flush()
    event.remove(deps.engine.sync_engine, "before_cursor_execute", count_statement)
    return _result(name, rate, latencies, f"{statements / count:.1f} SQL statements/update")


class _StatementCounter:
    """Counts the SQL statements the engine runs while it is entered."""

    def __init__(self, deps: AppDeps) -> None:
        self._engine = deps.engine.sync_engine
        self.count = 0

    def _one(self, *_: object) -> None:
        self.count += 1

    def __enter__(self) -> _StatementCounter:
        event.listen(self._engine, "before_cursor_execute", self._one)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._one)


async def conversations(deps: AppDeps, count: int, *, at_once: int, first: int) -> Result:
    """`count` customers each cancel an order, `at_once` of them talking at the same time.

    Per second counts updates (messages and presses); p50/p99 are per conversation.
    """
    people = await load_bench_shop(deps, count, first=first)
    before = await confirmed_requests(deps)
    dp = build_dispatcher(deps)
    session = MemorySession()
    bot = build_bot(deps.settings, session=session)
    gate = asyncio.Semaphore(at_once)
    latencies: list[float] = []
    updates = 0

    async def one(person: object) -> None:
        nonlocal updates
        async with gate:
            begin = time.perf_counter()
            sent = await cancel_one(dp, bot, session, person)  # type: ignore[arg-type]
            updates += sent
            latencies.append((time.perf_counter() - begin) * 1000)

    with _StatementCounter(deps) as statements:
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(p) for p in people), return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:  # every conversation has ended: the database can be dropped
            raise RuntimeError(f"{len(failures)} of {count} conversations failed: {failures[0]}")
        await deps.group_commit.flush()  # the last updates' transcript, inside the timed span
        elapsed = time.perf_counter() - started
    made = await confirmed_requests(deps) - before
    if made != count:
        raise RuntimeError(f"{count} conversations made {made} cancellation requests")
    name = f"cancellation conversation, {at_once} chat{'s' if at_once > 1 else ''} at once"
    extra = (
        f"{count / elapsed:,.1f} cancellations/s; {updates / count:.0f} updates and "
        f"{session.calls / count:.0f} Bot API calls each; "
        f"{statements.count / updates:.1f} SQL statements/update"
    )
    return _result(name, updates / elapsed, latencies, extra)


async def notifier_drain(deps: AppDeps, count: int) -> Result:
    """`count` queued notices to `count` chats, delivered with the rate limits lifted: how
    fast the outbox itself goes, to compare with the 25/s it is allowed to send."""
    notifier = Notifier(
        build_bot(deps.settings, session=MemorySession()),
        deps.uow,
        deps.renderer,
        deps.clock,
        keyboards=KEYBOARDS,
        config=NotifierConfig(rate_per_second=1_000_000, chat_interval=0.001),
    )
    await notifier.drain()  # the conversations' receipts: not part of this figure
    async with deps.uow() as uow, uow.transaction():
        outbox = Outbox(uow, deps.clock)
        for index in range(count):
            outbox.enqueue(
                chat_id=900_000 + index,
                locale="en",
                template="notify/survey",
                context={"order_number": f"SO-{index:07d}", "rating": None},
                dedupe_key=f"bench:{index}",
                keyboard={"kind": "survey", "survey_id": index + 1},
            )
    started = time.perf_counter()
    sent = await notifier.drain()
    elapsed = time.perf_counter() - started
    if sent != count:
        raise RuntimeError(f"the notifier sent {sent} of {count}")
    per_message = elapsed * 1000 / count
    return Result(
        "outbox notifier, rate limits lifted",
        count / elapsed,
        per_message,
        per_message,
        "claim, render, send, mark sent; ms columns are the mean per message",
    )


def matching(count: int) -> Result:
    """A one-typo order number against 2,000 of one customer's orders (an extreme)."""
    now = datetime(2026, 11, 23, tzinfo=UTC)
    candidates = [
        OrderCandidate(i, f"SO-{1_000_000 + i * 7}", ("Bluetooth Headphones",), ("blue",), now)
        for i in range(2000)
    ]
    index = CandidateIndex(candidates)
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        begin = time.perf_counter()
        index.match(f"so {1_000_000 + (i % 2000) * 7}"[:-1])
        latencies.append((time.perf_counter() - begin) * 1000)
    return _result(
        "order matching, 2,000 orders", count / (time.perf_counter() - started), latencies
    )


def templates(count: int) -> Result:
    renderer = Renderer()
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        renderer.render("zh", "start/welcome_guest", first_name="李")
        latencies.append((time.perf_counter() - begin) * 1000)
    return _result("template render (cached)", count / (time.perf_counter() - started), latencies)


@contextlib.asynccontextmanager
async def bench_database(postgres_url: str | None) -> AsyncIterator[AppDeps]:
    """The bot's dependencies on a new, migrated database with the demo shop: a SQLite
    file, or a schema of its own on PostgreSQL, dropped afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        schema = f"bench_{os.getpid()}" if postgres_url else None
        settings = bench_settings(
            postgres_url or f"sqlite+aiosqlite:///{directory}/bench.db", schema
        )
        admin = create_async_engine(settings.database_url) if schema else None
        if admin is not None:
            async with admin.begin() as connection:
                await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        deps = build_deps(settings)
        try:
            await upgrade(deps.engine)
            await seed_demo(deps.session_factory, deps.clock)
            yield deps
        finally:
            await deps.close()
            if admin is not None:
                async with admin.begin() as connection:
                    await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                await admin.dispose()


if __name__ == "__main__":
    from bench.suite import main

    main()
