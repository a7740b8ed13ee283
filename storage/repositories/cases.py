"""Support cases, the offers shown in them, and tickets for people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from storage.enums import CaseStatus, OfferStatus, RequestStatus, TicketStatus
from storage.models import (
    CancellationItem,
    CancellationRequest,
    Offer,
    Order,
    SupportCase,
    Ticket,
)
from storage.repositories.orders import viewer, visible_clause

# Built once, with bound parameters: these run on the steps of every cancellation (the
# policy's facts, the offers shown), and building them costs more Python than running them.
_CASE_WITH_ORDER = (
    select(SupportCase, Order)
    .outerjoin(Order, and_(Order.id == SupportCase.order_id, visible_clause()))
    .options(joinedload(Order.items))
    .where(SupportCase.id == bindparam("case_id"))
)
_ACTIVE_REQUEST_FOR_ORDER = select(CancellationRequest).where(
    CancellationRequest.order_id == bindparam("order_id"),
    CancellationRequest.is_active.is_(True),
)
_REQUESTED_QUANTITIES = (
    select(CancellationItem.order_item_id, func.sum(CancellationItem.quantity))
    .join(CancellationRequest, CancellationRequest.id == CancellationItem.request_id)
    .where(
        CancellationRequest.order_id == bindparam("order_id"),
        CancellationRequest.status.not_in([RequestStatus.DENIED, RequestStatus.WITHDRAWN]),
    )
    .group_by(CancellationItem.order_item_id)
)


def shown_clause() -> ColumnElement[bool]:
    """The offers of the bound `case_id` still shown: what `shown_for_case` reads, and
    the policy's facts with it (`PolicyFactsRepository`)."""
    return and_(Offer.case_id == bindparam("case_id"), Offer.status == OfferStatus.SHOWN)


_SHOWN_FOR_CASE = select(Offer).where(shown_clause()).order_by(Offer.id)


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, case_id: int) -> SupportCase | None:
        return await self._session.get(SupportCase, case_id)

    async def with_visible_order(
        self,
        case_id: int,
        telegram_user_id: int,
        customer_id: int | None,
        now: datetime,
        *,
        lock: bool = False,
    ) -> tuple[SupportCase, Order | None] | None:
        """The case and its order with the order's items, in one query: the order only if
        this Telegram user may see it (None when the case has none, or one they may not
        see). With `lock`, the case row is locked (PostgreSQL), as `get_for_update`."""
        query = _CASE_WITH_ORDER.with_for_update(of=SupportCase) if lock else _CASE_WITH_ORDER
        params = {"case_id": case_id, **viewer(telegram_user_id, customer_id, now)}
        row = (await self._session.execute(query, params)).unique().first()
        return (row[0], row[1]) if row else None

    async def get_for_update(self, case_id: int) -> SupportCase | None:
        """Lock the case row (PostgreSQL); SQLite's IMMEDIATE transactions already serialise."""
        return await self._session.scalar(
            select(SupportCase).where(SupportCase.id == case_id).with_for_update()
        )

    async def open_for_chat(self, chat_id: int) -> SupportCase | None:
        return await self._session.scalar(
            select(SupportCase).where(
                SupportCase.chat_id == chat_id, SupportCase.status == CaseStatus.OPEN
            )
        )

    async def close_open_for_chat(self, chat_id: int, status: CaseStatus, at: datetime) -> None:
        await self._session.execute(
            update(SupportCase)
            .where(SupportCase.chat_id == chat_id, SupportCase.status == CaseStatus.OPEN)
            .values(status=status, closed_at=at, updated_at=at)
        )

    def add(self, case: SupportCase) -> None:
        self._session.add(case)

    async def request_for_case(self, case_id: int) -> CancellationRequest | None:
        return await self._session.scalar(
            select(CancellationRequest).where(CancellationRequest.case_id == case_id)
        )

    async def active_request_for_order(self, order_id: int) -> CancellationRequest | None:
        return await self._session.scalar(_ACTIVE_REQUEST_FOR_ORDER, {"order_id": order_id})

    def add_request(self, request: CancellationRequest) -> None:
        self._session.add(request)

    async def get_request(self, request_id: int) -> CancellationRequest | None:
        return await self._session.get(CancellationRequest, request_id)

    async def request_by_key(self, idempotency_key: str) -> CancellationRequest | None:
        return await self._session.scalar(
            select(CancellationRequest).where(
                CancellationRequest.idempotency_key == idempotency_key
            )
        )

    async def requests_for_order(self, order_id: int) -> Sequence[CancellationRequest]:
        """Every cancellation request of the order, oldest first, closed ones included."""
        return (
            await self._session.scalars(
                select(CancellationRequest)
                .where(CancellationRequest.order_id == order_id)
                .order_by(CancellationRequest.id)
            )
        ).all()

    async def requested_quantities(self, order_id: int) -> dict[int, int]:
        """Items of this order already in a cancellation that was not denied or withdrawn."""
        rows = await self._session.execute(_REQUESTED_QUANTITIES, {"order_id": order_id})
        return {item_id: int(quantity) for item_id, quantity in rows.all()}


class OfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offer_id: int) -> Offer | None:
        return await self._session.get(Offer, offer_id)

    async def for_case(self, case_id: int) -> Sequence[Offer]:
        """Every offer of a case, answered or not, in the order they were shown."""
        return (
            await self._session.scalars(
                select(Offer).where(Offer.case_id == case_id).order_by(Offer.id)
            )
        ).all()

    async def shown_for_case(self, case_id: int) -> Sequence[Offer]:
        return (await self._session.scalars(_SHOWN_FOR_CASE, {"case_id": case_id})).all()

    async def answer_shown(self, case_id: int, status: OfferStatus, at: datetime) -> None:
        """Close every still-open offer of a case (declined, or expired with it)."""
        await self._session.execute(
            update(Offer)
            .where(Offer.case_id == case_id, Offer.status == OfferStatus.SHOWN)
            .values(status=status, answered_at=at)
        )

    def add(self, offer: Offer) -> None:
        self._session.add(offer)


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_for_chat(self, chat_id: int) -> Ticket | None:
        return await self._session.scalar(
            select(Ticket).where(Ticket.chat_id == chat_id, Ticket.status == TicketStatus.OPEN)
        )

    def add(self, ticket: Ticket) -> None:
        self._session.add(ticket)
