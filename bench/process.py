"""Whole processes: time to the first getUpdates, and memory with many conversations.

Both compare the bot with a bare aiogram process doing the same in the same run.

- Start-up: a tiny Bot API stand-in (aiohttp) notes when the first getUpdates arrives;
  `cancelbot run` (migrations, wiring, the checks it makes at start) is timed from
  spawn to that request, against a bare aiogram bot polling the same stand-in: on an
  empty database (the first start, which migrates it) and on a database already up to
  date (a restart, every later start).
- Memory: a child process handles one update from each of N chats that leaves each
  chat mid-conversation, then reports its RSS; the bare child keeps N FSM states in
  aiogram's MemoryStorage.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.settings import TOKEN

_ME = {"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}

BARE_POLLER = """
import asyncio, sys
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
{after_imports}
dp = Dispatcher()

@dp.message()
async def echo(message: Message) -> None:
    await message.answer("hi")

async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[1]))
    await dp.start_polling(Bot(sys.argv[2], session=session), handle_signals=False)

asyncio.run(main())
"""
# The bare bot imported as the bot imports itself (`bot.startup`): collector paused, then
# what the imports built frozen. Not the baseline; it shows what part of the
# bot's start-up gain is aiogram's own import getting faster.
PAUSED = "import gc\ngc.disable()\n"
FROZEN = "gc.freeze()\ngc.enable()\n"


class StandIn:
    """Answers every Bot API method plausibly; records when getUpdates first came."""

    def __init__(self) -> None:
        self.first_poll = asyncio.Event()
        self.polled_at = 0.0

    def reset(self) -> None:
        """Wait for the next process's first getUpdates."""
        self.first_poll = asyncio.Event()
        self.polled_at = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"].lower()
        result: Any = True
        if method == "getme":
            result = _ME
        elif method == "getupdates":
            if not self.first_poll.is_set():
                self.polled_at = time.perf_counter()
                self.first_poll.set()
            await asyncio.sleep(0.5)
            result = []
        elif method == "getwebhookinfo":
            result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        elif method in ("getmycommands",):
            result = []
        return web.json_response({"ok": True, "result": result})


def compile_bytecode() -> None:
    """Write the bot's bytecode before its processes are timed, as installing it does (pip
    compiles what it installs, as it did aiogram's) and as Python's first import does
    wherever `PYTHONDONTWRITEBYTECODE` is not set. Where it is set (the machines these
    benchmarks ran on), every start of an editable checkout compiled the bot's ~180
    modules from source again (~0.2 s), which no deployed bot does."""
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("bot", "dialogs", "storage"):
        if not compileall.compile_dir(root / package, quiet=1):
            raise RuntimeError(f"{package} did not compile")


async def _first_poll(command: list[str], env: dict[str, str], stand_in: StandIn) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(120):
            waiting = asyncio.create_task(stand_in.first_poll.wait())
            exited = asyncio.create_task(process.wait())
            await asyncio.wait([waiting, exited], return_when=asyncio.FIRST_COMPLETED)
            if not stand_in.first_poll.is_set():
                error = (await process.stderr.read()).decode()[-2000:] if process.stderr else ""
                raise RuntimeError(f"{command[:3]} exited before polling: {error}")
            exited.cancel()
        return stand_in.polled_at - started
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def time_to_first_poll(
    product: bool, *, restart: bool = False, paused_bare: bool = False
) -> float:
    """Seconds from spawning the process to its first getUpdates. The bot starts on an
    empty database (it migrates it) or, with `restart`, on one an untimed first start
    already brought up to date, as every later start of a deployed bot finds it.
    `paused_bare`: the bare bot imports aiogram with the collector paused, as the bot does."""
    stand_in = StandIn()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as directory:
            env = {k: v for k, v in os.environ.items() if k.isupper() and "TOKEN" not in k}
            if product:
                env.update(
                    BOT_TOKEN=TOKEN,
                    TELEGRAM_API_BASE=base,
                    DATABASE_URL=f"sqlite+aiosqlite:///{directory}/start.db",
                    API_PORT="0",
                    LOG_LEVEL="WARNING",
                )
                env.pop("REDIS_URL", None)
                command = [sys.executable, "-m", "bot", "run"]
                if restart:
                    await _first_poll(command, env, stand_in)
                    stand_in.reset()
            else:
                poller = BARE_POLLER.format(after_imports=FROZEN if paused_bare else "")
                source = (PAUSED if paused_bare else "") + poller
                command = [sys.executable, "-c", source, base, TOKEN]
            return await _first_poll(command, env, stand_in)
    finally:
        await runner.cleanup()


RSS_CHILD = """
import asyncio, gc, sys
from bench.process import rss_child
print(asyncio.run(rss_child(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
"""


async def rss_child(kind: str, chats: int, directory: str) -> int:
    """Run in a child: leave `chats` chats mid-conversation, return RSS in KiB."""
    import gc

    from aiogram import Bot, Dispatcher
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.types import Message

    from bench.session import MemorySession
    from bench.updates import text_update

    if kind == "bare":

        class Flow(StatesGroup):
            order = State()

        dp = Dispatcher()

        @dp.message()
        async def ask(message: Message, state: FSMContext) -> None:
            await state.set_state(Flow.order)
            await state.update_data(case_id=message.chat.id)
            await message.answer("Which order?")

        bot = Bot(TOKEN, session=MemorySession())
        for index in range(chats):
            await dp.feed_update(bot, text_update(1_000_000 + index, "/cancel_order"))
    else:
        from bench.settings import bench_settings
        from bot.wiring import build_bot, build_deps, build_dispatcher
        from storage.migrate import upgrade

        deps = build_deps(bench_settings(f"sqlite+aiosqlite:///{directory}/rss.db", None))
        await upgrade(deps.engine)  # a restart finds the schema at its head: no Alembic
        if kind != "restarted":
            # Only a first start seeds: a restarted bot never imports the demo shop (nor
            # the importer it loads through), so neither does its measurement.
            from bot.demo_data import seed_demo

            await seed_demo(deps.session_factory, deps.clock)
        if kind == "prepare":
            await deps.close()
            return 0
        dp = build_dispatcher(deps)
        bot = build_bot(deps.settings, session=MemorySession())
        for index in range(chats):
            # A guest starting a cancellation: the bot asks how to find their order.
            await dp.feed_update(bot, text_update(1_000_000 + index, "/cancel_order"))
        gc.collect()
        rss = _rss_kib()
        # Closed as the bot closes on a stop: left to asyncio.run's cancellation, the
        # group commit's task could be cancelled inside a write and the child hang there.
        await deps.close()
        return rss
    gc.collect()
    return _rss_kib()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def rss_of(kind: str, chats: int) -> int:
    """RSS in KiB of a child holding `chats` conversations: `bare` aiogram, the `bot` on
    its first start (it migrates and seeds its database, so Alembic stays loaded), or the
    bot `restarted` on a database a previous process migrated and seeded."""
    with tempfile.TemporaryDirectory() as directory:
        if kind == "restarted":
            await _rss_child_run("prepare", 0, directory)
        return await _rss_child_run(kind, chats, directory)


async def _rss_child_run(kind: str, chats: int, directory: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RSS_CHILD,
        kind,
        str(chats),
        directory,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"rss child {kind} failed: {err.decode()[-2000:]}")
    return int(out.decode().strip().splitlines()[-1])
