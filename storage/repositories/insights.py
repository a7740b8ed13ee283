"""Reads for the merchant's figures and the bot's metrics: nothing here writes.

Every method first marks the session's connection read-only, so on SQLite these reads
never take the write lock (see storage.db): a report over a month of history must not
make customers' updates queue behind it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import READ_ONLY
from storage.enums import OutboxStatus, RefundStatus, RelayDirection, TicketStatus
from storage.models import (
    AgentAction,
    AgentProfile,
    Base,
    CancellationRequest,
    Customer,
    Handoff,
    Offer,
    Order,
    OutboxMessage,
    Refund,
    RelayedMessage,
    SupportCase,
    Survey,
    TelegramUser,
    Ticket,
    Voucher,
)

Row = TypeVar("Row", bound=Base)
# Enough ids for one IN (…) on both databases (SQLite's default limit is 32,766 variables).
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class LiveCounts:
    """What the bot's metrics read from the database at each scrape."""

    cases_by_status: dict[str, int]
    """Customers' cases (a merchant's cancellation's holder case is left out)."""
    refunds_by_status: dict[str, int]
    outbox_pending: int
    outbox_oldest_pending: datetime | None
    open_tickets: int


class InsightsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def read_only(self) -> None:
        """Begin the session's transaction without the write lock (SQLite), unless it has
        begun already: call it first in a unit of work that only reads."""
        if not self._session.in_transaction():
            await self._session.connection(execution_options={READ_ONLY: True})

    async def _all(self, statement: Select[Row]) -> list[Row]:
        await self.read_only()
        return list((await self._session.scalars(statement)).all())

    async def _by_ids(self, model: type[Row], column: Any, ids: Collection[int]) -> list[Row]:
        """Rows whose `column` is one of `ids`, in chunks small enough for any database."""
        wanted = sorted(set(ids))
        rows: list[Row] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows += await self._all(select(model).where(column.in_(chunk)))
        return rows

    # -- the history a report reads ----------------------------------------------------------

    async def cases_started(self, since: datetime, until: datetime) -> list[SupportCase]:
        return await self._all(
            select(SupportCase)
            .where(SupportCase.created_at >= since, SupportCase.created_at < until)
            .order_by(SupportCase.id)
        )

    async def cases(self, ids: Collection[int]) -> list[SupportCase]:
        return await self._by_ids(SupportCase, SupportCase.id, ids)

    async def orders(self, ids: Collection[int]) -> list[Order]:
        return await self._by_ids(Order, Order.id, ids)

    async def customers(self, ids: Collection[int]) -> list[Customer]:
        return await self._by_ids(Customer, Customer.id, ids)

    async def telegram_users(self, ids: Collection[int]) -> list[TelegramUser]:
        return await self._by_ids(TelegramUser, TelegramUser.id, ids)

    async def requests(self, ids: Collection[int]) -> list[CancellationRequest]:
        return await self._by_ids(CancellationRequest, CancellationRequest.id, ids)

    async def requests_of_cases(self, case_ids: Collection[int]) -> list[CancellationRequest]:
        return await self._by_ids(CancellationRequest, CancellationRequest.case_id, case_ids)

    async def requests_of_orders(self, order_ids: Collection[int]) -> list[CancellationRequest]:
        return await self._by_ids(CancellationRequest, CancellationRequest.order_id, order_ids)

    async def requests_made(self, since: datetime, until: datetime) -> list[CancellationRequest]:
        return await self._all(
            select(CancellationRequest).where(
                CancellationRequest.created_at >= since, CancellationRequest.created_at < until
            )
        )

    async def offers(self, ids: Collection[int]) -> list[Offer]:
        return await self._by_ids(Offer, Offer.id, ids)

    async def offers_of_cases(self, case_ids: Collection[int]) -> list[Offer]:
        return await self._by_ids(Offer, Offer.case_id, case_ids)

    async def refunds_opened(self, since: datetime, until: datetime) -> list[Refund]:
        """Refunds opened in the period, with their events."""
        return await self._all(
            select(Refund)
            .where(Refund.created_at >= since, Refund.created_at < until)
            .order_by(Refund.id)
        )

    async def refunds_of_requests(self, request_ids: Collection[int]) -> list[Refund]:
        return await self._by_ids(Refund, Refund.request_id, request_ids)

    async def refunds_of_offers(self, offer_ids: Collection[int]) -> list[Refund]:
        return await self._by_ids(Refund, Refund.offer_id, offer_ids)

    async def vouchers_of_offers(self, offer_ids: Collection[int]) -> list[Voucher]:
        return await self._by_ids(Voucher, Voucher.offer_id, offer_ids)

    async def tickets_opened(self, since: datetime, until: datetime) -> list[Ticket]:
        return await self._all(
            select(Ticket).where(Ticket.created_at >= since, Ticket.created_at < until)
        )

    async def tickets_of_cases(self, case_ids: Collection[int]) -> list[Ticket]:
        return await self._by_ids(Ticket, Ticket.case_id, case_ids)

    async def tickets(self, ids: Collection[int]) -> list[Ticket]:
        return await self._by_ids(Ticket, Ticket.id, ids)

    # -- the agents' side (issue 9): what they did, read from their own records --------------

    async def handoffs_of_tickets(self, ticket_ids: Collection[int]) -> list[Handoff]:
        """The tickets that reached the agents' group, as the group's cases."""
        return await self._by_ids(Handoff, Handoff.ticket_id, ticket_ids)

    async def agent_actions_between(self, since: datetime, until: datetime) -> list[AgentAction]:
        return await self._all(
            select(AgentAction)
            .where(AgentAction.created_at >= since, AgentAction.created_at < until)
            .order_by(AgentAction.id)
        )

    async def agent_actions_of_tickets(self, ticket_ids: Collection[int]) -> list[AgentAction]:
        return await self._by_ids(AgentAction, AgentAction.ticket_id, ticket_ids)

    async def first_agent_messages(self, ticket_ids: Collection[int]) -> list[RelayedMessage]:
        """Per ticket, the first message an agent wrote to the customer (if any)."""
        wanted = sorted(set(ticket_ids))
        rows: list[RelayedMessage] = []
        for start in range(0, len(wanted), _CHUNK):
            first = (
                select(func.min(RelayedMessage.id))
                .where(
                    RelayedMessage.ticket_id.in_(wanted[start : start + _CHUNK]),
                    RelayedMessage.direction == RelayDirection.TO_CUSTOMER,
                )
                .group_by(RelayedMessage.ticket_id)
            )
            rows += await self._all(select(RelayedMessage).where(RelayedMessage.id.in_(first)))
        return rows

    async def agent_profiles(self, agent_ids: Collection[int]) -> list[AgentProfile]:
        return await self._by_ids(AgentProfile, AgentProfile.agent_id, agent_ids)

    async def surveys_touched(self, since: datetime, until: datetime) -> list[Survey]:
        """Surveys asked, first answered or commented on in the period."""
        return await self._all(
            select(Survey)
            .where(
                or_(
                    (Survey.asked_at >= since) & (Survey.asked_at < until),
                    (Survey.answered_at >= since) & (Survey.answered_at < until),
                    (Survey.commented_at >= since) & (Survey.commented_at < until),
                )
            )
            .order_by(Survey.id)
        )

    async def survey_by_subject(self, subject_key: str) -> Survey | None:
        await self.read_only()
        return await self._session.scalar(select(Survey).where(Survey.subject_key == subject_key))

    async def refunds_of_order(self, order_id: int) -> Sequence[Refund]:
        return await self._all(select(Refund).where(Refund.order_id == order_id))

    # -- live counts for /metrics --------------------------------------------------------------

    async def live_counts(self, *, holder_origin: str) -> LiveCounts:
        """Counts by status, the outbox backlog and the open tickets, in a few queries.

        `holder_origin` is `SupportCase.decision["origin"]` of the cases that only hold a
        merchant's cancellation offers: they are not conversations a customer started.
        """
        await self.read_only()
        origin = func.coalesce(SupportCase.decision["origin"].as_string(), "")
        cases = await self._session.execute(
            select(SupportCase.status, func.count())
            .where(origin != holder_origin)
            .group_by(SupportCase.status)
        )
        refunds = await self._session.execute(
            select(Refund.status, func.count()).group_by(Refund.status)
        )
        pending, oldest = (
            await self._session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            )
        ).one()
        tickets = await self._session.scalar(
            select(func.count()).where(Ticket.status == TicketStatus.OPEN)
        )
        return LiveCounts(
            cases_by_status={str(status): int(count) for status, count in cases.all()},
            refunds_by_status={
                str(RefundStatus(status)): int(count) for status, count in refunds.all()
            },
            outbox_pending=int(pending or 0),
            outbox_oldest_pending=_aware(oldest),
            open_tickets=int(tickets or 0),
        )


def _aware(value: datetime | None) -> datetime | None:
    """MIN() keeps the column's type, but an aware UTC value is what callers rely on."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
