"""What the merchant polls: cancellation requests by last change, vouchers by issue.

Pages are read in (time, id) order after a position, so a poller resumes exactly where
it stopped; `FeedWindow.before` keeps out rows changed too recently to be sure every
transaction that stamped an earlier time has committed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from storage.enums import OfferStatus, RequestStatus
from storage.models import (
    CancellationRequest,
    Customer,
    Offer,
    Order,
    OrderItem,
    Refund,
    Voucher,
)


@dataclass(frozen=True, slots=True)
class FeedWindow:
    """Rows stamped from `since` (included) to `before` (excluded), after `after`
    ((time, id), excluded), at most `limit` of them."""

    before: datetime
    limit: int
    since: datetime | None = None
    after: tuple[datetime, int] | None = None


class RequestRow(NamedTuple):
    request: CancellationRequest
    order_number: str
    customer_id: str  # the merchant's own id


class VoucherRow(NamedTuple):
    voucher: Voucher
    customer_id: str  # the merchant's own id
    order_number: str | None  # of the request or offer it came from


class VoucherState(NamedTuple):
    """Which vouchers a filter wants, judged at `now`."""

    name: str  # "active", "redeemed" or "expired"
    now: datetime


_REQUEST_ORDER = aliased(Order)
_OFFER_ORDER = aliased(Order)


class MerchantFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def requests(
        self, window: FeedWindow, statuses: Collection[RequestStatus] = ()
    ) -> Sequence[RequestRow]:
        """Requests changed in the window, oldest change first, with their order's number
        and their customer's id."""
        stamp = CancellationRequest.updated_at
        query = (
            select(CancellationRequest, Order.number, Customer.external_id)
            .join(Order, Order.id == CancellationRequest.order_id)
            .join(Customer, Customer.id == CancellationRequest.customer_id)
            .where(*_in_window(window, stamp, CancellationRequest.id))
            .order_by(stamp, CancellationRequest.id)
            .limit(window.limit)
        )
        if statuses:
            query = query.where(CancellationRequest.status.in_(statuses))
        rows = await self._session.execute(query)
        return [RequestRow(request, number, customer) for request, number, customer in rows]

    async def refunds_of_requests(self, request_ids: Collection[int]) -> dict[int, Refund]:
        if not request_ids:
            return {}
        refunds = await self._session.scalars(
            select(Refund).where(Refund.request_id.in_(request_ids))
        )
        return {refund.request_id: refund for refund in refunds if refund.request_id is not None}

    async def skus(self, item_ids: Collection[int]) -> dict[int, str]:
        if not item_ids:
            return {}
        rows = await self._session.execute(
            select(OrderItem.id, OrderItem.sku).where(OrderItem.id.in_(item_ids))
        )
        return {item_id: sku for item_id, sku in rows}

    async def vouchers(
        self,
        window: FeedWindow,
        *,
        customer_id: str | None = None,
        state: VoucherState | None = None,
    ) -> Sequence[VoucherRow]:
        """Vouchers issued in the window, oldest first."""
        query = (
            _voucher_rows()
            .where(*_in_window(window, Voucher.created_at, Voucher.id))
            .order_by(Voucher.created_at, Voucher.id)
            .limit(window.limit)
        )
        if customer_id is not None:
            query = query.where(Customer.external_id == customer_id)
        if state is not None:
            query = query.where(_voucher_state(state))
        rows = await self._session.execute(query)
        return [VoucherRow(voucher, customer, number) for voucher, customer, number in rows]

    async def voucher(self, code: str) -> VoucherRow | None:
        row = (await self._session.execute(_voucher_rows().where(Voucher.code == code))).first()
        if row is None:
            return None
        voucher, customer, number = row
        return VoucherRow(voucher, customer, number)

    async def voucher_for_update(self, code: str) -> Voucher | None:
        """Lock the voucher's row (PostgreSQL) while it is redeemed."""
        return await self._session.scalar(
            select(Voucher).where(Voucher.code == code).with_for_update()
        )

    async def voucher_redeemed_by(self, event_id: str) -> Voucher | None:
        return await self._session.scalar(
            select(Voucher).where(Voucher.redeem_event_id == event_id)
        )

    async def accepted_offers(self, order_id: int) -> Sequence[tuple[Offer, str | None]]:
        """The offers accepted on an order, oldest first, each with the voucher it issued."""
        rows = await self._session.execute(
            select(Offer, Voucher.code)
            .outerjoin(Voucher, Voucher.offer_id == Offer.id)
            .where(Offer.order_id == order_id, Offer.status == OfferStatus.ACCEPTED)
            .order_by(Offer.answered_at, Offer.id)
        )
        return [(offer, code) for offer, code in rows]


def _in_window(
    window: FeedWindow, stamp: InstrumentedAttribute[datetime], key: InstrumentedAttribute[int]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [stamp < window.before]
    if window.since is not None:
        conditions.append(stamp >= window.since)
    if window.after is not None:
        at, after_id = window.after
        conditions.append(or_(stamp > at, and_(stamp == at, key > after_id)))
    return conditions


def _voucher_rows() -> Select[Voucher, str, str | None]:
    """A voucher, its customer's id and the number of the order it came from."""
    number: ColumnElement[str | None] = func.coalesce(_REQUEST_ORDER.number, _OFFER_ORDER.number)
    return (
        select(Voucher, Customer.external_id, number)
        .join(Customer, Customer.id == Voucher.customer_id)
        .outerjoin(CancellationRequest, CancellationRequest.id == Voucher.request_id)
        .outerjoin(_REQUEST_ORDER, _REQUEST_ORDER.id == CancellationRequest.order_id)
        .outerjoin(Offer, Offer.id == Voucher.offer_id)
        .outerjoin(_OFFER_ORDER, _OFFER_ORDER.id == Offer.order_id)
    )


def _voucher_state(state: VoucherState) -> ColumnElement[bool]:
    # A voucher taken back unused (its order was cancelled after all) is no longer valid.
    unexpired = and_(
        or_(Voucher.expires_at.is_(None), Voucher.expires_at > state.now),
        Voucher.taken_back_at.is_(None),
    )
    if state.name == "redeemed":
        return Voucher.redeemed_at.is_not(None)
    if state.name == "expired":
        return and_(Voucher.redeemed_at.is_(None), ~unexpired)
    return and_(Voucher.redeemed_at.is_(None), unexpired)
