"""SQLite's writers queue in this process, first come first served.

SQLite has one write lock per database. Left to itself, a writer that finds it taken
sleeps in the busy handler and polls (1 ms, 2 ms, … up to 100 ms between tries), so a
newcomer that arrives while the lock is free overtakes writers that have been
sleeping for a while: that is the p99 tail under load. Every writer of this process
therefore waits here, in an asyncio lock (which wakes its waiters in arrival order),
before it takes SQLite's lock with `BEGIN IMMEDIATE`; by the time it runs that, the
lock is free and the statement does not wait. The busy timeout stays as the guard
against other processes (`cancelbot import`, a maintenance shell).

PostgreSQL has row locks and no such queue: it gets no gate.

The gate also counts, for the benchmark, how often the write lock was taken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class DatabaseCounters:
    """What the engine did, for the benchmark: transactions and write locks taken."""

    transactions: int = 0
    write_locks: int = 0
    raw_statements: int = 0
    """`BEGIN IMMEDIATE`s run on the driver's cursor directly (an update's first write),
    which the engine's statement events do not see."""


@dataclass(eq=False)
class WriteGate:
    """A FIFO queue of this process's SQLite writers, held from `BEGIN IMMEDIATE` to the end
    of the transaction."""

    counters: DatabaseCounters = field(default_factory=DatabaseCounters)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _owner: asyncio.Task[object] | None = None
    _owner_flush: Flush | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self, flush: Flush | None = None) -> bool:
        """Wait for our turn; False when not queued (this task already writes elsewhere).

        `flush` is how the holder can end its transaction early: when the same task,
        holding the gate for one update's transaction, opens another unit of work that
        must write, the update's transaction is committed first instead of deadlocking.
        Without one, the second writer falls back to SQLite's busy handler, as before.
        """
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            if self._owner_flush is None:
                log.debug("a second writer in the task that holds the gate; not queued")
                return False
            await self._owner_flush()  # commits and releases
        loop = asyncio.get_running_loop()
        if loop is not self._loop and not self._lock.locked():
            # An engine outlived its event loop (tests run one loop per test).
            self._lock, self._loop = asyncio.Lock(), loop
        await self._lock.acquire()
        self._owner, self._owner_flush = task, flush
        return True

    def release(self) -> None:
        self._owner, self._owner_flush = None, None
        self._lock.release()

    def release_if_held(self) -> None:
        """Release when the current task holds the gate (after its commit or rollback)."""
        if self._owner is not None and self._owner is asyncio.current_task():
            self.release()

    @property
    def held_here(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @property
    def waiting(self) -> int:
        waiters = getattr(self._lock, "_waiters", None)
        return len(waiters) if waiters else 0
