"""Events for the merchant's webhook, staged where their change happens.

Each function here is called from the one place its change is made, whoever asked for
it (the customer's chat, an agent, the merchant API, the command line):

    request.created       `open_request` (every new cancellation request)
    offer.accepted        `accept_offer`, through OfferRecords (every offer taken)
    voucher.issued        bot.services.refunds.vouchers.issue_voucher
    refund.state_changed  bot.services.refunds.service.RefundLedger (every step of every refund)

The event is staged in the caller's unit of work and written when it commits, so it
exists iff the change does (storage.repositories.webhooks). Its payload is built then,
after the flush, from the rows as the transaction leaves them; nothing is queued when
MERCHANT_WEBHOOK_URL is unset. bot.channels.merchant_webhook delivers the events.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.services.domain.money import Money
from bot.services.merchant.views import request_state
from bot.services.merchant.webhook_payloads import (
    OfferAccepted,
    OfferData,
    RefundData,
    RefundStateChanged,
    RequestCreated,
    RequestData,
    RequestLine,
    VoucherData,
    VoucherIssued,
)
from bot.services.refunds.states import NOTE_SHOWN
from storage.enums import OfferStatus
from storage.models import CancellationRequest, Offer, Refund, RefundEvent, Voucher, WebhookEvent
from storage.uow import UnitOfWork


def new_event_id() -> str:
    """`evt_` and 32 hex digits: random, so it says nothing about volumes or order."""
    return f"evt_{uuid.uuid4().hex}"


def open_request(uow: UnitOfWork, request: CancellationRequest) -> None:
    """Add a new cancellation request to the caller's transaction: the only way to make one."""
    uow.cases.add_request(request)

    async def build() -> WebhookEvent:
        order, customer = await _order_and_customer(uow, request.order_id, request.customer_id)
        skus = await uow.merchant_feeds.skus([line.order_item_id for line in request.items])
        state = request_state(request)
        data = RequestData(
            request_id=request.id,
            order=order,
            customer_id=customer,
            kind=request.kind,
            status=request.status,
            initiated_by=state.initiated_by,
            reason=state.reason,
            rule=request.rule,
            refund_amount=state.refund_amount.plain() if state.refund_amount else None,
            currency=request.currency,
            items=[
                RequestLine(sku=skus[line.order_item_id], quantity=line.quantity)
                for line in request.items
            ],
            created_at=request.created_at,
        )
        payload = RequestCreated(id=new_event_id(), occurred_at=request.created_at, data=data)
        return _row(payload, f"request:{request.id}", request.customer_id, request.created_at)

    uow.webhooks.stage(build)


def accept_offer(uow: UnitOfWork, offer: Offer, now: datetime) -> None:
    """The customer took `offer`: the only way an offer becomes accepted.

    For a new row (an offer accepted as it is made), call it before adding the row.
    """
    offer.status, offer.answered_at = OfferStatus.ACCEPTED, now

    async def build() -> WebhookEvent:
        order, customer = await _order_and_customer(uow, offer.order_id, offer.customer_id)
        value = Money(offer.value, offer.currency)
        data = OfferData(
            offer_id=offer.id,
            order=order,
            customer_id=customer,
            type=offer.type,
            value=value.plain(),
            currency=value.currency,
            params=dict(offer.params),
            accepted_at=now,
        )
        payload = OfferAccepted(id=new_event_id(), occurred_at=now, data=data)
        return _row(payload, f"offer:{offer.id}:accepted", offer.customer_id, now)

    uow.webhooks.stage(build)


def voucher_issued(uow: UnitOfWork, voucher: Voucher) -> None:
    """Stage `voucher.issued` for a voucher just added to the caller's transaction."""

    async def build() -> WebhookEvent:
        row = await uow.merchant_feeds.voucher(voucher.code)
        assert row is not None
        value = Money(voucher.amount, voucher.currency)
        data = VoucherData(
            code=voucher.code,
            kind=voucher.kind,
            value=value.plain(),
            currency=value.currency,
            customer_id=row.customer_id,
            order=row.order_number,
            request_id=voucher.request_id,
            offer_id=voucher.offer_id,
            created_at=voucher.created_at,
            expires_at=voucher.expires_at,
        )
        payload = VoucherIssued(id=new_event_id(), occurred_at=voucher.created_at, data=data)
        return _row(payload, f"voucher:{voucher.code}", voucher.customer_id, voucher.created_at)

    uow.webhooks.stage(build)


def refund_changed(uow: UnitOfWork, refund: Refund, event: RefundEvent, actor: str) -> None:
    """Stage `refund.state_changed` for `event`, just appended to `refund.events`; `actor`
    is its kind (bot.services.refunds.service.ActorKind), never an internal id."""

    async def build() -> WebhookEvent:
        order, customer = await _order_and_customer(uow, refund.order_id, refund.customer_id)
        currency = refund.currency
        data = RefundData(
            refund_id=refund.id,
            order=order,
            customer_id=customer,
            request_id=refund.request_id,
            offer_id=refund.offer_id,
            amount=Money(refund.amount, currency).plain(),
            currency=currency,
            method=refund.method,
            from_status=event.from_status,
            status=event.to_status,
            actor=actor,
            event_id=event.external_event_id,
            event_amount=None if event.amount is None else Money(event.amount, currency).plain(),
            note=event.note if event.to_status in NOTE_SHOWN else None,
            expected_by=refund.expected_by,
        )
        payload = RefundStateChanged(id=new_event_id(), occurred_at=event.occurred_at, data=data)
        return _row(payload, f"refund_event:{event.id}", refund.customer_id, event.recorded_at)

    uow.webhooks.stage(build)


async def _order_and_customer(uow: UnitOfWork, order_id: int, customer_id: int) -> tuple[str, str]:
    """The order's number and its customer's id, as the merchant knows them."""
    order = await uow.orders.get(order_id)
    customer = await uow.customers.get(customer_id)
    assert order is not None  # orders and customers are never deleted
    assert customer is not None
    return order.number, customer.external_id


def _row(
    payload: RequestCreated | OfferAccepted | VoucherIssued | RefundStateChanged,
    dedupe_key: str,
    customer_id: int,
    now: datetime,
) -> WebhookEvent:
    return WebhookEvent(
        event_id=payload.id,
        dedupe_key=dedupe_key,
        type=payload.type,
        ordering_key=f"customer:{customer_id}",
        payload=payload.model_dump(mode="json"),
        available_at=now,
        created_at=now,
    )
