"""`merchant_offers`: what a customer is offered when the shop cancels their order itself.

Pure like `offers_for`: the order, the stock and whether the refund may still be
withdrawn come in as facts. A voucher is a percent of what the order cost; an exchange
is another variant of the same product, in stock and at the same price (the very rule
customers' exchanges follow), sent instead of the refund, so it is offered only while
the refund can still be called off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.services.cancellation.variants import Wish
from bot.services.policy.engine import select_lines
from bot.services.policy.facts import OrderFacts, StockFacts, StockLookup, StockTable
from bot.services.policy.model import MerchantOffer, MerchantReason, OfferBase, Policy
from bot.services.policy.offers import OfferSpec, exchange_offer
from storage.enums import OfferType


def merchant_offers(
    reason: MerchantReason,
    order: OrderFacts,
    stock: Mapping[str, StockFacts] | StockLookup,
    policy: Policy,
    *,
    refund_withdrawable: bool,
) -> tuple[OfferSpec, ...]:
    """The `[merchant_cancellation]` offers for this reason that have something to give."""
    lookup = StockTable(stock) if isinstance(stock, Mapping) else stock
    specs = []
    for offer in policy.merchant_cancellation.offers_for(reason):
        if offer.type is OfferType.COMPENSATION_VOUCHER:
            spec = _voucher(offer, order)
        elif refund_withdrawable:
            lines = select_lines(order, None)
            spec = exchange_offer(order, lines, lookup, Wish(), pick_one=True)
            spec = spec and replace(spec, expires_with_conversation=False)
        else:
            spec = None
        if spec is not None:
            specs.append(spec)
    return tuple(specs)


def _voucher(offer: MerchantOffer, order: OrderFacts) -> OfferSpec | None:
    """`percent` of the whole order, shipping included: it is the order that was let down."""
    if offer.percent is None:
        return None  # MerchantOffer's validator requires it for vouchers
    value = order.total.percent(offer.percent)
    if value.amount <= 0:
        return None
    params = {"of": OfferBase.ORDER_TOTAL.value}
    return OfferSpec(offer.type, value, offer.percent, params, expires_with_conversation=False)
