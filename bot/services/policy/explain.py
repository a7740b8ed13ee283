"""Why the policy decided what it did, built from the file itself, never from rule names.

`because` turns the deciding rule's own conditions into clauses the customer reads
("your booking is 50 hours away, at least 48 hours before it"), so a rule the merchant
renames, re-numbers or adds explains itself. `explain_rows` lays the whole loaded policy
out in plain English rows for `cancelbot policy explain`; those are for the merchant at
a terminal, so they stay English and name the file's own vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from bot.services.policy.model import (
    NO_RULE,
    OfferCandidate,
    OfferWhen,
    Photo,
    Policy,
    Span,
    Then,
    When,
)
from storage.enums import (
    ItemCategory,
    ItemCondition,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One condition of the deciding rule, as it held for this request.

    `code` is the condition's key in the file (`hours_before_service`, `reason`, …).
    `values` are the request's own (the order's status, the categories of its items the
    rule names, the customer's reason, the item's condition), except for `reason_not`
    (the reasons the rule excludes) and `returnable = false` (the categories the shop
    never takes back). The bounds are the rule's own numbers and `count` the request's
    (whole days since delivery, whole hours before the service, whole days since a
    service whose time has passed), so the explanation
    says 48 hours when the file says 48.
    """

    code: str
    values: tuple[str, ...] = ()
    flag: bool | None = None
    count: int | None = None
    min: int | None = None
    max: int | None = None
    above: int | None = None
    below: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
            if value is not None and value != ()
        }


def because(
    when: When,
    *,
    status: OrderStatus,
    categories: Iterable[ItemCategory],
    reason: ReasonCode,
    merchant_fault: bool,
    condition: ItemCondition | None,
    days_since_delivery: int | None,
    hours_before_service: int | None,
    days_since_service: int | None = None,
    non_returnable: Iterable[ItemCategory] = (),
) -> tuple[Clause, ...]:
    """The clauses of a rule that matched: what the order is, how long ago or ahead, then
    why the customer asks and in what state the item is (`reason` and `merchant_fault`
    carry the customer's reason in `values` and whether it is the shop's fault in `flag`)."""
    clauses: list[Clause] = []
    if when.order_status is not None:
        clauses.append(Clause("order_status", (status.value,)))
    if when.category is not None:
        named = sorted({category.value for category in categories} & set(when.category))
        clauses.append(Clause("category", tuple(named)))
    if when.returnable is not None:
        shut = () if when.returnable else tuple(category.value for category in non_returnable)
        clauses.append(Clause("returnable", shut, flag=when.returnable))
    if when.activated is not None:
        clauses.append(Clause("activated", flag=when.activated))
    if when.days_since_delivery is not None:
        clauses.append(
            _spanned("days_since_delivery", when.days_since_delivery, days_since_delivery)
        )
    if when.hours_before_service is not None:
        clauses.append(
            _spanned("hours_before_service", when.hours_before_service, hours_before_service)
        )
    if when.service_passed is not None:
        clauses.append(Clause("service_passed", flag=when.service_passed, count=days_since_service))
    if when.reason is not None:
        clauses.append(Clause("reason", (reason.value,), flag=merchant_fault))
    if when.reason_not is not None:
        clauses.append(Clause("reason_not", tuple(code.value for code in when.reason_not)))
    if when.merchant_fault is not None:
        clauses.append(Clause("merchant_fault", (reason.value,), flag=merchant_fault))
    if when.condition is not None and condition is not None:
        clauses.append(Clause("condition", (condition.value,)))
    return tuple(clauses)


def _spanned(code: str, span: Span, count: int | None) -> Clause:
    return Clause(code, count=count, min=span.min, max=span.max, above=span.above, below=span.below)


@dataclass(frozen=True, slots=True)
class ExplainRow:
    """One line of the explanation: a rule (when → then) or a setting (then only)."""

    section: str
    name: str
    when: str
    then: str


def explain_rows(policy: Policy) -> list[ExplainRow]:
    """Everything the policy decides, in the order it is applied."""
    return [
        *_general_rows(policy),
        *(
            ExplainRow("rule", rule.id, describe_when(rule.when), _then(rule.then))
            for rule in policy.rules
        ),
        ExplainRow("rule", NO_RULE, "no rule above matched", "not eligible (an agent can help)"),
        *_approval_rows(policy),
        *_refund_method_rows(policy),
        *_arrival_rows(policy),
        *_sla_rows(policy),
        *_offer_rows(policy),
    ]


def _either(values: Iterable[str]) -> str:
    """Values as a list in prose: a, "a or b", "a, b or c"."""
    items = [str(value) for value in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def _span(span: Span, unit: str) -> str:
    bounds = [
        ("at least", span.min),
        ("more than", span.above),
        ("at most", span.max),
        ("less than", span.below),
    ]
    return " and ".join(f"{words} {count}" for words, count in bounds if count is not None) + (
        f" {unit}s"
    )


def describe_when(when: When) -> str:
    """The rule's conditions joined with "and"; "always" for a catch-all."""
    parts = []
    if when.order_status:
        parts.append(f"order is {_either(when.order_status)}")
    if when.category:
        parts.append(f"an item is in category {_either(when.category)}")
    if when.returnable is not None:
        parts.append("every item returnable" if when.returnable else "an item is not returnable")
    if when.activated is not None:
        parts.append("a digital item activated" if when.activated else "no digital item activated")
    if when.reason:
        parts.append(f"reason is {_either(when.reason)}")
    if when.reason_not:
        excluded = list(when.reason_not)
        neither = f"neither {' nor '.join(excluded)}" if len(excluded) > 1 else f"not {excluded[0]}"
        parts.append(f"reason is {neither}")
    if when.merchant_fault is not None:
        parts.append("the shop is at fault" if when.merchant_fault else "the shop is not at fault")
    if when.condition:
        parts.append(f"item is {_either(when.condition)}")
    if when.days_since_delivery:
        parts.append(f"delivered {_span(when.days_since_delivery, 'day')} ago")
    if when.hours_before_service:
        parts.append(f"service {_span(when.hours_before_service, 'hour')} away")
    if when.service_passed is not None:
        parts.append(
            "the service time has passed" if when.service_passed else "the service is still ahead"
        )
    return " and ".join(parts) or "always"


def _then(then: Then) -> str:
    if not then.eligible:
        return f"not eligible ({then.kind})" if then.kind else "not eligible"
    if not then.items_percent and not then.refund_shipping:
        parts = [f"{then.kind}: nothing refunded"]
    else:
        parts = [f"{then.kind}: refund {_percent(then.items_percent)} of the items"]
        parts.append(
            "+ shipping when the whole order is called off"
            if then.refund_shipping
            else "shipping kept"
        )
    if then.return_required:
        parts.append("goods come back")
    if then.photo is not Photo.NONE:
        parts.append(f"photo {then.photo}")
    return "; ".join(parts)


def _general_rows(policy: Policy) -> list[ExplainRow]:
    general = policy.general
    return [
        ExplainRow("general", "timezone", "", general.timezone),
        ExplainRow(
            "general", "merchant fault", "", _either(general.merchant_fault_reasons or ["—"])
        ),
        ExplainRow(
            "general",
            "non-returnable",
            "",
            f"{_either(general.non_returnable_categories or ['—'])}, items marked so, "
            "activated digital goods",
        ),
    ]


def _approval_rows(policy: Policy) -> list[ExplainRow]:
    approval = policy.approval
    overrides = "".join(
        f"; {currency} {limit}"
        for currency, limit in approval.auto_approve_up_to_by_currency.items()
    )
    vip = "always automatic" if approval.vip_always_automatic else "same limits as everyone"
    return [
        ExplainRow(
            "approval",
            "limit",
            "",
            f"automatic up to {approval.auto_approve_up_to} in the order's currency{overrides}; "
            "above that an agent approves",
        ),
        ExplainRow(
            "approval",
            "frequent requests",
            "",
            f"an agent approves request no. {approval.frequent_requests} or later "
            f"within {approval.frequent_window_days} days",
        ),
        ExplainRow("approval", "vip", "", vip),
    ]


def _refund_method_rows(policy: Policy) -> list[ExplainRow]:
    settings = policy.refund_methods
    bonus = _percent(settings.store_credit_bonus_percent)
    rows = []
    for paid_with in PaymentMethod:
        choices = []
        for target in settings.by_payment.for_payment(paid_with):
            text = str(target.method)
            if target.method is PaymentMethod.STORE_CREDIT and paid_with is not target.method:
                text += f" (+{bonus})"
            if target.completed_by_agent:
                text += " (an agent completes it)"
            choices.append(text)
        rows.append(ExplainRow("refund methods", f"paid by {paid_with}", "", _either(choices)))
    return rows


def _arrival_rows(policy: Policy) -> list[ExplainRow]:
    return [
        ExplainRow("arrival", name, "", policy.arrival.for_method(PaymentMethod(name)).label())
        for name in type(policy.arrival).model_fields
    ]


def _sla_rows(policy: Policy) -> list[ExplainRow]:
    sla = policy.sla
    return [
        ExplainRow("sla", "pending_review", "", f"stuck after {sla.pending_review_hours} hours"),
        ExplainRow("sla", "approved", "", f"stuck after {sla.approved_hours} hours"),
        ExplainRow("sla", "failed", "", f"stuck after {sla.failed_hours} hours"),
        ExplainRow("sla", "awaiting_return", "", f"parcel not back after {sla.return_days} days"),
        ExplainRow(
            "sla",
            "processing",
            "",
            f"stuck {sla.processing_grace_days} days after the expected arrival",
        ),
    ]


def _offer_rows(policy: Policy) -> list[ExplainRow]:
    offers = policy.offers
    guarded = _either(offers.once_per_customer) if offers.once_per_customer else "nothing"
    rows = [
        ExplainRow("offers", "shown", "", f"at most {offers.max_shown}, one per type"),
        ExplainRow(
            "offers",
            "once per customer",
            "",
            f"{guarded}: once per {offers.once_per_customer_days} days",
        ),
    ]
    for candidate in offers.candidates:
        rows.append(
            ExplainRow(
                "offer", candidate.id, _offer_when(candidate.when), _offer(candidate, policy)
            )
        )
    return rows


def _offer_when(when: OfferWhen) -> str:
    parts = []
    if when.eligible is not None:
        parts.append("eligible" if when.eligible else "not eligible")
    if when.rule:
        parts.append(f"decided by {_either(when.rule)}")
    if when.reason:
        parts.append(f"reason is {_either(when.reason)}")
    if when.order_status:
        parts.append(f"order is {_either(when.order_status)}")
    if when.merchant_fault is not None:
        parts.append("the shop is at fault" if when.merchant_fault else "the shop is not at fault")
    return " and ".join(parts) or "always"


def _offer(candidate: OfferCandidate, policy: Policy) -> str:
    match candidate.type:
        case OfferType.EXCHANGE:
            return (
                "exchange for another variant in stock at the same price: the one the "
                "customer's words ask for, else one they pick"
            )
        case OfferType.STORE_CREDIT:
            bonus = policy.refund_methods.store_credit_bonus_percent
            return f"store credit: the refund + {_percent(bonus)}"
        case OfferType.EXPEDITED_SHIPPING:
            return "free express shipping"
        case _:
            percent = _percent(candidate.percent or Decimal(0))
            base = str(candidate.of).replace("_", " ")
            return f"{candidate.type}: {percent} of the {base}, never above the refund or payment"
