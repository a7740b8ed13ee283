"""Confirming a cancellation: everything changes in one transaction, exactly once.

The order's status, the cancellation request and its items, the refund with its
first event, a voucher for store credit, the stock of cancelled items, a ticket
when an agent must approve, and the outbox message that tells the customer: all
commit together or not at all. Exactly once is enforced by the database (the
request's idempotency key is the case, a refund's request id is unique, and one
order has at most one active request), so a double tap, an old button or two
devices confirming at once produce a single cancellation and a single refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from bot.services.cancellation.case_facts import Evaluation, evaluate, needs_item_choice
from bot.services.cancellation.cases import CaseUnavailable
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.cancellation.requests import move_request, new_request
from bot.services.conversation.surveys import SurveyService
from bot.services.conversation.tickets import TicketService
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.errors import OrderNotVisible
from bot.services.domain.money import Money
from bot.services.linking.identity import Identity
from bot.services.merchant.webhook_events import open_request
from bot.services.outbox import Outbox
from bot.services.policy import Approval, Decision, DecisionKind, Policy, RefundOption
from bot.services.refunds.given import GivenForOrder
from bot.services.refunds.service import RefundLedger
from bot.services.refunds.vouchers import (
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
from storage.models import (
    CancellationRequest,
    Order,
    Refund,
    SupportCase,
    Voucher,
)
from storage.uow import UnitOfWork


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"  # this case was confirmed before (a double tap)
    IN_PROGRESS = "in_progress"  # another request for the order is under way
    CHANGED = "changed"  # the terms moved since the summary: show them again
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True, slots=True)
class Confirmation:
    outcome: Outcome
    order: OrderView | None = None
    request_id: int | None = None
    refund: Money | None = None
    method: PaymentMethod | None = None
    approval: Approval | None = None
    decision: Decision | None = None


class CancellationService:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._refunds = RefundLedger(uow, clock)
        self._outbox = Outbox(uow, clock)
        self._tickets = TicketService(uow, clock)
        self._surveys = SurveyService(uow, clock)
        self._offers = OfferRecords(uow)

    async def confirm(self, identity: Identity, case_id: int) -> Confirmation:
        try:
            async with self._uow.transaction():
                return await self._confirm(identity, case_id)
        except IntegrityError:
            # Someone committed first: the same tap delivered twice (this case), or
            # another device confirming the same order (another case).
            async with self._uow.transaction():
                return await self._after_conflict(identity, case_id)

    async def _confirm(self, identity: Identity, case_id: int) -> Confirmation:
        found = await self._uow.cases.with_visible_order(
            case_id, identity.user_id, identity.customer_id, self._clock.now(), lock=True
        )
        if found is None or found[0].telegram_user_id != identity.user_id:
            raise CaseUnavailable
        case, order = found
        if case.status is not CaseStatus.OPEN:
            return await self._already(identity, case_id)
        if case.order_id is None:
            raise CaseUnavailable
        if order is None:
            raise OrderNotVisible
        view = OrderView.of(order, identity.locale)
        active = await self._uow.cases.active_request_for_order(order.id)
        if active is not None:
            return Confirmation(Outcome.IN_PROGRESS, view, active.id)

        now = self._clock.now()
        customer = await self._uow.customers.get(order.customer_id)
        assert customer is not None
        # Lock what was given for the order first: none of it changes while it is taken back.
        given = await GivenForOrder.lock(self._uow, order.id)
        evaluation = await evaluate(
            self._uow, case, order, customer, now, self._policy, given=given.facts()
        )
        decision = evaluation.decision
        if not decision.eligible or not decision.final:
            return Confirmation(Outcome.NOT_ELIGIBLE, view, decision=decision)
        option = _option(decision, case.refund_method)
        if _terms_changed(case, evaluation, option):
            case.decision = decision.to_json(evaluation.offers)
            return Confirmation(Outcome.CHANGED, view, decision=decision)

        request = self._stage_request(case, order, decision, now)
        await self._uow.flush()
        given.settle(request.id, now)  # what the decision's `given_*` lines deducted
        approved = decision.approval is Approval.AUTOMATIC
        method = option.method if option else None
        refund_row, voucher = None, None
        if option is not None and option.amount.amount > 0:
            refund_row, voucher = self._stage_refund(
                order, request, option, approved, now, awaits_goods=decision.return_required
            )
        if approved and (refund_row is None or refund_row.status is RefundStatus.REFUNDED):
            # Nothing (more) to pay back: the request is finished as it is made.
            move_request(request, RequestStatus.COMPLETED, now)
        if approved and decision.kind in (DecisionKind.CANCEL, DecisionKind.BOOKING):
            order.status = OrderStatus.CANCELLED
            await self._release_stock(order, request)
        if not approved:
            await self._tickets.stage(identity, TicketReason.NEEDS_APPROVAL, case_id=case.id)
        elif option is not None and option.completed_by_agent and refund_row is not None:
            # A bank transfer is paid by a person: they need a ticket to act on.
            await self._tickets.stage(identity, TicketReason.COMPLETE_TRANSFER, case_id=case.id)
        await self._answer_offers(case, order, option, now)
        case.status, case.closed_at, case.updated_at = CaseStatus.CONFIRMED, now, now
        refund = option.amount if option else Money.zero(order.currency)
        self._outbox.enqueue(
            chat_id=identity.chat_id,
            customer_id=order.customer_id,
            locale=identity.locale,
            template="notify/cancellation_confirmed",
            context={
                "order_number": order.number,
                "kind": decision.kind.value if decision.kind else "cancel",
                "refund": refund,
                "method": method.value if method else None,
                "approved": approved,
                "return_required": decision.return_required,
                "arrival": option.arrival.model_dump(mode="json") if option else None,
                "voucher": voucher_notice(voucher) if voucher else None,
                "by_agent": bool(option and option.completed_by_agent),
            },
            dedupe_key=f"request:{request.id}:confirmed",
        )
        # Finished as it was made (store credit, nothing to pay back): the case has ended.
        await self._surveys.ask_about_request(
            request, chat_id=identity.chat_id, locale=identity.locale
        )
        return Confirmation(
            Outcome.DONE, view, request.id, refund, method, decision.approval, decision
        )

    def _stage_request(
        self, case: SupportCase, order: Order, decision: Decision, now: datetime
    ) -> CancellationRequest:
        approved = decision.approval is Approval.AUTOMATIC
        assert decision.kind is not None
        chosen = {int(k): v for k, v in (case.selection or {}).items()}
        request = new_request(
            order,
            case=case,
            kind=RequestKind(decision.kind.value),
            status=RequestStatus.APPROVED if approved else RequestStatus.PENDING_REVIEW,
            lines={
                # Items the policy excludes stay with the customer: not part of the request.
                item.id: (chosen.get(item.id, 0) if needs_item_choice(order) else item.quantity)
                if decision.covers(item.id)
                else 0
                for item in order.items
            },
            refund_amount=decision.refund.amount,
            rule=decision.rule,
            decision=case.decision,
            now=now,
        )
        open_request(self._uow, request)
        return request

    def _stage_refund(
        self,
        order: Order,
        request: CancellationRequest,
        option: RefundOption,
        approved: bool,
        now: datetime,
        *,
        awaits_goods: bool,
    ) -> tuple[Refund, Voucher | None]:
        """The refund and, for store credit paid at once, its voucher.

        While goods must come back first, nothing is on its way yet: no expected date,
        and store credit is paid when the merchant records the parcel back.
        """
        on_its_way = approved and not awaits_goods
        expected_by = option.arrival.expected_between(now)[1] if on_its_way else None
        refund = self._refunds.open(
            order_id=order.id,
            customer_id=order.customer_id,
            request_id=request.id,
            amount=option.amount,
            method=option.method,
            status=RefundStatus.APPROVED if approved else RefundStatus.PENDING_REVIEW,
            expected_by=expected_by,
        )
        if not store_credit_due(refund, awaits_goods=awaits_goods):
            return refund, None
        kind = VoucherKind.BONUS if option.bonus.amount else VoucherKind.STORE_CREDIT
        return refund, pay_in_store_credit(self._uow, self._refunds, refund, now=now, kind=kind)

    async def _release_stock(self, order: Order, request: CancellationRequest) -> None:
        """Items of a cancelled order go back on the shelf."""
        by_item = {item.id: item for item in order.items}
        for line in request.items:
            await self._uow.stock.release(by_item[line.order_item_id].sku, line.quantity)

    async def _answer_offers(
        self, case: SupportCase, order: Order, option: RefundOption | None, now: datetime
    ) -> None:
        """Shown offers were declined by confirming; store credit with a bonus counts as
        the store-credit offer accepted, for the once-per-period guard."""
        if option is None or option.bonus.amount <= 0:  # all declined: no need to read them
            await self._offers.answer_open(case.id, OfferStatus.DECLINED, now)
            return
        shown = await self._uow.offers.shown_for_case(case.id)
        for offer in shown:
            accepted = offer.type is OfferType.STORE_CREDIT
            self._offers.answer(
                offer, OfferStatus.ACCEPTED if accepted else OfferStatus.DECLINED, now
            )
        if not any(offer.type is OfferType.STORE_CREDIT for offer in shown):
            self._offers.taken_unasked(
                case.id,
                order,
                OfferType.STORE_CREDIT,
                option.amount,
                {"via": "refund_method"},
                now,
            )

    async def _order(self, identity: Identity, case: SupportCase) -> Order:
        if case.order_id is None:
            raise CaseUnavailable
        order = await self._uow.orders.visible_one(
            case.order_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if order is None:
            raise OrderNotVisible
        return order

    async def _after_conflict(self, identity: Identity, case_id: int) -> Confirmation:
        if await self._uow.cases.request_for_case(case_id) is not None:
            return await self._already(identity, case_id)
        case = await self._uow.cases.get(case_id)
        if case is None or case.telegram_user_id != identity.user_id:
            raise CaseUnavailable
        order = await self._order(identity, case)
        active = await self._uow.cases.active_request_for_order(order.id)
        if active is None:
            raise CaseUnavailable
        return Confirmation(Outcome.IN_PROGRESS, OrderView.of(order, identity.locale), active.id)

    async def _already(self, identity: Identity, case_id: int) -> Confirmation:
        case = await self._uow.cases.get(case_id)
        if case is None or case.telegram_user_id != identity.user_id:
            raise CaseUnavailable
        request = await self._uow.cases.request_for_case(case_id)
        if request is None:
            raise CaseUnavailable
        order = await self._order(identity, case)
        refund = await self._uow.refunds.for_request(request.id)
        return Confirmation(
            Outcome.ALREADY_DONE,
            OrderView.of(order, identity.locale),
            request.id,
            Money(refund.amount, refund.currency) if refund else None,
            refund.method if refund else None,
        )


def _option(decision: Decision, method: PaymentMethod | None) -> RefundOption | None:
    """The refund option the customer chose, or the first (the original payment method)."""
    if not decision.refund_options:
        return None
    for option in decision.refund_options:
        if option.method is method:
            return option
    return decision.refund_options[0]


def _terms_changed(case: SupportCase, evaluation: Evaluation, option: RefundOption | None) -> bool:
    """True when what the customer confirms is not what the summary showed them."""
    shown = case.decision or {}
    decision = evaluation.decision
    if shown.get("refund_amount") != decision.refund.plain():
        return True
    if shown.get("approval") != decision.approval.value:
        return True
    shown_methods = {m["method"]: m["amount"] for m in shown.get("refund_methods", [])}
    return option is not None and shown_methods.get(option.method.value) != option.amount.plain()
