"""Everything the policy engine needs about a case, read in the caller's transaction.

The review, the offers and the final confirmation all decide from the same facts,
built here, so what the customer was shown and what is executed cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.services.cancellation.variants import default_variant_words
from bot.services.domain.money import Money
from bot.services.policy import (
    CustomerFacts,
    Decision,
    Given,
    OfferHistory,
    OfferSpec,
    OrderFacts,
    Policy,
    RequestFacts,
    StockFacts,
    StockTable,
    decide,
    offers_for,
)
from bot.services.refunds.given import given_fact
from storage.enums import OfferType, OrderStatus, PaymentMethod
from storage.models import Customer, Order, StockItem, SupportCase
from storage.repositories.policy_facts import ShownOffer, StockRow
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: Decision
    offers: tuple[OfferSpec, ...]
    shown: tuple[ShownOffer, ...] = ()
    """The case's offers still shown when the facts were read (none without a case)."""


def needs_item_choice(order: Order) -> bool:
    """Delivered orders with several items (or several of one) are returned item by item."""
    return order.status is OrderStatus.DELIVERED and (
        len(order.items) > 1 or any(item.quantity > 1 for item in order.items)
    )


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """What the engine decides from besides the request: the order as it stands, the
    customer, and the offers they accepted lately."""

    order: OrderFacts
    customer: CustomerFacts
    history: OfferHistory
    stock: StockTable
    shown: tuple[ShownOffer, ...]


async def policy_inputs(
    uow: UnitOfWork,
    order: Order,
    customer: Customer,
    now: datetime,
    policy: Policy,
    given: tuple[Given, ...] | None = None,
    case_id: int | None = None,
) -> PolicyInputs:
    """Read in one query (`PolicyFactsRepository`): the order less what earlier requests
    already took back, with what was given while it was kept (so a later cancellation
    cannot stack on it; `given` instead when the caller already locked it,
    `GivenForOrder.facts`), the customer's recent requests and accepted offers, the
    stock of the order's products and the offers `case_id` still shows."""
    rows = await uow.policy_facts.read(
        order_id=order.id,
        customer_id=customer.id,
        requests_since=now - timedelta(days=policy.approval.frequent_window_days),
        types=policy.offers.once_per_customer,
        offers_since=now - timedelta(days=policy.offers.once_per_customer_days),
        skus=[item.sku for item in order.items],
        case_id=case_id,
    )
    if given is None:
        given = tuple(
            given_fact(row.amount, row.currency, row.code, row.spent) for row in rows.kept_with
        )
    return PolicyInputs(
        _order_facts(order, given, rows.taken),
        CustomerFacts(tier=customer.tier, previous_request_times=tuple(rows.request_times)),
        OfferHistory(tuple(rows.accepted)),
        _stock_table(rows.stock),
        tuple(rows.shown),
    )


def _order_facts(order: Order, given: tuple[Given, ...], taken: dict[int, int]) -> OrderFacts:
    facts = replace(OrderFacts.of(order), given=given)
    if not taken:
        return facts
    remaining = tuple(
        replace(item, ordered_quantity=item.ordered_quantity - taken.get(item.item_id, 0))
        for item in facts.items
        if item.ordered_quantity > taken.get(item.item_id, 0)
    )
    return replace(facts, items=remaining)


def request_facts(case: SupportCase, order: Order) -> RequestFacts:
    assert case.reason_code is not None, "evaluate only once the reason is known"
    selection = (
        {int(item_id): quantity for item_id, quantity in case.selection.items()}
        if case.selection and needs_item_choice(order)
        else None
    )
    return RequestFacts(
        reason=case.reason_code,
        condition=case.item_condition,
        selection=selection,
        has_photo=case.photo_file_id is not None,
        # "Too small, need an L": the variant an exchange should offer.
        wish=default_variant_words().read_wish(case.reason_text or ""),
        no_photo=case.photo_file_id is None and case.photo_skipped,
    )


async def stock_for(uow: UnitOfWork, order: Order) -> StockTable:
    """Stock of every variant in the product groups of this order's items."""
    return _stock_table(await uow.stock.variants_of([item.sku for item in order.items]))


def _stock_table(rows: Iterable[StockItem | StockRow]) -> StockTable:
    return StockTable(
        {
            row.sku: StockFacts(
                sku=row.sku,
                group=row.product_group,
                attributes=row.attributes,
                unit_price=Money(row.unit_price, row.currency),
                available=row.available,
            )
            for row in rows
        }
    )


async def evaluate(
    uow: UnitOfWork,
    case: SupportCase,
    order: Order,
    customer: Customer,
    now: datetime,
    policy: Policy,
    *,
    given: tuple[Given, ...] | None = None,
) -> Evaluation:
    """Decide on the case's request and choose the offers (`evaluate_request`), with the
    offers the case shows now."""
    request = request_facts(case, order)
    return await evaluate_request(
        uow, order, customer, request, now, policy, given=given, case_id=case.id
    )


async def evaluate_request(
    uow: UnitOfWork,
    order: Order,
    customer: Customer,
    request: RequestFacts,
    now: datetime,
    policy: Policy,
    *,
    given: tuple[Given, ...] | None = None,
    case_id: int | None = None,
) -> Evaluation:
    """Decide and choose the offers, both from facts read now (what was given: `given`
    when the caller already locked it). The conversation and `cancelbot policy check`
    both decide here, so the check shows what the bot would."""
    inputs = await policy_inputs(uow, order, customer, now, policy, given, case_id)
    decision = decide(inputs.order, request, inputs.customer, now, policy)
    if not decision.final:
        return Evaluation(decision, (), inputs.shown)
    decision = _without_repeated_bonus(decision, inputs.history, now, policy)
    offers = offers_for(decision, inputs.order, request, inputs.history, inputs.stock, now, policy)
    return Evaluation(decision, offers, inputs.shown)


def _without_repeated_bonus(
    decision: Decision, history: OfferHistory, now: datetime, policy: Policy
) -> Decision:
    """The store-credit bonus is guarded like the offers: once per customer per period.

    The engine cannot see the history, so a customer who already had the bonus gets
    store credit at face value here.
    """
    guarded = OfferType.STORE_CREDIT in policy.offers.once_per_customer
    since = now - timedelta(days=policy.offers.once_per_customer_days)
    if not guarded or not history.accepted_since(OfferType.STORE_CREDIT, since):
        return decision
    options = tuple(
        replace(
            option, amount=option.amount - option.bonus, bonus=Money.zero(option.bonus.currency)
        )
        if option.method is PaymentMethod.STORE_CREDIT
        else option
        for option in decision.refund_options
    )
    return replace(decision, refund_options=options)
