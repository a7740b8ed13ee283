"""Accepting an alternative to a refund: the order is kept (or exchanged) and the case saved.

An offer button may be pressed long after it was shown. It is honoured only while
its case is open, and only if the policy, asked again now, still makes the same
offer at no less than the value shown; otherwise it expires and the customer sees
what is on offer today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.services.cancellation.case_facts import evaluate
from bot.services.cancellation.cases import CaseUnavailable
from bot.services.cancellation.exchanges import EXCHANGE_RULE, Exchange, ExchangeKind, Exchanges
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.cancellation.requests import move_request, new_request, whole_order
from bot.services.conversation.tickets import TicketService
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.errors import OrderNotVisible
from bot.services.domain.money import Money
from bot.services.linking.identity import Identity
from bot.services.merchant.webhook_events import open_request
from bot.services.outbox import Outbox
from bot.services.policy import Approval, Decision, DecisionKind, OfferSpec, Policy
from bot.services.policy.offers import variant_values
from bot.services.refunds.service import RefundLedger
from bot.services.refunds.vouchers import (
    issue_voucher,
    pay_in_store_credit,
    store_credit_due,
    voucher_notice,
)
from storage.enums import (
    CaseStatus,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
    TicketReason,
    VoucherKind,
)
from storage.models import Offer, Order, SupportCase, Voucher
from storage.uow import UnitOfWork


class Accepted(StrEnum):
    SAVED = "saved"  # the alternative is in place; the case is closed
    REFUND_METHOD = "refund_method"  # store credit: go on to the summary with it
    CHOOSE_VARIANT = "choose_variant"  # an exchange: the customer picks the variant first
    UNAVAILABLE = "unavailable"  # the offer expired or is no longer made


@dataclass(frozen=True, slots=True)
class VariantChoice:
    """One variant an exchange may send; `index` is its place in the offer's list."""

    index: int
    sku: str
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class OfferOutcome:
    result: Accepted
    order: OrderView | None = None
    type: OfferType | None = None
    value: Money | None = None
    details: dict[str, str] = field(default_factory=dict)
    choices: tuple[VariantChoice, ...] = ()


@dataclass(frozen=True, slots=True)
class _Applied:
    """An alternative put in place: what the customer is told, and the voucher it issued."""

    details: dict[str, str]
    voucher: Voucher | None = None


class AlternativesService:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._outbox = Outbox(uow, clock)
        self._refunds = RefundLedger(uow, clock)
        self._tickets = TicketService(uow, clock)
        self._offers = OfferRecords(uow)

    async def accept(
        self, identity: Identity, case_id: int, offer_id: int, choice: int | None = None
    ) -> OfferOutcome:
        """Put the offer in place. An exchange the customer's words did not settle asks
        which variant first (CHOOSE_VARIANT); `choice` is their pick from that list."""
        async with self._uow.transaction():
            case = await self._open_case(identity, case_id, lock=True)
            offer = await self._uow.offers.get(offer_id)
            if offer is None or offer.case_id != case.id:
                raise CaseUnavailable
            order = await self._order(identity, case)
            view = OrderView.of(order, identity.locale)
            now = self._clock.now()
            customer = await self._uow.customers.get(order.customer_id)
            assert customer is not None
            evaluation = await evaluate(self._uow, case, order, customer, now, self._policy)
            if offer.status is not OfferStatus.SHOWN or not _still_offered(
                offer, evaluation.offers
            ):
                if offer.status is OfferStatus.SHOWN:
                    self._offers.answer(offer, OfferStatus.EXPIRED, now)
                return OfferOutcome(Accepted.UNAVAILABLE, view, offer.type)
            if offer.type is OfferType.STORE_CREDIT:
                case.refund_method = PaymentMethod.STORE_CREDIT
                return OfferOutcome(Accepted.REFUND_METHOD, view, offer.type, _value(offer))
            if offer.type is OfferType.EXCHANGE and not offer.params.get("sku"):
                choices = await self._choices(offer)
                if choice is None or not 0 <= choice < len(choices):
                    return OfferOutcome(
                        Accepted.CHOOSE_VARIANT, view, offer.type, _value(offer), choices=choices
                    )
                picked = choices[choice]
                offer.params = {
                    **offer.params,
                    "sku": picked.sku,
                    "attributes": variant_values(picked.attributes),
                }
            applied = await self._apply(identity, case, order, offer, evaluation.decision, now)
            if applied is None:
                self._offers.answer(offer, OfferStatus.EXPIRED, now)
                return OfferOutcome(Accepted.UNAVAILABLE, view, offer.type)
            await self._offers.take(offer, now)
            case.status, case.closed_at, case.updated_at = CaseStatus.SAVED, now, now
            self._outbox.enqueue(
                chat_id=identity.chat_id,
                customer_id=order.customer_id,
                locale=identity.locale,
                template="notify/offer_accepted",
                context={
                    "order_number": order.number,
                    "type": offer.type.value,
                    "value": _value(offer),
                    "details": applied.details,
                    "voucher": voucher_notice(applied.voucher) if applied.voucher else None,
                },
                dedupe_key=f"offer:{offer.id}:accepted",
            )
            return OfferOutcome(Accepted.SAVED, view, offer.type, _value(offer), applied.details)

    async def _apply(
        self,
        identity: Identity,
        case: SupportCase,
        order: Order,
        offer: Offer,
        decision: Decision,
        now: datetime,
    ) -> _Applied | None:
        """Put the alternative in place; None when it can no longer be done (stock gone)."""
        value = _value(offer)
        if offer.type is OfferType.PARTIAL_REFUND:
            automatic = decision.approval is Approval.AUTOMATIC or (
                value.amount <= self._policy.approval.limit_for(value.currency)
            )
            method = decision.refund_options[0].method if decision.refund_options else None
            if method is None:
                return None
            refund = self._refunds.open(
                order_id=order.id,
                customer_id=order.customer_id,
                offer_id=offer.id,
                amount=value,
                method=method,
                status=RefundStatus.APPROVED if automatic else RefundStatus.PENDING_REVIEW,
                note="partial refund, item kept",
            )
            if not automatic:
                await self._tickets.stage(identity, TicketReason.NEEDS_APPROVAL, case_id=case.id)
            credit = None
            if store_credit_due(refund, awaits_goods=False):  # cash on delivery: store credit
                credit = pay_in_store_credit(self._uow, self._refunds, refund, now=now)
            details = {"method": method.value, "approved": "yes" if automatic else "no"}
            return _Applied(details, credit)
        if offer.type is OfferType.COMPENSATION_VOUCHER:
            voucher = issue_voucher(
                self._uow,
                customer_id=order.customer_id,
                kind=VoucherKind.COMPENSATION,
                value=value,
                now=now,
                offer_id=offer.id,
            )
            if not decision.eligible and decision.kind is DecisionKind.BOOKING:
                # Too late to refund a booking: the voucher replaces the refund, and the
                # customer still wanted it called off.
                self._stage_closed_booking(case, order, decision, now)
                return _Applied({"code": voucher.code, "cancelled": "yes"}, voucher)
            return _Applied({"code": voucher.code}, voucher)
        if offer.type is OfferType.EXPEDITED_SHIPPING:
            order.expedite_requested_at = now
            return _Applied({})
        if offer.type is OfferType.EXCHANGE:
            exchanged = await self._exchange(case, order, offer, now)
            return None if exchanged is None else _Applied(exchanged)
        return None

    def _stage_closed_booking(
        self, case: SupportCase, order: Order, decision: Decision, now: datetime
    ) -> None:
        order.status = OrderStatus.CANCELLED
        request = new_request(
            order,
            case=case,
            kind=RequestKind.BOOKING,
            status=RequestStatus.APPROVED,
            lines=whole_order(order),
            refund_amount=Money.zero(order.currency).amount,
            rule=decision.rule,
            now=now,
        )
        # Nothing to pay back (the voucher replaces the refund): finished as it is made.
        move_request(request, RequestStatus.COMPLETED, now)
        open_request(self._uow, request)

    async def _exchange(
        self, case: SupportCase, order: Order, offer: Offer, now: datetime
    ) -> dict[str, str] | None:
        """The variant in place (`Exchanges`); after shipping, the original's return too."""
        original = next((i for i in order.items if i.sku == offer.params.get("replaces")), None)
        sku = offer.params.get("sku", "")
        if original is None or not sku:
            return None
        quantity = original.quantity
        if case.selection:
            quantity = int(case.selection.get(str(original.id), quantity))
        original_id = original.id
        done = await Exchanges(self._uow).exchange(order, original, sku, quantity, now)
        if done is None:
            return None
        if done.kind is ExchangeKind.REPLACEMENT:
            self._stage_return(case, order, original_id, done, now)
        await self._uow.flush()
        return done.receipt()

    def _stage_return(
        self, case: SupportCase, order: Order, item_id: int, done: Exchange, now: datetime
    ) -> None:
        """The original comes back: a return with nothing to refund, marked an exchange."""
        request = new_request(
            order,
            case=case,
            kind=RequestKind.RETURN,
            status=RequestStatus.APPROVED,
            lines={item_id: done.quantity},
            refund_amount=Money.zero(order.currency).amount,
            rule=EXCHANGE_RULE,
            decision={"exchange": done.record()},
            now=now,
        )
        open_request(self._uow, request)

    async def _choices(self, offer: Offer) -> tuple[VariantChoice, ...]:
        """The variants the offer lets the customer pick from, closest first."""
        skus = [sku for sku in offer.params.get("alternatives", "").split(",") if sku]
        stock = await self._uow.stock.by_skus(skus)
        return tuple(
            VariantChoice(index, sku, dict(stock[sku].attributes))
            for index, sku in enumerate(skus)
            if sku in stock
        )

    async def _open_case(
        self, identity: Identity, case_id: int, *, lock: bool = False
    ) -> SupportCase:
        case = await (
            self._uow.cases.get_for_update(case_id) if lock else self._uow.cases.get(case_id)
        )
        if (
            case is None
            or case.telegram_user_id != identity.user_id
            or case.status is not CaseStatus.OPEN
        ):
            raise CaseUnavailable
        return case

    async def _order(self, identity: Identity, case: SupportCase) -> Order:
        if case.order_id is None:
            raise CaseUnavailable
        order = await self._uow.orders.visible_one(
            case.order_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if order is None:
            raise OrderNotVisible
        return order


def _value(offer: Offer) -> Money:
    return Money(offer.value, offer.currency)


def _still_offered(offer: Offer, fresh: tuple[OfferSpec, ...]) -> bool:
    """The policy still makes this offer, and at no less than what the customer saw."""
    return any(
        spec.type is offer.type
        and spec.params.get("sku") == offer.params.get("sku")
        and spec.value.currency == offer.currency
        and spec.value.amount >= offer.value
        for spec in fresh
    )
