"""`cancelbot run --workers N`: N webhook workers sharing one port, and their supervisor.

The supervisor checks the database and Redis, brings the schema up to date once, then
starts `python -m bot run --worker-index i` N times. Each worker binds API_PORT with
SO_REUSEPORT, so the kernel spreads Telegram's webhook requests (and merchant API calls)
among them. Worker 0 registers the webhook and the command menu and runs the outbox
notifier and the overdue watchdog; the others only handle updates. FSM state and the
per-chat locks are in Redis, the update inbox in PostgreSQL, so any worker can handle
any update and a worker's death loses nothing (its updates are replayed by the others).

A worker that exits on its own is started again after a pause; one that keeps failing
within seconds of its start stops the whole group. SIGTERM or SIGINT is passed on to
every worker, which then stops gracefully (see `BotServer.stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass

from bot.config import Settings

log = logging.getLogger(__name__)

RESTART_PAUSE = 1.0  # seconds before a worker that exited is started again
QUICK_EXIT = 10.0  # a worker that dies within this many seconds of starting failed to start
MAX_QUICK_EXITS = 5
STOP_GRACE = 30.0  # seconds a worker gets to stop before it is killed


def refusal(settings: Settings) -> str | None:
    """Why several workers cannot run with these settings, in one line (None: they can)."""
    if not settings.webhook_url:
        return "--workers needs WEBHOOK_URL: several processes cannot poll one bot"
    if settings.uses_sqlite:
        return "--workers needs DATABASE_URL on PostgreSQL: SQLite serves one process"
    if not settings.redis_url:
        return "--workers needs REDIS_URL: conversation state and per-chat locks are shared there"
    return None


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    started: float
    quick_exits: int = 0


async def supervise(count: int) -> int:
    """Run `count` workers until SIGTERM or SIGINT; the caller checked `refusal`, the
    database and Redis, and brought the schema up to date. 1 if a worker kept failing."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    workers = [await _start(index) for index in range(count)]
    log.info("started %d workers: %s", count, [w.process.pid for w in workers])
    failed = False
    while not stop.is_set():
        exits = [asyncio.create_task(w.process.wait()) for w in workers]
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([*exits, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in (*exits, stopping):
            task.cancel()
        if stop.is_set():
            break
        for position, worker in enumerate(workers):
            code = worker.process.returncode
            if code is None:
                continue
            quick = time.monotonic() - worker.started < QUICK_EXIT
            quick_exits = worker.quick_exits + 1 if quick else 0
            if quick_exits >= MAX_QUICK_EXITS:
                log.error("worker %d keeps failing (exit code %s); stopping", worker.index, code)
                failed = True
                stop.set()
                break
            log.warning("worker %d exited with code %s; starting it again", worker.index, code)
            await asyncio.sleep(RESTART_PAUSE)
            workers[position] = await _start(worker.index)
            workers[position].quick_exits = quick_exits
    await _stop_all(workers)
    return 1 if failed else 0


async def _start(index: int) -> _Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--worker-index", str(index), env=dict(os.environ)
    )
    return _Worker(index, process, time.monotonic())


async def _stop_all(workers: list[_Worker]) -> None:
    for worker in workers:
        if worker.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            async with asyncio.timeout(STOP_GRACE):
                await worker.process.wait()
        except TimeoutError:
            log.warning("worker %d did not stop in %g s; killing it", worker.index, STOP_GRACE)
            with contextlib.suppress(ProcessLookupError):
                worker.process.kill()
            await worker.process.wait()
