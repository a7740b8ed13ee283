"""Unit of work: one session, the repositories on it, and an explicit commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import WEBHOOK_EVENTS
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

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
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
    async def transaction(self) -> AsyncIterator[Self]:
        try:
            yield self
        except BaseException:
            await self.rollback()
            raise
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
