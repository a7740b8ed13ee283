"""Unit of work: one session, the repositories on it, and an explicit commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from storage.db import WEBHOOK_EVENTS, begin_writing, has_written, update_scope_engine
from storage.repositories import (
    CaseRepository,
    ConversationRepository,
    CustomerRepository,
    ErasureRepository,
    HandoffRepository,
    InboxRepository,
    InsightsRepository,
    LinkTokenRepository,
    MerchantFeedRepository,
    OfferRepository,
    OrderRepository,
    OutboxRepository,
    PolicyFactsRepository,
    RefundRepository,
    StockRepository,
    SurveyRepository,
    TelegramUserRepository,
    ThrottleRepository,
    TicketRepository,
    VoucherRepository,
    WebhookRepository,
)


class UnitOfWork:
    """One session and the repositories on it, for one update, request or command.

    Each service entry point wraps its work in `async with uow.transaction():`,
    which commits when the block ends and rolls back if it raises. No transaction
    stays open between service calls: on SQLite every transaction holds the
    database's write lock (see storage.db), so one left open while the bot talks
    to Telegram would stall every other writer, the FSM storage of this very
    update included.

    Events for the merchant's webhook staged during a transaction are written just
    before it commits (storage.repositories.webhooks), so they exist iff the change does.
    """

    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._depth = 0  # nested transaction() blocks

    def _new_session(self) -> AsyncSession:
        return self._session_factory()

    async def __aenter__(self) -> Self:
        self.session = self._new_session()
        self.telegram_users = TelegramUserRepository(self.session)
        self.customers = CustomerRepository(self.session)
        self.orders = OrderRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.throttle = ThrottleRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.refunds = RefundRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.offers = OfferRepository(self.session)
        self.tickets = TicketRepository(self.session)
        self.stock = StockRepository(self.session)
        self.policy_facts = PolicyFactsRepository(self.session)
        self.vouchers = VoucherRepository(self.session)
        self.surveys = SurveyRepository(self.session)
        self.insights = InsightsRepository(self.session)
        self.merchant_feeds = MerchantFeedRepository(self.session)
        self.handoffs = HandoffRepository(self.session)  # the agents' side (issue 9)
        # Hardening (issue 11)
        self.inbox = InboxRepository(self.session)
        self.link_tokens = LinkTokenRepository(self.session)
        self.erasure = ErasureRepository(self.session)
        # The merchant's webhook (issue 10)
        self.webhooks = WebhookRepository(
            self.session, enabled=bool(self.session.info.get(WEBHOOK_EVENTS))
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing rolls back whatever is still open and detaches the loaded objects
        # without expiring them (an explicit rollback would), so views built from
        # them after the unit ends still read their values.
        self.webhooks.discard_staged()
        await self.session.close()

    @asynccontextmanager
    async def transaction(
        self, *, reads_first: bool = False, reads_only: bool = False
    ) -> AsyncIterator[Self]:
        """`reads_first` and `reads_only` matter within an update only (`UpdateUnitOfWork`).
        A service calling another inside its block joins that block: one transaction, one
        commit."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            await self.rollback()
            raise
        self._depth = 0
        await self.commit()

    async def commit(self) -> None:
        try:
            await self.webhooks.write_staged()
        except BaseException:
            await self.rollback()
            raise
        await self.session.commit()

    async def rollback(self) -> None:
        self.webhooks.discard_staged()
        await self.session.rollback()

    async def flush(self) -> None:
        await self.session.flush()

    @contextmanager
    def unflushed(self) -> Iterator[None]:
        """Queries in the block do not flush pending changes first. For reads that do not
        read those changes: a step that changes a row, reads, then changes it again
        writes it once instead of twice."""
        with self.session.no_autoflush:
            yield


def _is_sqlite(bind: object) -> bool:
    dialect = getattr(bind, "dialect", None)
    return dialect is not None and dialect.name == "sqlite"


Staged = Callable[["UpdateUnitOfWork"], Awaitable[None]]
_current: ContextVar[UpdateUnitOfWork | None] = ContextVar("update_unit_of_work", default=None)


def current_update() -> UpdateUnitOfWork | None:
    """The unit of work of the update this task is handling (None outside an update; a
    task started during an update inherits the variable, but not the unit of work)."""
    uow = _current.get()
    return uow if uow is not None and uow.task is asyncio.current_task() else None


class UpdateUnitOfWork(UnitOfWork):
    """All of one Telegram update's database work, in one transaction.

    Reads (the FSM state, who is writing) run before any transaction: on SQLite they
    take no lock, on PostgreSQL they cost no BEGIN or COMMIT (storage.db). The first
    write (on PostgreSQL, or a locking read) opens the update's one transaction (on
    SQLite it queues for the write lock then, see storage.db), and everything after
    joins it: the services' `transaction()` blocks, the FSM state and data, the
    transcript lines and the update inbox's mark, staged by the middlewares with
    `stage()`. It commits:

    - before the bot says anything (`commit()` from the bot session's middleware), so
      what the customer reads is already true, and no lock is held while Telegram is
      being called;
    - when the handler returns, with what was staged meanwhile. When all that is left
      then is the transcript and the inbox's mark (`stage_deferrable`), they go to the
      group commit instead (storage.group_commit), written with other updates' shortly
      after: an update that changes nothing, or whose change committed before it
      answered, costs no transaction of its own for them.

    A block that raises rolls back only its own work (a savepoint, when the update
    had already written; otherwise the whole, still empty, transaction).
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory)
        self._staged: list[Staged] = []
        self._deferrable: list[Deferred] = []
        self._after_commit: list[Callable[[], None]] = []
        self._savepoints: list[AsyncSessionTransaction] = []
        self._depth = 0
        self.commits = 0

    def _new_session(self) -> AsyncSession:
        engine = self._session_factory.kw["bind"]
        return self._session_factory(bind=update_scope_engine(engine))

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._token = _current.set(self)
        self.task = asyncio.current_task()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _current.reset(self._token)
        self._staged.clear()
        self._deferrable.clear()
        await super().__aexit__(exc_type, exc, tb)

    def stage(self, write: Staged) -> None:
        """Run `write` in the update's transaction just before it commits."""
        self._staged.append(write)

    def stage_deferrable(self, write: Deferred) -> None:
        """A write for the update's last commit that may also wait for a group commit
        (storage.group_commit) when nothing else is left to commit: the transcript's
        lines, the inbox's mark. It never makes a commit happen by itself."""
        self._deferrable.append(write)

    async def has_work(self) -> bool:
        """Whether a commit now would write more than the deferrable writes."""
        return bool(self._staged) or await self._written()

    def take_deferrable(self) -> list[Deferred]:
        """The deferrable writes, handed over (to a group commit) and no longer written here."""
        taken, self._deferrable = self._deferrable, []
        return taken

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the update's work is committed (e.g. wake the notifier)."""
        self._after_commit.append(callback)

    async def _written(self) -> bool:
        session = self.session
        if session.new or session.dirty or session.deleted:
            return True
        if not session.in_transaction():
            return False
        connection = await session.connection()
        return has_written(connection.sync_connection)  # type: ignore[arg-type]

    @asynccontextmanager
    async def transaction(
        self, *, reads_first: bool = False, reads_only: bool = False
    ) -> AsyncIterator[Self]:
        """A service's block within the update's transaction. It starts writing at once
        (on SQLite, in its turn for the write lock), so what it reads and then writes is
        consistent, as in a transaction of its own; `reads_first` blocks (who is writing,
        which order they mean) read without the lock and take it at their first write,
        if any: what they read is the chat's own, which no one else changes meanwhile.
        A `reads_only` block writes nothing: it reads where the update stands, with no
        savepoint (nothing of its own to undo) and no write lock."""
        if self._depth or reads_only:  # joins the block it is in, or what the update has
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        savepoint = await self.session.begin_nested() if await self._written() else None
        if savepoint is not None:
            self._savepoints.append(savepoint)
        elif not reads_first:
            await begin_writing(self.session)
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.webhooks.discard_staged()  # the block's events never happened
            if savepoint is not None:
                self._savepoints.pop()
                if savepoint.is_active:
                    await savepoint.rollback()
            else:
                await self.session.rollback()
            raise
        self._depth = 0
        try:
            await self.webhooks.write_staged()  # inside the block: its events share its fate
        except BaseException:
            self.webhooks.discard_staged()
            if savepoint is not None:
                self._savepoints.pop()
                if savepoint.is_active:
                    await savepoint.rollback()
            else:
                await self.session.rollback()
            raise
        if savepoint is not None:
            self._savepoints.pop()
            if savepoint.is_active:
                await savepoint.commit()
        else:
            await self.session.flush()

    async def commit(self) -> None:
        """Commit what the update did so far, with what is staged; nothing if nothing."""
        staged, self._staged = self._staged, []
        for write in staged:
            await write(self)
        await self.webhooks.write_staged()
        if not await self._written():
            bind = self.session.bind
            if self.session.in_transaction() and bind is not None and not _is_sqlite(bind):
                # Reads only: give the connection back to the pool while the bot talks
                # to Telegram (they ran outside a transaction on SQLite and on asyncpg,
                # so nothing is sent; another PostgreSQL driver ends its transaction).
                await self.session.commit()
            return
        await self.session.commit()
        self.commits += 1
        self.run_after_commit()

    def run_after_commit(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def commit_all(self) -> None:
        """Commit with the deferrable writes too, whether or not anything else is left."""
        if self._deferrable:
            deferrable, self._deferrable = self._deferrable, []
            await write_deferred(self, deferrable)
            self.after_commit(lambda: _settled(deferrable))
        await self.commit()

    async def rollback(self) -> None:
        """Inside a block with a savepoint, undo the block; otherwise the whole update."""
        self.webhooks.discard_staged()
        if self._savepoints:
            savepoint = self._savepoints[-1]
            if savepoint.is_active:
                await savepoint.rollback()
            return
        await self.session.rollback()


def _settled(items: Sequence[Deferred]) -> None:
    for item in items:
        item.settled()


class Deferred(Protocol):
    """A write that may wait for a group commit (storage.group_commit); writes of one
    type are written together (`write_all`)."""

    @classmethod
    async def write_all(cls, uow: UnitOfWork, items: Sequence[Self]) -> None: ...

    def settled(self) -> None:
        """Called once the write is committed, or given up as unwritable (see
        storage.group_commit): e.g. the update is no longer in flight."""


async def write_deferred(uow: UnitOfWork, items: Sequence[Deferred]) -> None:
    """Write `items` in the caller's transaction, one `write_all` per type."""
    by_type: dict[type[Any], list[Deferred]] = {}
    for item in items:
        by_type.setdefault(type(item), []).append(item)
    for kind, group in by_type.items():
        await kind.write_all(uow, group)
