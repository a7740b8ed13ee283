"""Writes that may wait a moment, from many updates, committed together.

An update that answers after its work is committed (storage.uow: the bot says only what
is already true) still has lines to write once Telegram has answered: its transcript
(what the customer and the bot said) and, serving Telegram, the update inbox's mark.
Committing those alone costs every such update a second transaction, and on SQLite a
second turn for the write lock. Instead, when nothing else is left to commit, the update
hands them here (`defer`) and they are written `FLUSH_AFTER` seconds later, with those of
every other update finished meanwhile, in one transaction: one commit for many updates.
An update that still has work of its own at its end writes them in its own commit.

The loss window is bounded and small: a crash (kill -9, power cut) loses what was handed
over in the last `FLUSH_AFTER` seconds and not yet written, that is the transcript lines
of those moments and the inbox marks of those updates. The updates are then replayed at
the next start: their answer is sent again, their work is not repeated, since it was
committed before the answer. A graceful stop writes everything first (`close`). When the
database does not answer, the batch is kept and tried again; the updates stay leased to
this process meanwhile (their leases are renewed while they are in flight). A write that
can never succeed (not an outage) is split off: the others are written one by one, and
it is logged and given up.

Readers inside this process that must see a deferred write before it reaches the
database (the transcript's "was the previous message understood?") look at `pending()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.uow import Deferred, UnitOfWork, write_deferred

log = logging.getLogger(__name__)

FLUSH_AFTER = 0.025
"""Seconds a deferred write may wait for others: the loss window on a crash."""
RETRY_AFTER = 1.0
"""Seconds before a batch that could not be written is tried again."""


class GroupCommit:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        flush_after: float = FLUSH_AFTER,
    ) -> None:
        self._session_factory = session_factory
        self.flush_after = flush_after
        self._pending: list[Deferred] = []
        self._writing: list[Deferred] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def defer(self, items: Sequence[Deferred]) -> None:
        """Write `items` shortly, with others."""
        if not items:
            return
        self._pending.extend(items)
        if self._task is None or self._task.done():
            # A context of its own: nothing of the update that deferred leaks into it.
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="group-commit", context=contextvars.Context()
            )
        self._wake.set()

    def pending(self) -> list[Deferred]:
        """What was deferred and is not committed yet, oldest first."""
        return [*self._writing, *self._pending]

    async def flush(self) -> None:
        """Write everything deferred so far now (raises if the database does not answer;
        the writes are kept for the next try)."""
        async with self._lock:
            if not self._pending:
                return
            self._writing, self._pending = self._pending, []
            try:
                await self._write(self._writing)
            except BaseException as error:
                if not _unavailable(error):
                    # Not the database being away: something in the batch cannot be
                    # written. Each goes alone, so one bad write holds back no other.
                    await self._one_by_one(self._writing)
                    self._writing = []
                    return
                self._pending[:0] = self._writing
                raise
            finally:
                written, self._writing = self._writing, []
            for item in written:
                item.settled()

    async def _write(self, items: Sequence[Deferred]) -> None:
        async with UnitOfWork(self._session_factory) as uow, uow.transaction():
            await write_deferred(uow, items)

    async def _one_by_one(self, items: Sequence[Deferred]) -> None:
        for item in items:
            try:
                await self._write([item])
            except Exception:
                # Given up: a transcript line is lost, an inbox mark is left undone (its
                # update is replayed once its lease runs out); logged with the cause.
                log.exception("a deferred %s could not be written; given up", type(item).__name__)
            item.settled()

    async def close(self) -> None:
        """Stop waiting and write what is left (a graceful stop loses nothing); a later
        `defer` starts waiting again."""
        if self._task is not None:
            async with self._lock:  # never cancelled in the middle of a flush
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception(
                "%d deferred writes could not be written at close; their updates are "
                "replayed at the next start",
                len(self._pending),
            )

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.flush_after)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as error:
                log.warning(
                    "%d deferred writes not written (%s); trying again in %g s",
                    len(self._pending),
                    type(error).__name__,
                    RETRY_AFTER,
                )
                await asyncio.sleep(RETRY_AFTER)
                self._wake.set()


def _unavailable(error: BaseException) -> bool:
    """The database did not answer (try the batch again later), as opposed to a write in
    it that can never succeed."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        OperationalError
        | InterfaceError
        | DisconnectionError
        | PoolTimeoutError
        | OSError
        | TimeoutError
        | asyncio.CancelledError,
    )
