"""`decide`: the first policy rule that matches a request, turned into exact money.

Pure: the caller passes `now` and every fact, so the same inputs always give the
same decision and tests need no clock. Nothing here knows which rules exist; it only
evaluates the vocabulary that `model.When` and `model.Then` define.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from bot.services.domain.money import Money
from bot.services.policy.explain import Clause, because
from bot.services.policy.facts import (
    CustomerFacts,
    GivenKind,
    ItemFacts,
    OrderFacts,
    RequestFacts,
)
from bot.services.policy.model import (
    NO_RULE,
    ApprovalSettings,
    Arrival,
    DecisionKind,
    GeneralSettings,
    Photo,
    Policy,
    Rule,
    Span,
    Then,
    When,
)
from storage.enums import (
    CustomerTier,
    ItemCategory,
    ItemCondition,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

FactValue = bool | int | Decimal | str


class Approval(StrEnum):
    AUTOMATIC = "automatic"
    AGENT = "agent"


class ApprovalReason(StrEnum):
    OVER_LIMIT = "over_limit"
    FREQUENT_REQUESTS = "frequent_requests"
    NO_PHOTO = "no_photo"  # the rule wants a photo; the customer described it instead


class _Jsonable(Protocol):
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class BreakdownLine:
    """One part of the order, once: its `price`, the `amount` of it refunded (it counts
    toward the refund) and what the shop keeps (`kept`, None when nothing).

    Codes: "items" (or "booking") at the rule's percent; "shipping", refunded or kept;
    "shipping_partial", kept because the rest of the order still needed it; "not_paid",
    the order's total, owed and not paid, so nothing to refund. What was given while the
    order was kept comes last: "given_refund" and "given_voucher_spent" are deducted (a
    negative `amount`), "given_voucher_unused" is taken back (amount 0); `reference` is
    the voucher's code.
    """

    code: str
    price: Money
    amount: Money
    percent: Decimal | None = None
    kept: Money | None = None
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "price": self.price.plain(),
            "amount": self.amount.plain(),
            "percent": None if self.percent is None else str(self.percent),
            "kept": None if self.kept is None else self.kept.plain(),
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class RefundOption:
    """Where the refund can go; `amount` is what the customer receives, bonus included."""

    method: PaymentMethod
    amount: Money
    bonus: Money
    completed_by_agent: bool
    arrival: Arrival

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "amount": self.amount.plain(),
            "bonus": self.bonus.plain(),
            "completed_by_agent": self.completed_by_agent,
            "arrival": {
                "unit": self.arrival.unit.value,
                "min": self.arrival.min,
                "max": self.arrival.max,
                "label": self.arrival.label(),
            },
        }


@dataclass(frozen=True, slots=True)
class ExcludedItem:
    """One selected line the decision leaves out: it stays with the customer, unrefunded."""

    item_id: int
    sku: str
    quantity: int
    price: Money

    def to_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "price": self.price.plain(),
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Selected items the rules refuse while they grant the rest (strawberries next to a
    kettle): which, the rule that refused them and why, from that rule's own conditions."""

    items: tuple[ExcludedItem, ...]
    rule: str
    because: tuple[Clause, ...]

    def covers(self, item_id: int) -> bool:
        return any(item.item_id == item_id for item in self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [item.to_json() for item in self.items],
            "rule": self.rule,
            "because": [clause.to_json() for clause in self.because],
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy says; `facts` holds the numbers an explanation may cite."""

    eligible: bool
    rule: str
    kind: DecisionKind | None
    refund: Money
    breakdown: tuple[BreakdownLine, ...]
    refund_options: tuple[RefundOption, ...]
    approval: Approval
    approval_reasons: tuple[ApprovalReason, ...]
    return_required: bool
    needs_condition: bool
    needs_photo: bool
    photo: Photo
    facts: Mapping[str, FactValue]
    # Why: the deciding rule's own conditions as they held (empty when no rule decided).
    because: tuple[Clause, ...] = ()
    # Selected items this decision leaves out, and why (None: it covers the whole selection).
    excluded: Exclusion | None = None

    def covers(self, item_id: int) -> bool:
        """Whether a selected item is part of what this decision grants or refuses."""
        return self.excluded is None or not self.excluded.covers(item_id)

    @property
    def final(self) -> bool:
        """False while the bot must still ask for the item's condition or a photo."""
        return not (self.needs_condition or self.needs_photo)

    def to_json(self, offers: Iterable[_Jsonable] = ()) -> dict[str, Any]:
        """As stored with the request and shown to agents; the caller supplies the offers."""
        return {
            "eligible": self.eligible,
            "rule": self.rule,
            "kind": None if self.kind is None else self.kind.value,
            "refund_amount": self.refund.plain(),
            "currency": self.refund.currency,
            "breakdown": [line.to_json() for line in self.breakdown],
            "approval": self.approval.value,
            "approval_reasons": [reason.value for reason in self.approval_reasons],
            "refund_methods": [option.to_json() for option in self.refund_options],
            "return_required": self.return_required,
            "needs_condition": self.needs_condition,
            "needs_photo": self.needs_photo,
            "photo": self.photo.value,
            "facts": {key: _json_value(value) for key, value in self.facts.items()},
            "because": [clause.to_json() for clause in self.because],
            "excluded": None if self.excluded is None else self.excluded.to_json(),
            "offers": [offer.to_json() for offer in offers],
        }


def _json_value(value: FactValue) -> bool | int | str:
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True, slots=True)
class SelectedLine:
    item: ItemFacts
    quantity: int

    @property
    def total(self) -> Money:
        return self.item.unit_price * self.quantity


def select_lines(
    order: OrderFacts, selection: Mapping[int, int] | None
) -> tuple[SelectedLine, ...]:
    """The items a request covers, in the order's line order; refuses what was not ordered."""
    if selection is None:
        return tuple(SelectedLine(item, item.ordered_quantity) for item in order.items)
    known = {item.item_id for item in order.items}
    if unknown := sorted(set(selection) - known):
        raise ValueError(f"items {unknown} are not in order {order.number}")
    lines = []
    for item in order.items:
        if item.item_id not in selection:
            continue
        quantity = selection[item.item_id]
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValueError(f"item {item.item_id}: quantity must be an integer")
        if not 1 <= quantity <= item.ordered_quantity:
            most = item.ordered_quantity
            raise ValueError(f"item {item.item_id}: quantity must be 1 to {most}, not {quantity}")
        lines.append(SelectedLine(item, quantity))
    if not lines:
        raise ValueError("the selection is empty")
    return tuple(lines)


def is_whole_order(order: OrderFacts, lines: Sequence[SelectedLine]) -> bool:
    """Every line at its full quantity: only then does the shipping fee go back too."""
    return len(lines) == len(order.items) and all(
        line.quantity == line.item.ordered_quantity for line in lines
    )


def _returnable(item: ItemFacts, general: GeneralSettings) -> bool:
    """Returnable by the item's own flag, its category and, for digital goods, activation."""
    return (
        item.returnable
        and item.category not in general.non_returnable_categories
        and not _activated(item)
    )


def _activated(item: ItemFacts) -> bool:
    return item.category is ItemCategory.DIGITAL and item.activated


@dataclass(frozen=True, slots=True)
class _Situation:
    """The request seen through the policy vocabulary, computed once per decision."""

    status: OrderStatus
    categories: frozenset[ItemCategory]
    all_returnable: bool
    any_activated: bool
    reason: ReasonCode
    merchant_fault: bool
    condition: ItemCondition | None
    since_delivery: timedelta | None
    before_service: timedelta | None  # None once the service time has come: see since_service
    since_service: timedelta | None  # how long ago the service time came; None while ahead


def _situation(
    order: OrderFacts,
    request: RequestFacts,
    lines: Sequence[SelectedLine],
    now: datetime,
    general: GeneralSettings,
) -> _Situation:
    # A service whose time has come is not "less than 24 hours away": it has passed, and
    # only `service_passed` speaks of it, so no hours window can match it by accident.
    ahead = None if order.service_at is None else order.service_at - now
    return _Situation(
        status=order.status,
        categories=frozenset(line.item.category for line in lines),
        all_returnable=all(_returnable(line.item, general) for line in lines),
        any_activated=any(_activated(line.item) for line in lines),
        reason=request.reason,
        merchant_fault=merchant_fault(order, request.reason, now, general),
        condition=request.condition,
        since_delivery=None if order.delivered_at is None else now - order.delivered_at,
        before_service=None if ahead is None or ahead <= timedelta(0) else ahead,
        since_service=None if ahead is None or ahead > timedelta(0) else -ahead,
    )


def merchant_fault(
    order: OrderFacts, reason: ReasonCode, now: datetime, general: GeneralSettings
) -> bool:
    """A fault reason; "late" only counts once the whole promised day has passed, locally."""
    if reason not in general.merchant_fault_reasons:
        return False
    if reason is not ReasonCode.LATE_DELIVERY:
        return True
    if order.promised_delivery_date is None:
        return False
    arrived = order.delivered_at or now
    return arrived.astimezone(general.zone).date() > order.promised_delivery_date


class _Match(Enum):
    NO = "no"
    YES = "yes"
    NEEDS_CONDITION = "needs_condition"


def _match(when: When, s: _Situation) -> _Match:
    """AND of the given conditions; the item's condition is asked last, and only if it matters."""
    matched = (
        (when.order_status is None or s.status in when.order_status)
        and (when.category is None or not s.categories.isdisjoint(when.category))
        and (when.returnable is None or when.returnable == s.all_returnable)
        and (when.activated is None or when.activated == s.any_activated)
        and (when.reason is None or s.reason in when.reason)
        and (when.reason_not is None or s.reason not in when.reason_not)
        and (when.merchant_fault is None or when.merchant_fault == s.merchant_fault)
        and _within(when.days_since_delivery, s.since_delivery, DAY)
        and _within(when.hours_before_service, s.before_service, HOUR)
        and (when.service_passed is None or when.service_passed == (s.since_service is not None))
    )
    if not matched:
        return _Match.NO
    if when.condition is None:
        return _Match.YES
    if s.condition is None:
        return _Match.NEEDS_CONDITION
    return _Match.YES if s.condition in when.condition else _Match.NO


def _within(span: Span | None, elapsed: timedelta | None, unit: timedelta) -> bool:
    """No span always holds; a span never holds for a moment the order does not have."""
    return span is None or (elapsed is not None and span.contains(elapsed, unit))


def decide(
    order: OrderFacts,
    request: RequestFacts,
    customer: CustomerFacts,
    now: datetime,
    policy: Policy,
) -> Decision:
    """Apply the first matching rule; "no_rule" (not eligible) when none does.

    A selection that mixes returnable and non-returnable items is first decided as a
    whole. When that is a refusal, the non-returnable items are decided alone; if the
    rules refuse them too, the rest is decided without them and the decision names
    them and why (`excluded`): a kettle still goes back when strawberries came with it,
    and a refusal of the kettle says why for each part.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    lines = select_lines(order, request.selection)
    whole = _decide_lines(order, request, customer, lines, now, policy)
    if whole.eligible or whole.needs_condition:
        return whole
    kept_back = [line for line in lines if not _returnable(line.item, policy.general)]
    rest = [line for line in lines if _returnable(line.item, policy.general)]
    if not kept_back or not rest:
        return whole
    refused = _decide_lines(order, request, customer, kept_back, now, policy)
    if refused.eligible or refused.needs_condition:
        return whole
    items = tuple(
        ExcludedItem(line.item.item_id, line.item.sku, line.quantity, line.total)
        for line in kept_back
    )
    without = _decide_lines(order, request, customer, rest, now, policy)
    return replace(without, excluded=Exclusion(items, refused.rule, refused.because))


def _decide_lines(
    order: OrderFacts,
    request: RequestFacts,
    customer: CustomerFacts,
    lines: Sequence[SelectedLine],
    now: datetime,
    policy: Policy,
) -> Decision:
    """The first matching rule for exactly these lines."""
    situation = _situation(order, request, lines, now, policy.general)
    facts = _situation_facts(order, situation)
    for rule in policy.rules:
        match = _match(rule.when, situation)
        if match is _Match.NEEDS_CONDITION:
            return _refused(rule.id, rule.then.kind, order.currency, facts, needs_condition=True)
        if match is _Match.YES:
            facts |= _rule_facts(rule)
            why = _because(rule.when, situation, policy.general)
            if not rule.then.eligible:
                return _refused(rule.id, rule.then.kind, order.currency, facts, because=why)
            return _granted(rule, order, request, customer, lines, now, policy, facts, why)
    return _refused(NO_RULE, None, order.currency, facts)


def _because(when: When, s: _Situation, general: GeneralSettings) -> tuple[Clause, ...]:
    return because(
        when,
        status=s.status,
        categories=s.categories,
        reason=s.reason,
        merchant_fault=s.merchant_fault,
        condition=s.condition,
        days_since_delivery=None if s.since_delivery is None else s.since_delivery // DAY,
        hours_before_service=None if s.before_service is None else s.before_service // HOUR,
        days_since_service=None if s.since_service is None else s.since_service // DAY,
        non_returnable=general.non_returnable_categories,
    )


def _refused(
    rule: str,
    kind: DecisionKind | None,
    currency: str,
    facts: dict[str, FactValue],
    *,
    needs_condition: bool = False,
    because: tuple[Clause, ...] = (),
) -> Decision:
    """Nothing to refund: not eligible, or not decided until the customer says more."""
    return Decision(
        eligible=False,
        rule=rule,
        kind=kind,
        refund=Money.zero(currency),
        breakdown=(),
        refund_options=(),
        approval=Approval.AUTOMATIC,
        approval_reasons=(),
        return_required=False,
        needs_condition=needs_condition,
        needs_photo=False,
        photo=Photo.NONE,
        facts=MappingProxyType(facts),
        because=because,
    )


def _granted(
    rule: Rule,
    order: OrderFacts,
    request: RequestFacts,
    customer: CustomerFacts,
    lines: Sequence[SelectedLine],
    now: datetime,
    policy: Policy,
    facts: dict[str, FactValue],
    because: tuple[Clause, ...],
) -> Decision:
    then = rule.then
    breakdown = _breakdown(then, order, lines)
    zero = Money.zero(order.currency)
    # What was given while the order was kept may exceed what this request refunds.
    total = sum((line.amount for line in breakdown), zero)
    refund = total if total.amount > 0 else zero
    approval, reasons, approval_facts = _approval(refund, customer, now, policy.approval)
    photo_missing = then.photo is Photo.REQUIRED and not request.has_photo
    if photo_missing and request.no_photo and refund.amount > 0:
        # The photo is how the claim is checked: without one, a person checks it (a VIP
        # too: the VIP rule waives the amount and count limits, not the evidence).
        approval, reasons = Approval.AGENT, (*reasons, ApprovalReason.NO_PHOTO)
    return Decision(
        eligible=True,
        rule=rule.id,
        kind=then.kind,
        refund=refund,
        breakdown=breakdown,
        refund_options=_refund_options(refund, order.payment_method, policy),
        approval=approval,
        approval_reasons=reasons,
        return_required=then.return_required,
        needs_condition=False,
        needs_photo=photo_missing and not request.no_photo,
        photo=then.photo,
        facts=MappingProxyType(facts | approval_facts),
        because=because,
    )


def _breakdown(
    then: Then, order: OrderFacts, lines: Sequence[SelectedLine]
) -> tuple[BreakdownLine, ...]:
    """Items at the rule's percent, plus shipping only when the whole order is called off.

    A partial request keeps the shipping fee because it still carried the rest of the
    order; that also means shipping can never be refunded twice over several requests.
    Free shipping gets no line: there is nothing to refund or keep.
    """
    zero = Money.zero(order.currency)
    if not order.is_paid:
        return (BreakdownLine("not_paid", order.total, zero),)
    gross = sum((line.total for line in lines), zero)
    percent = then.items_percent
    refunded = gross.percent(percent)
    code = "booking" if then.kind is DecisionKind.BOOKING else "items"
    kept = gross - refunded if refunded < gross else None
    result = [BreakdownLine(code, gross, refunded, percent, kept)]
    fee = order.shipping_fee
    if fee.amount > 0:
        if then.refund_shipping and is_whole_order(order, lines):
            result.append(BreakdownLine("shipping", fee, fee))
        else:
            kept_why = "shipping" if not then.refund_shipping else "shipping_partial"
            result.append(BreakdownLine(kept_why, fee, zero, kept=fee))
    return tuple(result) + _taken_back(order)


def _taken_back(order: OrderFacts) -> tuple[BreakdownLine, ...]:
    """No stacking: a refund or a spent voucher given while the order was kept is deducted;
    an unused voucher is taken back (voided) instead, so nothing is deducted for it."""
    zero = Money.zero(order.currency)
    return tuple(
        BreakdownLine(
            f"given_{given.kind}",
            given.value,
            zero if given.kind is GivenKind.VOUCHER_UNUSED else zero - given.value,
            reference=given.reference,
        )
        for given in order.given
    )


def _approval(
    refund: Money,
    customer: CustomerFacts,
    now: datetime,
    settings: ApprovalSettings,
) -> tuple[Approval, tuple[ApprovalReason, ...], dict[str, FactValue]]:
    """Automatic up to the limit (inclusive); an agent above it or for frequent requesters.

    This request counts as one of the frequent ones, so with `frequent_requests = 3`
    two earlier requests inside the window make this third one go to an agent.
    """
    since = now - timedelta(days=settings.frequent_window_days)
    requests = 1 + sum(1 for at in customer.previous_request_times if at >= since)
    limit = settings.limit_for(refund.currency)
    facts: dict[str, FactValue] = {
        "requests_in_window": requests,
        "frequent_window_days": settings.frequent_window_days,
        "approval_limit": Money(limit, refund.currency).plain(),
    }
    vip = customer.tier is CustomerTier.VIP and settings.vip_always_automatic
    if refund.amount == 0 or vip:
        return Approval.AUTOMATIC, (), facts
    reasons = []
    if refund.amount > limit:
        reasons.append(ApprovalReason.OVER_LIMIT)
    if requests >= settings.frequent_requests:
        reasons.append(ApprovalReason.FREQUENT_REQUESTS)
    return (Approval.AGENT if reasons else Approval.AUTOMATIC), tuple(reasons), facts


def _refund_options(
    refund: Money, paid_with: PaymentMethod, policy: Policy
) -> tuple[RefundOption, ...]:
    """The methods the file allows for this payment method; store credit earns the bonus."""
    if refund.amount == 0:
        return ()
    settings = policy.refund_methods
    options = []
    for target in settings.by_payment.for_payment(paid_with):
        earns_bonus = target.method is PaymentMethod.STORE_CREDIT and (
            paid_with is not PaymentMethod.STORE_CREDIT
        )
        bonus = (
            refund.percent(settings.store_credit_bonus_percent)
            if earns_bonus
            else Money.zero(refund.currency)
        )
        options.append(
            RefundOption(
                method=target.method,
                amount=refund + bonus,
                bonus=bonus,
                completed_by_agent=target.completed_by_agent,
                arrival=policy.arrival.for_method(target.method),
            )
        )
    return tuple(options)


def _situation_facts(order: OrderFacts, s: _Situation) -> dict[str, FactValue]:
    """Whole days and hours (rounded down) for texts; matching itself uses exact durations."""
    facts: dict[str, FactValue] = {"merchant_fault": s.merchant_fault}
    if s.since_delivery is not None:
        facts["days_since_delivery"] = s.since_delivery // DAY
    if s.before_service is not None:
        facts["hours_before_service"] = s.before_service // HOUR
    if s.since_service is not None:
        facts["days_since_service"] = s.since_service // DAY
    if order.promised_delivery_date is not None:
        facts["promised_delivery_date"] = order.promised_delivery_date.isoformat()
    return facts


def _rule_facts(rule: Rule) -> dict[str, FactValue]:
    """The deciding rule's own numbers: its day window, its hour bounds, its percent."""
    facts: dict[str, FactValue] = {}
    days = rule.when.days_since_delivery
    if days is not None:
        window = next(b for b in (days.max, days.above, days.below, days.min) if b is not None)
        facts["window_days"] = window
    hours = rule.when.hours_before_service
    if hours is not None:
        bounds = {
            "hours_min": hours.min,
            "hours_max": hours.max,
            "hours_above": hours.above,
            "hours_below": hours.below,
        }
        facts |= {key: bound for key, bound in bounds.items() if bound is not None}
    if rule.then.eligible:
        facts["percent"] = rule.then.items_percent
    return facts
