"""Support cases, the offers shown in them, and tickets for people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import CaseStatus, OfferStatus, OfferType, RequestStatus, TicketStatus
from storage.models import (
    MERCHANT_REQUEST_PREFIX,
    CancellationItem,
    CancellationRequest,
    Offer,
    SupportCase,
    Ticket,
)


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, case_id: int) -> SupportCase | None:
        return await self._session.get(SupportCase, case_id)

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
        return await self._session.scalar(
            select(CancellationRequest).where(
                CancellationRequest.order_id == order_id,
                CancellationRequest.is_active.is_(True),
            )
        )

    async def request_times(self, customer_id: int, since: datetime) -> Sequence[datetime]:
        """When this customer asked to cancel; the merchant's own cancellations do not count."""
        rows = await self._session.scalars(
            select(CancellationRequest.created_at).where(
                CancellationRequest.customer_id == customer_id,
                CancellationRequest.created_at > since,
                CancellationRequest.idempotency_key.not_like(f"{MERCHANT_REQUEST_PREFIX}%"),
            )
        )
        return rows.all()

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
        rows = await self._session.execute(
            select(CancellationItem.order_item_id, func.sum(CancellationItem.quantity))
            .join(CancellationRequest, CancellationRequest.id == CancellationItem.request_id)
            .where(
                CancellationRequest.order_id == order_id,
                CancellationRequest.status.not_in([RequestStatus.DENIED, RequestStatus.WITHDRAWN]),
            )
            .group_by(CancellationItem.order_item_id)
        )
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
        return (
            await self._session.scalars(
                select(Offer)
                .where(Offer.case_id == case_id, Offer.status == OfferStatus.SHOWN)
                .order_by(Offer.id)
            )
        ).all()

    async def accepted_since(
        self, customer_id: int, types: Sequence[OfferType], since: datetime
    ) -> Sequence[tuple[OfferType, datetime]]:
        rows = await self._session.execute(
            select(Offer.type, Offer.answered_at).where(
                Offer.customer_id == customer_id,
                Offer.type.in_(types),
                Offer.status == OfferStatus.ACCEPTED,
                Offer.answered_at > since,
            )
        )
        return [(offer_type, at) for offer_type, at in rows.all() if at is not None]

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
