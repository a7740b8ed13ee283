"""Moving a refund on when the merchant's systems (or an operator) report what happened.

`RefundUpdates.apply` serves the merchant API, `cancelbot refund-event` and, later, the
agents. In one transaction it checks the transition against the state machine, records
it under the caller's event id, keeps the cancellation request in step with the refund,
and queues the customer's notice. An event id is applied once: sent again it returns
what the first call did and changes nothing, so a merchant may retry without fear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from bot.services.cancellation.requests import move_request
from bot.services.conversation.customer_chat import customer_chat
from bot.services.conversation.surveys import SurveyService
from bot.services.conversation.tickets import TicketService
from bot.services.domain.clock import Clock
from bot.services.domain.money import Money, parse_amount
from bot.services.merchant.errors import (
    EventIdConflict,
    InvalidAmount,
    InvalidTime,
    OutOfOrder,
    UnknownRefund,
)
from bot.services.outbox import Outbox
from bot.services.policy import Arrival, Policy
from bot.services.refunds.service import RefundLedger, awaits_goods
from bot.services.refunds.vouchers import pay_in_store_credit, store_credit_due, voucher_notice
from storage.enums import (
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
    VoucherKind,
)
from storage.models import CancellationRequest, Order, Refund, RefundEvent, Voucher
from storage.uow import UnitOfWork

CUSTOMER_VISIBLE = frozenset(
    {
        RefundStatus.APPROVED,
        RefundStatus.PROCESSING,
        RefundStatus.REFUNDED,
        RefundStatus.FAILED,
        RefundStatus.REJECTED,
        RefundStatus.CANCELLED,
    }
)
# The request's fate once its refund can move no more.
REQUEST_WHEN_REFUND_ENDS = {
    RefundStatus.REFUNDED: RequestStatus.COMPLETED,
    RefundStatus.REJECTED: RequestStatus.DENIED,
    RefundStatus.CANCELLED: RequestStatus.WITHDRAWN,
}
_ON_ITS_WAY = frozenset({RefundStatus.APPROVED, RefundStatus.PROCESSING})
# Statuses whose note is the customer's explanation; other notes stay internal.
_NOTE_SHOWN = frozenset({RefundStatus.REJECTED, RefundStatus.CANCELLED})
# Refunds that will never pay anything back; the others count against what was paid.
_NOT_PAID_BACK = frozenset({RefundStatus.REJECTED, RefundStatus.CANCELLED})
# Merchant clocks drift; an event this little ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)


class Notice(StrEnum):
    """What the customer was told about an event."""

    QUEUED = "queued"  # a message is in the outbox
    NOT_LINKED = "not_linked"  # the customer has no Telegram account linked: nobody to tell
    NOT_SHOWN = "not_shown"  # a status customers are not told about


@dataclass(frozen=True, slots=True)
class RefundUpdate:
    """One applied event. A repeat returns the very same values, with `replayed` set."""

    refund_id: int
    event_id: str
    from_status: RefundStatus | None
    status: RefundStatus
    currency: str
    amount: Money | None
    occurred_at: datetime
    recorded_at: datetime
    notice: Notice
    replayed: bool = False


class RefundUpdates:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy, default_locale: str) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._default_locale = default_locale
        self._ledger = RefundLedger(uow, clock)
        self._outbox = Outbox(uow, clock)
        self._surveys = SurveyService(uow, clock)
        self._tickets = TicketService(uow, clock)

    async def apply(
        self,
        refund_id: int,
        status: RefundStatus,
        *,
        actor: str,
        event_id: str,
        occurred_at: datetime,
        note: str | None = None,
        amount: Decimal | None = None,
    ) -> RefundUpdate:
        """Apply one event, or raise and change nothing: UnknownRefund, IllegalTransition,
        EventIdConflict, InvalidAmount (more than the refund, wrong decimals), InvalidTime.

        `amount` is what the event moved when the sender says so (e.g. what was actually
        paid out); it is kept with the event and shown to the customer.
        """
        try:
            async with self._uow.transaction():
                return await self._apply(
                    refund_id, status, actor, event_id, occurred_at, note, amount
                )
        except IntegrityError:
            # The same event id was committed meanwhile for another refund (for the same
            # refund the row lock makes us wait and see it): answer as a repeat would.
            async with self._uow.transaction():
                previous = await self._uow.refunds.event_by_external_id(event_id)
                if previous is None:
                    raise
                return await self._replay(previous, refund_id, status, amount)

    async def stage(
        self,
        refund_id: int,
        status: RefundStatus,
        *,
        actor: str,
        event_id: str,
        occurred_at: datetime,
        note: str | None = None,
    ) -> RefundUpdate:
        """`apply` inside the caller's transaction (an agent's action records itself with
        the event); a concurrent repeat of `event_id` fails the caller's commit."""
        return await self._apply(refund_id, status, actor, event_id, occurred_at, note, None)

    async def _apply(
        self,
        refund_id: int,
        status: RefundStatus,
        actor: str,
        event_id: str,
        occurred_at: datetime,
        note: str | None,
        amount: Decimal | None,
    ) -> RefundUpdate:
        # Lock first, then look for the event: a concurrent repeat of this event has
        # committed by the time the lock is ours, so it is found rather than re-applied.
        refund = await self._uow.refunds.get_for_update(refund_id)
        previous = await self._uow.refunds.event_by_external_id(event_id)
        if previous is not None:
            return await self._replay(previous, refund_id, status, amount)
        if refund is None:
            raise UnknownRefund(refund_id)
        moved = _moved(refund, amount)
        occurred = self._occurred(occurred_at)
        _after_the_latest(refund, occurred)
        event = self._ledger.move(
            refund, status, actor=actor, note=note, occurred_at=occurred, external_event_id=event_id
        )
        event.amount = moved.amount if moved else None
        voucher = await self._follow(refund, event)
        await self._uow.flush()  # the event's id keys its notice
        notice = await self._notify(refund, event, moved, voucher)
        await self._ask_survey(refund)
        # The agents' side (issue 9): settle the ticket this step fulfils (an approval
        # closes its NEEDS_APPROVAL ticket, whoever approved), escalate a failed payment.
        await self._tickets.follow_refund(refund, event)
        return _result(refund, event, notice)

    # -- a refund a person decides (issue 9) -------------------------------------------------

    async def grant(
        self,
        order_id: int,
        amount: Decimal,
        *,
        actor: str,
        event_id: str,
        note: str | None = None,
    ) -> RefundUpdate:
        """Refund part of an order because a person decided so (an agent's partial refund).

        The refund is opened approved, to where the policy sends refunds of the order's
        payment method, then follows the approval path every refund follows (expected
        arrival, store credit paid at once, the customer's notice). It may not take the
        order's refunds past what was paid (InvalidAmount); `event_id` names the opening
        event, so the same grant sent again returns the first result and changes nothing.
        """
        try:
            async with self._uow.transaction():
                previous = await self._uow.refunds.event_by_external_id(event_id)
                if previous is not None:
                    return await self._replay(
                        previous, previous.refund_id, previous.to_status, None
                    )
                return await self.stage_grant(
                    order_id, amount, actor=actor, event_id=event_id, note=note
                )
        except IntegrityError:
            async with self._uow.transaction():
                previous = await self._uow.refunds.event_by_external_id(event_id)
                if previous is None:
                    raise
                return await self._replay(previous, previous.refund_id, previous.to_status, None)

    async def stage_grant(
        self,
        order_id: int,
        amount: Decimal,
        *,
        actor: str,
        event_id: str,
        note: str | None = None,
    ) -> RefundUpdate:
        """`grant` inside the caller's transaction."""
        order = await self._uow.orders.get_for_update(order_id)
        if order is None:
            raise InvalidAmount("there is no such order")
        exact = _grantable(order, amount, await self._uow.refunds.for_order(order.id))
        target = self._policy.refund_methods.by_payment.for_payment(order.payment_method)[0]
        refund = self._ledger.open(
            order_id=order.id,
            customer_id=order.customer_id,
            amount=Money(exact, order.currency),
            method=target.method,
            status=RefundStatus.APPROVED,
            actor=actor,
            note=note,
        )
        event = refund.events[0]
        event.external_event_id = event_id
        voucher = await self._follow(refund, event)
        await self._uow.flush()
        notice = await self._notify(refund, event, None, voucher)
        await self._tickets.follow_refund(refund, event)
        return _result(refund, event, notice)

    async def _replay(
        self, event: RefundEvent, refund_id: int, status: RefundStatus, amount: Decimal | None
    ) -> RefundUpdate:
        """The first call's result, if this is really the same event."""
        if event.refund_id != refund_id or event.to_status is not status or event.amount != amount:
            raise EventIdConflict(
                f"event id {event.external_event_id!r} was already used for refund "
                f"{event.refund_id} ({event.to_status}); use a new id for a new event"
            )
        refund = await self._uow.refunds.get(event.refund_id)
        assert refund is not None  # events are deleted only with their refund
        if event.to_status not in CUSTOMER_VISIBLE:
            notice = Notice.NOT_SHOWN
        elif await self._uow.outbox.by_dedupe_key(_notice_key(event)) is not None:
            notice = Notice.QUEUED
        else:
            notice = Notice.NOT_LINKED
        return _result(refund, event, notice, replayed=True)

    def _occurred(self, occurred_at: datetime) -> datetime:
        if occurred_at.utcoffset() is None:
            raise InvalidTime("must include a time zone, e.g. 2026-11-23T10:00:00+08:00")
        if occurred_at > self._clock.now() + CLOCK_SKEW:
            raise InvalidTime("is in the future")
        return occurred_at.astimezone(UTC)

    async def _follow(self, refund: Refund, event: RefundEvent) -> Voucher | None:
        """Keep the arrival estimate, the store credit and the request in step with the refund.

        Returns the voucher when store credit was paid out now: at approval, or for a
        return once the merchant moves the refund on (the parcel is back).
        """
        request = (
            await self._uow.cases.get_request(refund.request_id) if refund.request_id else None
        )
        waiting = awaits_goods(request) and refund.status is RefundStatus.APPROVED
        arrival = _arrival(self._policy, refund.method)
        if refund.status in _ON_ITS_WAY and arrival and not waiting:
            refund.expected_by = arrival.expected_between(event.occurred_at)[1]
        voucher = None
        if store_credit_due(refund, awaits_goods=awaits_goods(request)):
            voucher = pay_in_store_credit(
                self._uow, self._ledger, refund, now=self._clock.now(), kind=_credit_kind(request)
            )
        if request is None or not request.is_active:
            return voucher
        now = self._clock.now()
        if request.status is RequestStatus.PENDING_REVIEW and event.to_status is (
            RefundStatus.APPROVED
        ):
            await self._approve(request, now)
        if ended := REQUEST_WHEN_REFUND_ENDS.get(refund.status):
            move_request(request, ended, now)
        request.updated_at = now
        return voucher

    async def _approve(self, request: CancellationRequest, now: datetime) -> None:
        """The approval an agent was asked for: a cancellation that waited for it happens now."""
        move_request(request, RequestStatus.APPROVED, now)
        if request.kind is RequestKind.RETURN:
            return  # the goods come back first; the order keeps its status
        order = await self._uow.orders.get(request.order_id)
        if order is None or order.status is OrderStatus.CANCELLED:
            return
        order.status, order.updated_at = OrderStatus.CANCELLED, now
        skus = {item.id: item.sku for item in order.items}
        for line in request.items:
            await self._uow.stock.release(skus[line.order_item_id], line.quantity)

    async def _notify(
        self, refund: Refund, event: RefundEvent, moved: Money | None, voucher: Voucher | None
    ) -> Notice:
        """Queue the customer's message in this transaction: it exists iff the change does."""
        if refund.status not in CUSTOMER_VISIBLE:
            return Notice.NOT_SHOWN
        customer = await self._uow.customers.get(refund.customer_id)
        assert customer is not None
        chat = await customer_chat(self._uow, customer, self._default_locale)
        if chat is None:
            return Notice.NOT_LINKED
        order = await self._uow.orders.get(refund.order_id)
        assert order is not None
        arrival = _arrival(self._policy, refund.method)
        self._outbox.enqueue(
            chat_id=chat.chat_id,
            customer_id=refund.customer_id,
            locale=chat.locale,
            template="notify/refund_status",
            context={
                "order_number": order.number,
                "status": refund.status.value,
                "amount": moved or Money(refund.amount, refund.currency),
                "method": refund.method.value,
                "arrival": arrival.model_dump(mode="json") if arrival else None,
                "expected_by": refund.expected_by,
                "note": event.note if refund.status in _NOTE_SHOWN else None,
                "voucher": voucher_notice(voucher) if voucher else None,
            },
            dedupe_key=_notice_key(event),
            coalesce_key=f"refund:{refund.id}",
        )
        return Notice.QUEUED

    # -- the satisfaction survey (issue 5) ---------------------------------------------------

    async def _ask_survey(self, refund: Refund) -> None:
        """The refund's end closed its request: ask the customer how we did, once.

        Queued after the refund's notice, so the outcome is read first; like the notice,
        only a linked customer is asked. `SurveyService` decides which endings count.
        """
        if refund.request_id is None or refund.status not in REQUEST_WHEN_REFUND_ENDS:
            return
        request = await self._uow.cases.get_request(refund.request_id)
        customer = await self._uow.customers.get(refund.customer_id)
        assert request is not None  # a refund's request is never deleted
        assert customer is not None
        chat = await customer_chat(self._uow, customer, self._default_locale)
        if chat is not None:
            await self._surveys.ask_about_request(request, chat_id=chat.chat_id, locale=chat.locale)


def _after_the_latest(refund: Refund, occurred: datetime) -> None:
    """Refuse an event that happened before the refund's latest one: applying it would
    move the refund back (a "failed" at 17:00 after "processing" at 18:00 is old news).

    Times the merchant sent are compared as they are; the bot's own steps are stamped
    by its clock, so those get the usual CLOCK_SKEW of slack.
    """
    latest = refund.events[-1]
    slack = timedelta(0) if latest.external_event_id is not None else CLOCK_SKEW
    if occurred < latest.occurred_at - slack:
        raise OutOfOrder(
            f"{occurred.isoformat()} is before the refund's latest event "
            f"({latest.to_status} at {latest.occurred_at.isoformat()}): applied now it "
            "would move the refund back, so nothing changed"
        )


def _moved(refund: Refund, amount: Decimal | None) -> Money | None:
    if amount is None:
        return None
    try:
        exact = parse_amount(amount, refund.currency)
    except ValueError as exc:
        raise InvalidAmount(str(exc)) from None
    if exact <= 0:
        raise InvalidAmount("must be above 0")
    if exact > refund.amount:
        limit = Money(refund.amount, refund.currency)
        raise InvalidAmount(f"is more than the refund ({limit.plain()} {limit.currency})")
    return Money(exact, refund.currency)


def _grantable(order: Order, amount: Decimal, refunds: Sequence[Refund]) -> Decimal:
    """`amount` exactly, if what was paid for the order still covers it."""
    try:
        exact = parse_amount(amount, order.currency)
    except ValueError as exc:
        raise InvalidAmount(str(exc)) from None
    if exact <= 0:
        raise InvalidAmount("must be above 0")
    paid = order.total if order.paid_at is not None else Decimal(0)
    refunded = sum((r.amount for r in refunds if r.status not in _NOT_PAID_BACK), Decimal(0))
    left = Money(paid - refunded, order.currency)
    if exact > left.amount:
        raise InvalidAmount(f"is more than what is left to refund ({left.plain()} {left.currency})")
    return exact


def _credit_kind(request: CancellationRequest | None) -> VoucherKind:
    """Store credit the customer chose for its bonus is a bonus voucher, as at confirmation."""
    methods = (request.decision or {}).get("refund_methods", []) if request else []
    bonus = any(
        option.get("method") == PaymentMethod.STORE_CREDIT.value
        and Decimal(option.get("bonus", "0")) > 0
        for option in methods
    )
    return VoucherKind.BONUS if bonus else VoucherKind.STORE_CREDIT


def _arrival(policy: Policy, method: PaymentMethod) -> Arrival | None:
    """How long the method takes; cash on delivery is never a refund target and has none."""
    if method is PaymentMethod.CASH_ON_DELIVERY:
        return None
    return policy.arrival.for_method(method)


def _notice_key(event: RefundEvent) -> str:
    return f"refund:{event.refund_id}:event:{event.id}"


def _result(
    refund: Refund, event: RefundEvent, notice: Notice, *, replayed: bool = False
) -> RefundUpdate:
    """Built from the stored event only, so a repeat returns exactly the first answer."""
    return RefundUpdate(
        refund_id=refund.id,
        event_id=event.external_event_id or "",
        from_status=event.from_status,
        status=event.to_status,
        currency=refund.currency,
        amount=None if event.amount is None else Money(event.amount, refund.currency),
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        notice=notice,
        replayed=replayed,
    )
