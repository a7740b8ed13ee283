"""The shop cancels an order itself: out of stock, an address it cannot deliver to, fraud.

`MerchantCancellations.cancel` does in one transaction what a confirmed customer
cancellation does (the order's status, a cancellation request, the refund of what was
paid, the stock released) and apologises to the customer in the outbox, with the offers
the policy's `[merchant_cancellation]` section makes for the reason. The offers are kept
in a support case of the customer's chat so their buttons work later (`MerchantOffers`).

Exactly once per event id: the request's idempotency key is `merchant:<event id>`, and a
repeat returns the first answer, rebuilt from what was stored, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.services.cancellation.case_facts import stock_for
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.cancellation.requests import move_request, new_request
from bot.services.conversation.customer_chat import CustomerChat, customer_chat
from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.merchant.errors import EventIdConflict, OrderNotCancellable, UnknownOrder
from bot.services.merchant.webhook_events import open_request
from bot.services.outbox import Outbox
from bot.services.policy import OfferSpec, OrderFacts, Policy
from bot.services.policy.merchant import merchant_offers
from bot.services.policy.model import MerchantReason
from bot.services.refunds.given import GivenForOrder
from bot.services.refunds.service import RefundLedger
from bot.services.refunds.updates import Notice
from bot.services.refunds.vouchers import pay_in_store_credit, store_credit_due, voucher_notice
from storage.enums import (
    CaseStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RequestKind,
    RequestStatus,
)
from storage.models import (
    MERCHANT_REQUEST_PREFIX,
    CancellationRequest,
    Conversation,
    Offer,
    Order,
    Refund,
    SupportCase,
    Voucher,
)
from storage.uow import UnitOfWork

MERCHANT_ACTOR = "merchant"
MERCHANT_RULE = "merchant_cancellation"
CASE_ORIGIN = "merchant_cancellation"
"""`SupportCase.decision["origin"]` of the case that holds a merchant cancellation's offers."""
KEYBOARD_KIND = "merchant_offers"
NOT_SHIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING})
CANCELLABLE = NOT_SHIPPED | {OrderStatus.SHIPPED}


@dataclass(frozen=True, slots=True)
class OfferMade:
    id: int
    type: OfferType
    value: Money
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class MerchantCancellation:
    """What one cancel event did; a repeat returns the same values with `replayed` set."""

    order_number: str
    event_id: str
    reason: MerchantReason
    request_id: int
    refund: Money  # zero when nothing was paid
    refund_id: int | None
    refund_method: PaymentMethod | None
    refund_status: RefundStatus | None  # as the cancellation left it
    offers: tuple[OfferMade, ...]
    notice: Notice
    replayed: bool = False


def merchant_request_id(case: SupportCase) -> int | None:
    """The request whose offers `case` holds, or None for a customer's own case."""
    decision = case.decision or {}
    if decision.get("origin") != CASE_ORIGIN:
        return None
    request_id = decision.get("request_id")
    return request_id if isinstance(request_id, int) else None


_KEY_PREFIX = MERCHANT_REQUEST_PREFIX


def _key(event_id: str) -> str:
    return _KEY_PREFIX + event_id


class MerchantCancellations:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy, default_locale: str) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._default_locale = default_locale
        self._ledger = RefundLedger(uow, clock)
        self._outbox = Outbox(uow, clock)

    async def cancel(
        self, number: str, reason: MerchantReason, *, event_id: str, note: str | None = None
    ) -> MerchantCancellation:
        """Cancel, refund, restock and apologise; or raise and change nothing: UnknownOrder,
        OrderNotCancellable, EventIdConflict. `note` is internal: kept, never shown."""
        try:
            async with self._uow.transaction():
                return await self._cancel(number, reason, event_id, note)
        except IntegrityError:
            # Someone committed first: a concurrent repeat of this event, or a customer
            # confirming their own cancellation of the order (one active request per order).
            async with self._uow.transaction():
                request = await self._uow.cases.request_by_key(_key(event_id))
                if request is not None:
                    return await self._replay(request, number, reason)
                order = await self._uow.orders.by_number(number)
                if order is not None and await self._uow.cases.active_request_for_order(order.id):
                    raise OrderNotCancellable(
                        f"order {number} has a cancellation under way"
                    ) from None
                raise

    async def _cancel(
        self, number: str, reason: MerchantReason, event_id: str, note: str | None
    ) -> MerchantCancellation:
        # Lock first, then look for the event: a concurrent repeat of this event has
        # committed by the time the lock is ours, so it is found rather than refused.
        order = await self._uow.orders.by_number_for_update(number)
        previous = await self._uow.cases.request_by_key(_key(event_id))
        if previous is not None:
            return await self._replay(previous, number, reason)
        if order is None:
            raise UnknownOrder(number)
        await self._check_cancellable(order)
        now = self._clock.now()
        shipped = order.status not in NOT_SHIPPED
        # Lock what was given while the order was kept: none of it changes while it is
        # taken back (an unused voucher) or deducted (a spent one, a refund).
        given = await GivenForOrder.lock(self._uow, order.id)
        request = await self._stage_request(order, reason, event_id, note, given, now)
        await self._uow.flush()
        given.settle(request.id, now)
        refund, voucher = await self._stage_refund(order, request, reason, now)
        request.decision = {
            **(request.decision or {}),
            "refund_status": refund.status.value if refund else None,
        }
        if refund is None or refund.status is RefundStatus.REFUNDED:
            move_request(request, RequestStatus.COMPLETED, now)
        order.status, order.updated_at = OrderStatus.CANCELLED, now
        if not shipped:  # a parcel on its way counts again once it is back (stock sync)
            await self._release_stock(order, request)
        offers, notice = await self._apologise(order, request, refund, voucher, reason, given, now)
        return _result(order, request, refund, offers, notice)

    async def _check_cancellable(self, order: Order) -> None:
        if order.status not in CANCELLABLE:
            raise OrderNotCancellable(
                f"order {order.number} is {order.status}: only orders not yet delivered "
                "can be cancelled"
            )
        active = await self._uow.cases.active_request_for_order(order.id)
        if active is not None:
            raise OrderNotCancellable(
                f"order {order.number} has cancellation request {active.id} under way "
                f"({active.status}); settle its refund with events instead"
            )

    async def _stage_request(
        self,
        order: Order,
        reason: MerchantReason,
        event_id: str,
        note: str | None,
        given: GivenForOrder,
        now: datetime,
    ) -> CancellationRequest:
        """The whole order, less what earlier requests already took back."""
        taken = await self._uow.cases.requested_quantities(order.id)
        lines = {
            item.id: item.quantity - taken.get(item.id, 0)
            for item in order.items
            if item.quantity > taken.get(item.id, 0)
        }
        if not lines:
            raise OrderNotCancellable(
                f"every item of order {order.number} is in a cancellation already"
            )
        refund = await self._refundable(order, given)
        request = new_request(
            order,
            kind=RequestKind.CANCEL,
            status=RequestStatus.APPROVED,
            lines=lines,
            refund_amount=refund.amount,
            idempotency_key=_key(event_id),
            reason_code=ReasonCode.OTHER,
            reason_text=note,
            rule=MERCHANT_RULE,
            decision={
                "initiated_by": MERCHANT_ACTOR,
                "merchant_reason": reason.value,
                "event_id": event_id,
            },
            now=now,
        )
        open_request(self._uow, request)
        return request

    async def _refundable(self, order: Order, given: GivenForOrder) -> Money:
        """What was paid, less refunds already given or under way (an accepted partial
        refund) and compensation vouchers already spent: refund and compensation never
        stack, as in the customer's own cancellation."""
        zero = Money.zero(order.currency)
        if order.paid_at is None:
            return zero
        refunded = sum(
            (
                Money(refund.amount, refund.currency)
                for refund in await self._uow.refunds.for_order(order.id)
                if refund.status not in (RefundStatus.REJECTED, RefundStatus.CANCELLED)
            ),
            zero,
        )
        left = Money(order.total, order.currency) - refunded - given.spent_vouchers(order.currency)
        return left if left.amount > 0 else zero

    async def _stage_refund(
        self, order: Order, request: CancellationRequest, reason: MerchantReason, now: datetime
    ) -> tuple[Refund | None, Voucher | None]:
        """Approved at once, back the way it was paid (cash on delivery: the policy's first
        target, store credit by default, paid at once as a voucher)."""
        assert request.refund_amount is not None
        amount = Money(request.refund_amount, order.currency)
        if amount.amount == 0:
            return None, None
        target = self._policy.refund_methods.by_payment.for_payment(order.payment_method)[0]
        arrival = self._policy.arrival.for_method(target.method)
        refund = self._ledger.open(
            order_id=order.id,
            customer_id=order.customer_id,
            request_id=request.id,
            amount=amount,
            method=target.method,
            status=RefundStatus.APPROVED,
            expected_by=arrival.expected_between(now)[1],
            actor=MERCHANT_ACTOR,
            note=f"merchant cancellation: {reason}",
        )
        if not store_credit_due(refund, awaits_goods=False):
            return refund, None
        return refund, pay_in_store_credit(self._uow, self._ledger, refund, now=now)

    async def _release_stock(self, order: Order, request: CancellationRequest) -> None:
        skus = {item.id: item.sku for item in order.items}
        for line in request.items:
            await self._uow.stock.release(skus[line.order_item_id], line.quantity)

    async def _apologise(
        self,
        order: Order,
        request: CancellationRequest,
        refund: Refund | None,
        voucher: Voucher | None,
        reason: MerchantReason,
        given: GivenForOrder,
        now: datetime,
    ) -> tuple[tuple[OfferMade, ...], Notice]:
        """The customer's message, with the policy's offers as buttons; nobody to tell when
        no Telegram account is linked (and then no offers: nobody could take them)."""
        customer = await self._uow.customers.get(order.customer_id)
        assert customer is not None
        chat = await customer_chat(self._uow, customer, self._default_locale)
        if chat is None:
            return (), Notice.NOT_LINKED
        specs = merchant_offers(
            reason,
            OrderFacts.of(order),
            await stock_for(self._uow, order),
            self._policy,
            refund_withdrawable=refund is not None and refund.status is RefundStatus.APPROVED,
        )
        case_id, offers = await self._record_offers(order, request, chat, specs, now)
        method = refund.method if refund else None
        arrival = self._policy.arrival.for_method(method) if method else None
        self._outbox.enqueue(
            chat_id=chat.chat_id,
            customer_id=order.customer_id,
            locale=chat.locale,
            template="notify/merchant_cancelled",
            context={
                "order_number": order.number,
                "reason": reason.value,
                "refund": Money(refund.amount, refund.currency) if refund else None,
                "method": method.value if method else None,
                "arrival": arrival.model_dump(mode="json") if arrival else None,
                "voucher": voucher_notice(voucher) if voucher else None,
                "given": given.lines(),
                "paid": order.paid_at is not None,
                "offers": [
                    {"type": offer.type.value, "value": offer.value, "params": offer.params}
                    for offer in offers
                ],
                "valid_until": (
                    now + timedelta(days=self._policy.merchant_cancellation.offer_valid_days)
                    if offers
                    else None
                ),
            },
            keyboard=_keyboard(case_id, offers) if offers else None,
            dedupe_key=_notice_key(request),
        )
        return offers, Notice.QUEUED

    async def _record_offers(
        self,
        order: Order,
        request: CancellationRequest,
        chat: CustomerChat,
        specs: tuple[OfferSpec, ...],
        now: datetime,
    ) -> tuple[int | None, tuple[OfferMade, ...]]:
        """A case in the customer's chat holding one row per offer shown (the save rate counts
        them). It is born confirmed, since the cancellation is done: it never blocks the
        chat's own conversations, nor do they end it."""
        if not specs:
            return None, ()
        conversation = await self._conversation(chat, order.customer_id, now)
        case = SupportCase(
            telegram_user_id=chat.user_id,
            chat_id=chat.chat_id,
            conversation_id=conversation.id,
            customer_id=order.customer_id,
            order_id=order.id,
            status=CaseStatus.CONFIRMED,
            decision={"origin": CASE_ORIGIN, "request_id": request.id},
            created_at=now,
            updated_at=now,
            closed_at=now,
        )
        self._uow.cases.add(case)
        await self._uow.flush()
        rows = await OfferRecords(self._uow).show(case.id, order, specs, now)
        request.decision = {**(request.decision or {}), "offers_case_id": case.id}
        return case.id, tuple(_made(row) for row in rows)

    async def _conversation(
        self, chat: CustomerChat, customer_id: int, now: datetime
    ) -> Conversation:
        """The chat's open conversation, or a new one: every case belongs to one."""
        conversation = await self._uow.conversations.open_for_chat(chat.chat_id)
        if conversation is None:
            conversation = Conversation(
                chat_id=chat.chat_id,
                telegram_user_id=chat.user_id,
                customer_id=customer_id,
                started_at=now,
                last_activity_at=now,
            )
            self._uow.conversations.add(conversation)
            await self._uow.flush()
        return conversation

    async def _replay(
        self, request: CancellationRequest, number: str, reason: MerchantReason
    ) -> MerchantCancellation:
        """The first answer again, if this really is the same event."""
        order = await self._uow.orders.get(request.order_id)
        assert order is not None
        recorded = request.decision or {}
        if order.number != number or recorded.get("merchant_reason") != reason.value:
            raise EventIdConflict(
                f"event id {recorded.get('event_id')!r} was already used to cancel order "
                f"{order.number} ({recorded.get('merchant_reason')}); use a new id"
            )
        refund = await self._uow.refunds.for_request(request.id)
        case_id = recorded.get("offers_case_id")
        rows = await self._uow.offers.for_case(case_id) if isinstance(case_id, int) else ()
        queued = await self._uow.outbox.by_dedupe_key(_notice_key(request)) is not None
        return _result(
            order,
            request,
            refund,
            tuple(_made(row) for row in rows),
            Notice.QUEUED if queued else Notice.NOT_LINKED,
            replayed=True,
        )


def _result(
    order: Order,
    request: CancellationRequest,
    refund: Refund | None,
    offers: tuple[OfferMade, ...],
    notice: Notice,
    *,
    replayed: bool = False,
) -> MerchantCancellation:
    """Built from stored values only, so a repeat answers exactly like the first call."""
    recorded = request.decision or {}
    status = recorded.get("refund_status")
    assert request.refund_amount is not None
    return MerchantCancellation(
        order_number=order.number,
        event_id=str(recorded["event_id"]),
        reason=MerchantReason(recorded["merchant_reason"]),
        request_id=request.id,
        refund=Money(request.refund_amount, request.currency),
        refund_id=refund.id if refund else None,
        refund_method=refund.method if refund else None,
        refund_status=RefundStatus(status) if status else None,
        offers=offers,
        notice=notice,
        replayed=replayed,
    )


def _made(row: Offer) -> OfferMade:
    return OfferMade(row.id, row.type, Money(row.value, row.currency), dict(row.params))


def _notice_key(request: CancellationRequest) -> str:
    return f"request:{request.id}:merchant_cancelled"


def _keyboard(case_id: int | None, offers: tuple[OfferMade, ...]) -> dict[str, Any]:
    """What `dialogs.outbox_keyboards` needs to draw the buttons, without the database."""
    return {
        "kind": KEYBOARD_KIND,
        "case_id": case_id,
        "offers": [
            {
                "id": offer.id,
                "type": offer.type.value,
                "value": offer.value.plain(),
                "currency": offer.value.currency,
                "params": offer.params,
            }
            for offer in offers
        ],
    }
