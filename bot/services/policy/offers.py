"""`offers_for`: alternatives to a refund, chosen from the policy file's `[offers]`.

Pure like the engine: stock, the customer's offer history and `now` come in as facts.
Every offer carries its money value, never more than the policy would pay out anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bot.services.cancellation.variants import SEPARATOR, VariantWords, Wish, default_variant_words
from bot.services.domain.money import Money
from bot.services.policy.engine import Decision, SelectedLine, merchant_fault, select_lines
from bot.services.policy.facts import (
    OfferHistory,
    OrderFacts,
    RequestFacts,
    StockFacts,
    StockLookup,
    StockTable,
)
from bot.services.policy.model import (
    OfferBase,
    OfferCandidate,
    OfferWhen,
    Policy,
)
from storage.enums import OfferType, OrderStatus, PaymentMethod, ReasonCode

_NOT_SHIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING})


@dataclass(frozen=True, slots=True)
class OfferSpec:
    """One alternative shown to the customer; it lapses with the conversation by default."""

    type: OfferType
    value: Money
    percent: Decimal | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    expires_with_conversation: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "value": self.value.plain(),
            "currency": self.value.currency,
            "percent": None if self.percent is None else str(self.percent),
            "params": dict(self.params),
            "expires_with_conversation": self.expires_with_conversation,
        }


def offers_for(
    decision: Decision,
    order: OrderFacts,
    request: RequestFacts,
    customer_history: OfferHistory,
    stock: Mapping[str, StockFacts] | StockLookup,
    now: datetime,
    policy: Policy,
) -> tuple[OfferSpec, ...]:
    """The first `max_shown` candidates that apply and have something to give, one per type."""
    if decision.needs_condition:
        return ()  # the rules have not decided yet
    settings = policy.offers
    lookup = StockTable(stock) if isinstance(stock, Mapping) else stock
    lines = [
        line
        for line in select_lines(order, request.selection)
        if decision.covers(line.item.item_id)
    ]
    fault = merchant_fault(order, request.reason, now, policy.general)
    guard_since = now - timedelta(days=settings.once_per_customer_days)
    shown: list[OfferSpec] = []
    for candidate in settings.candidates:
        if len(shown) >= settings.max_shown:
            break
        if any(offer.type is candidate.type for offer in shown):
            continue
        if not _applies(candidate.when, decision, order, request.reason, fault):
            continue
        if candidate.type in settings.once_per_customer and customer_history.accepted_since(
            candidate.type, guard_since
        ):
            continue
        offer = _build(candidate, decision, order, request.wish, lines, lookup, policy)
        if offer is not None:
            shown.append(offer)
    return tuple(shown)


def _applies(
    when: OfferWhen, decision: Decision, order: OrderFacts, reason: ReasonCode, fault: bool
) -> bool:
    """AND of the candidate's conditions, read like a rule's `when`."""
    return (
        (when.reason is None or reason in when.reason)
        and (when.eligible is None or when.eligible == decision.eligible)
        and (when.rule is None or decision.rule in when.rule)
        and (when.order_status is None or order.status in when.order_status)
        and (when.merchant_fault is None or when.merchant_fault == fault)
    )


def _build(
    candidate: OfferCandidate,
    decision: Decision,
    order: OrderFacts,
    wish: Wish,
    lines: Sequence[SelectedLine],
    stock: StockLookup,
    policy: Policy,
) -> OfferSpec | None:
    """The offer with its value, or None when it has nothing to give in this case."""
    match candidate.type:
        case OfferType.EXCHANGE:
            return exchange_offer(order, lines, stock, wish)
        case OfferType.STORE_CREDIT:
            return _store_credit(decision, policy.refund_methods.store_credit_bonus_percent)
        case OfferType.EXPEDITED_SHIPPING:
            if order.shipped_at is not None or order.status not in _NOT_SHIPPED:
                return None
            return OfferSpec(OfferType.EXPEDITED_SHIPPING, Money.zero(order.currency))
        case OfferType.PARTIAL_REFUND | OfferType.COMPENSATION_VOUCHER:
            return _percent_offer(candidate, decision, order, lines)


def exchange_offer(
    order: OrderFacts,
    lines: Sequence[SelectedLine],
    stock: StockLookup,
    wish: Wish,
    *,
    pick_one: bool = False,
    words: VariantWords | None = None,
) -> OfferSpec | None:
    """Another in-stock variant of the same product at exactly the same price, one the order
    does not already hold: the one the customer's words ask for, else the customer picks.

    Only for a single item line: swapping several lines at once is an agent's job. `sku`
    is the variant sent; empty when the customer chooses among `alternatives` (the skus
    in stock to choose from, closest first). `pick_one` (no one to ask) takes the closest.
    """
    if len(lines) != 1:
        return None
    line = lines[0]
    own = stock.find(line.item.sku)
    if own is None:
        return None
    held = {item.sku for item in order.items}
    candidates = [
        variant
        for variant in stock.in_group(own.group)
        if variant.unit_price == line.item.unit_price
        and variant.available >= line.quantity
        and variant.sku not in held
    ]
    if not candidates:
        return None
    closest = (words or default_variant_words()).closest(own.attributes, candidates, wish)
    if pick_one:
        closest = closest[:1]
    params = {"replaces": line.item.sku, "sku": "", "attributes": "", "alternatives": ""}
    if len(closest) == 1:
        [chosen] = closest
        others = [v.sku for v in candidates if v.sku != chosen.sku]
        params |= {"sku": chosen.sku, "attributes": variant_values(chosen.attributes)}
        params["alternatives"] = ",".join(sorted(others))
    else:
        params["alternatives"] = ",".join(variant.sku for variant in closest)
    return OfferSpec(OfferType.EXCHANGE, line.total, params=params)


def variant_values(attributes: Mapping[str, str]) -> str:
    """ "blue / L": the values by attribute name, as offers and receipts carry them."""
    return SEPARATOR.join(value for _, value in sorted(attributes.items()))


def _store_credit(decision: Decision, bonus_percent: Decimal) -> OfferSpec | None:
    """The decision's own store-credit option, offered when it carries a bonus.

    Reusing the option keeps the offer and the refund choice at the very same amount.
    """
    for option in decision.refund_options:
        if option.method is PaymentMethod.STORE_CREDIT and option.bonus.amount > 0:
            params = {"refund": decision.refund.plain(), "bonus": option.bonus.plain()}
            return OfferSpec(OfferType.STORE_CREDIT, option.amount, bonus_percent, params)
    return None


def _percent_offer(
    candidate: OfferCandidate,
    decision: Decision,
    order: OrderFacts,
    lines: Sequence[SelectedLine],
) -> OfferSpec | None:
    """A percent of the items or the order, capped at what the customer could get back.

    Eligible: never above the refund itself (keeping the item must not pay more than
    returning it). Not eligible: never above what was paid, so nothing for unpaid orders.
    """
    if candidate.percent is None or candidate.of is None:
        return None  # OfferCandidate's validator requires both for these types
    zero = Money.zero(order.currency)
    if candidate.of is OfferBase.ORDER_TOTAL:
        base = order.total
    else:
        base = sum((line.total for line in lines), zero)
    paid = order.total if order.is_paid else zero
    cap = decision.refund if decision.eligible else paid
    value = min(base.percent(candidate.percent), cap)
    if value.amount <= 0:
        return None
    params = {"of": candidate.of.value}
    if candidate.type is OfferType.PARTIAL_REFUND:
        # Only a delivered item can be kept as it is; before that, the order is kept.
        params["keep"] = "item" if order.status is OrderStatus.DELIVERED else "order"
    return OfferSpec(candidate.type, value, candidate.percent, params)
