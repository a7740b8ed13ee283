"""Measure the bot against baselines from the same run, and write BENCHMARKS.md.

    python -m bench.run [--updates N] [--conversations N] [--out BENCHMARKS.md]

Every figure is a ratio to something measured in this same run (a bare aiogram
handler, plain sqlite3, Telegram's 30 messages a second), because absolute numbers
vary from machine to machine and run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiogram
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from bench.conversation import cancel_one, confirmed_requests, load_bench_shop
from bench.session import MemorySession
from bench.updates import text_update
from bot.channels.notifier import Notifier, NotifierConfig
from bot.config import Settings
from bot.services.demo_data import seed_demo
from bot.services.matching import CandidateIndex, OrderCandidate
from bot.services.outbox import Outbox
from bot.texts import Renderer
from bot.wiring import AppDeps, build_bot, build_deps, build_dispatcher
from dialogs.outbox_keyboards import KEYBOARDS
from storage.migrate import upgrade

TELEGRAM_LIMIT = 30.0  # messages per second a bot may send, Telegram's bulk limit
TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"


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
        await asyncio.gather(*(one(person) for person in people))
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
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            database_url=postgres_url or f"sqlite+aiosqlite:///{directory}/bench.db",
            database_schema=schema,
            log_level="WARNING",
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


async def measure(
    updates: int, talks: int, postgres_url: str | None
) -> tuple[list[Result], Result]:
    gc.collect()
    results: list[Result] = []
    baseline = await bare_aiogram(updates)
    results.append(baseline)
    async with bench_database(None) as deps:
        results.append(await _our_bot(deps, updates, "hello", "our bot: unknown text"))
        results.append(await _our_bot(deps, updates, "/help", "our bot: /help"))
        gc.freeze()
        frozen = await _our_bot(deps, updates, "/help", "our bot: /help, gc.freeze()")
        gc.unfreeze()
        results.append(frozen)
        results.append(await conversations(deps, talks, at_once=1, first=0))
        results.append(await conversations(deps, talks, at_once=20, first=talks))
        results.append(await notifier_drain(deps, updates))
    if postgres_url:
        async with bench_database(postgres_url) as deps:
            for at_once, first in ((1, 0), (20, talks)):
                result = await conversations(deps, talks, at_once=at_once, first=first)
                result.name += ", PostgreSQL"
                results.append(result)
            drained = await notifier_drain(deps, updates)
            drained.name += ", PostgreSQL"
            results.append(drained)
    results.append(matching(updates))
    results.append(templates(updates * 5))
    return results, baseline


def _report(results: list[Result], baseline: Result, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench.run {command}`".rstrip() + " on "
        f"{datetime.now(UTC):%Y-%m-%d}, "
        f"Python {platform.python_version()}, aiogram {aiogram.__version__}, "
        f"{platform.machine()}, {sys.platform}, {os.cpu_count()} CPUs. Figures vary from run "
        "to run; the ratios to the baseline measured in the same run are the point.",
        "",
        "| what | per second | p50 ms | p99 ms | × baseline | × Telegram's 30/s | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.per_second:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} | {result.per_second / baseline.per_second:.2f} | "
            f"{result.per_second / TELEGRAM_LIMIT:.1f} | {result.extra} |"
        )
    lines += [
        "",
        "How each row is measured:",
        "",
        "- *bare aiogram handler*: a Dispatcher with one handler that answers every text; "
        "updates per second through `Dispatcher.feed_update`, with an in-memory Bot session "
        "(no network). The floor that any real bot stands on.",
        "- *our bot*: the production Dispatcher (`bot.wiring.build_dispatcher`: middlewares, "
        "FSM in the database, transcript, every router) on a database loaded with the demo "
        "shop, same in-memory session; 500 different chats in turn. Per second = updates.",
        "- *cancellation conversation*: customers each share their contact, send "
        '/cancel_order and press their order, a reason, "No thanks, cancel", a refund '
        "method and Confirm, as the bot offered them. Per second = updates; p50/p99 = a "
        "whole conversation. The run checks that exactly one cancellation request was made "
        "per customer.",
        "- *outbox notifier*: that many queued notices to as many chats, rate limits lifted; "
        "per second = messages delivered (claimed, rendered, sent, marked sent). In "
        "production it is held to `NOTIFIER_RATE_PER_SECOND` (25).",
        "- *order matching*: a one-typo order number against 2,000 orders of one customer.",
        "- *template render*: one cached Jinja2 template in Chinese.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the conversations and the notifier on this PostgreSQL database "
        "(postgresql+asyncpg://…), in a schema of their own",
    )
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    arguments = parser.parse_args()
    measured, floor = asyncio.run(
        measure(arguments.updates, arguments.conversations, arguments.postgres)
    )
    arguments.out.write_text(_report(measured, floor, " ".join(sys.argv[1:])))
    print(arguments.out.read_text())
