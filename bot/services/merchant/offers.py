"""Taking an offer the shop made when it cancelled an order (see merchant_cancellation).

A button may be pressed days later: the offer is honoured only for the account and
customer it was made to, once, within the policy's `offer_valid_days`, and an exchange
only while the refund it replaces has not started and the variant is still in stock at
the price paid. Taking one offer declines the others. The replacement order is built
where every exchange is (`bot.services.cancellation.exchanges`).

`AlternativesService.accept` cannot serve these: it re-asks the policy's `[offers]`
about a case the customer opened, and opens a return of the original order. Here the
order is already cancelled by the shop and the offers come from `[merchant_cancellation]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.cancellation.exchanges import Exchanges
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.cancellation.request_states import may_move
from bot.services.cancellation.requests import move_request
from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.linking.identity import Identity
from bot.services.merchant.cancellation import merchant_request_id
from bot.services.outbox import Outbox
from bot.services.policy import Policy
from bot.services.refunds.service import CUSTOMER_ACTOR, RefundLedger
from bot.services.refunds.vouchers import issue_voucher
from storage.enums import (
    OfferStatus,
    OfferType,
    RefundStatus,
    RequestStatus,
    VoucherKind,
)
from storage.models import Offer, Order
from storage.uow import UnitOfWork


class Taken(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"  # this very offer was taken before: a double tap
    UNAVAILABLE = "unavailable"  # expired, another was taken, or stock or refund moved on
    NOT_FOUND = "not_found"  # not a merchant offer made to this reader: a stale button


@dataclass(frozen=True, slots=True)
class TakenOffer:
    result: Taken
    type: OfferType | None = None
    value: Money | None = None
    details: dict[str, str] = field(default_factory=dict)


class MerchantOffers:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._ledger = RefundLedger(uow, clock)
        self._outbox = Outbox(uow, clock)
        self._offers = OfferRecords(uow)

    async def accept(self, identity: Identity, case_id: int, offer_id: int) -> TakenOffer:
        """Put the offer in place and queue its receipt to the reader's chat."""
        async with self._uow.transaction():
            case = await self._uow.cases.get_for_update(case_id)
            request_id = merchant_request_id(case) if case else None
            offer = await self._uow.offers.get(offer_id)
            if (
                case is None
                or request_id is None
                or case.telegram_user_id != identity.user_id
                or case.customer_id is None
                or case.customer_id != identity.customer_id
                or offer is None
                or offer.case_id != case.id
            ):
                return TakenOffer(Taken.NOT_FOUND)
            value = Money(offer.value, offer.currency)
            if offer.status is OfferStatus.ACCEPTED:
                return TakenOffer(Taken.ALREADY, offer.type, value)
            if offer.status is not OfferStatus.SHOWN:
                return TakenOffer(Taken.UNAVAILABLE, offer.type, value)
            now = self._clock.now()
            valid = timedelta(days=self._policy.merchant_cancellation.offer_valid_days)
            if now > offer.shown_at + valid:
                await self._offers.answer_open(case.id, OfferStatus.EXPIRED, now)
                return TakenOffer(Taken.UNAVAILABLE, offer.type, value)
            order = await self._uow.orders.get(offer.order_id)
            assert order is not None
            details = await self._apply(order, offer, request_id, now)
            if details is None:
                self._offers.answer(offer, OfferStatus.EXPIRED, now)
                return TakenOffer(Taken.UNAVAILABLE, offer.type, value)
            await self._offers.take(offer, now)
            case.updated_at = now
            self._outbox.enqueue(
                chat_id=identity.chat_id,
                customer_id=order.customer_id,
                locale=identity.locale,
                template="notify/merchant_offer_accepted",
                context={
                    "order_number": order.number,
                    "type": offer.type.value,
                    "value": value,
                    "details": details,
                },
                dedupe_key=f"offer:{offer.id}:accepted",
            )
            return TakenOffer(Taken.ACCEPTED, offer.type, value, details)

    async def _apply(
        self, order: Order, offer: Offer, request_id: int, now: datetime
    ) -> dict[str, str] | None:
        """The voucher's code or the replacement order; None when it can no longer be done."""
        if offer.type is OfferType.COMPENSATION_VOUCHER:
            voucher = issue_voucher(
                self._uow,
                customer_id=order.customer_id,
                kind=VoucherKind.COMPENSATION,
                value=Money(offer.value, offer.currency),
                now=now,
                offer_id=offer.id,
            )
            return {"code": voucher.code}
        if offer.type is OfferType.EXCHANGE:
            return await self._exchange(order, offer, request_id, now)
        return None

    async def _exchange(
        self, order: Order, offer: Offer, request_id: int, now: datetime
    ) -> dict[str, str] | None:
        """The variant ships as a new order paid by the original payment (`Exchanges`), so
        the refund of that payment is called off: only while it has not started."""
        refund = await self._uow.refunds.for_request_for_update(request_id)
        request = await self._uow.cases.get_request(request_id)
        original = next((i for i in order.items if i.sku == offer.params.get("replaces")), None)
        if (
            refund is None
            or refund.status is not RefundStatus.APPROVED
            or request is None
            or not may_move(request.status, RequestStatus.COMPLETED)
            or original is None
        ):
            return None
        sku = offer.params.get("sku", "")
        done = await Exchanges(self._uow).replace(order, original, sku, original.quantity, now)
        if done is None:
            return None
        self._ledger.move(
            refund,
            RefundStatus.CANCELLED,
            actor=CUSTOMER_ACTOR,
            note=f"exchanged for order {done.order_number}",
        )
        move_request(request, RequestStatus.COMPLETED, now)
        request.decision = {**(request.decision or {}), "exchange": done.record()}
        return done.receipt()
