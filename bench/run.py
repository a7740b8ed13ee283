"""Measure the bot against baselines from the same run, and write BENCHMARKS.md.

    python -m bench.run [--updates N] [--out BENCHMARKS.md]

Every figure is a ratio to something measured in this same run (a bare aiogram
handler, plain sqlite3, Telegram's 30 messages a second), because absolute numbers
vary from machine to machine and run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiogram
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from sqlalchemy import event

from bench.session import MemorySession
from bench.updates import text_update
from bot.config import Settings
from bot.services.demo_data import seed_demo
from bot.services.matching import CandidateIndex, OrderCandidate
from bot.texts import Renderer
from bot.wiring import AppDeps, build_bot, build_deps, build_dispatcher
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


async def measure(updates: int) -> tuple[list[Result], Result]:
    gc.collect()
    results: list[Result] = []
    baseline = await bare_aiogram(updates)
    results.append(baseline)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{directory}/bench.db",
            log_level="WARNING",
        )
        deps = build_deps(settings)
        await upgrade(deps.engine)
        await seed_demo(deps.session_factory, deps.clock)
        try:
            results.append(await _our_bot(deps, updates, "hello", "our bot: unknown text"))
            results.append(await _our_bot(deps, updates, "/help", "our bot: /help"))
            gc.freeze()
            frozen = await _our_bot(deps, updates, "/help", "our bot: /help, gc.freeze()")
            gc.unfreeze()
            results.append(frozen)
        finally:
            await deps.close()
    results.append(matching(updates))
    results.append(templates(updates * 5))
    return results, baseline


def _report(results: list[Result], baseline: Result, updates: int) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench.run --updates {updates}` on {datetime.now(UTC):%Y-%m-%d}, "
        f"Python {platform.python_version()}, aiogram {aiogram.__version__}, "
        f"{platform.machine()}, {sys.platform}. Figures vary from run to run; the ratios "
        "are the point. Updates go through `Dispatcher.feed_update` with an in-memory Bot "
        "session (no network), on a SQLite file database loaded with the demo shop.",
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
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    arguments = parser.parse_args()
    measured, floor = asyncio.run(measure(arguments.updates))
    arguments.out.write_text(_report(measured, floor, arguments.updates))
    print(arguments.out.read_text())
