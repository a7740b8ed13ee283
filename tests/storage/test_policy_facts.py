"""The policy's facts about an order and its customer come back from one query, on both
databases, as the engine reads them: what the order was kept with, what earlier
requests took back, the customer's own recent requests, and the offers they accepted."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.wiring import AppDeps
from storage.enums import (
    CaseStatus,
    ItemCategory,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestStatus,
    VoucherKind,
)
from storage.repositories import PolicyFacts
from storage.repositories.refunds import KeptWith
from tests.conftest import NOW
from tests.support.history import HistoryBuilder, days

SINCE = NOW - days(30)


async def test_one_query_reads_every_fact_of_the_order_and_its_customer(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        ann = await b.person("C1", user_id=101, since=NOW - days(90))
        bo = await b.person("C2", user_id=102, since=NOW - days(90), name="Bo Wang")
        kept = await b.order(
            ann,
            "SO-1",
            (ItemCategory.APPAREL, "50.00", 2),
            (ItemCategory.HOME, "30.00", 1),
            status=OrderStatus.DELIVERED,
            placed=NOW - days(20),
        )
        other = await b.order(
            ann, "SO-2", (ItemCategory.HOME, "10.00", 1), status=OrderStatus.PAID, placed=NOW
        )
        bos = await b.order(
            bo, "SO-3", (ItemCategory.HOME, "10.00", 1), status=OrderStatus.PAID, placed=NOW
        )
        # Kept with: a partial refund to keep the item, then a compensation voucher.
        case = await b.case(ann, kept, at=NOW - days(10), status=CaseStatus.CONFIRMED)
        keep = await b.offer(
            case,
            OfferType.PARTIAL_REFUND,
            "15.00",
            status=OfferStatus.ACCEPTED,
            shown=NOW - days(10),
            answered=NOW - days(10),
        )
        await b.refund(
            kept,
            "15.00",
            PaymentMethod.CARD,
            [(RefundStatus.REFUNDED, NOW - days(9), "merchant")],
            offer=keep,
        )
        credit = await b.offer(
            case,
            OfferType.STORE_CREDIT,
            "20.00",
            status=OfferStatus.ACCEPTED,
            shown=NOW - days(5),
            answered=NOW - days(5),
        )
        await b.voucher(ann, "20.00", VoucherKind.COMPENSATION, at=NOW - days(5), offer=credit)
        await b.offer(
            case, OfferType.EXCHANGE, "0", status=OfferStatus.DECLINED, shown=NOW - days(5)
        )
        # Requests: one taking items back, one denied (takes nothing), one too old to count,
        # one the merchant made (not the customer's), one of another customer.
        for order, ago, status in (
            (kept, 3, RequestStatus.PENDING_REVIEW),
            (kept, 2, RequestStatus.DENIED),
            (other, 60, RequestStatus.DENIED),
        ):
            own = await b.case(ann, order, at=NOW - days(ago), status=CaseStatus.CONFIRMED)
            await b.request(order, at=NOW - days(ago), status=status, case=own)
        await b.request(other, at=NOW - days(1), status=RequestStatus.APPROVED, merchant_event="e1")
        await b.request(bos, at=NOW - days(1), status=RequestStatus.APPROVED, merchant_event="e2")
        await uow.commit()
        items = [item.id for item in kept.items]
        kept_id, customer_id = kept.id, ann.customer.id

    async with deps.uow() as uow:
        facts = await uow.policy_facts.read(
            order_id=kept_id,
            customer_id=customer_id,
            requests_since=SINCE,
            types=[OfferType.STORE_CREDIT, OfferType.EXCHANGE],
            offers_since=SINCE,
        )
    assert facts == PolicyFacts(
        kept_with=[
            KeptWith(Decimal("15.00"), "CNY", None, False),
            KeptWith(Decimal("20.00"), "CNY", facts.kept_with[1].code, False),
        ],
        taken={items[0]: 2, items[1]: 1},
        request_times=[NOW - days(3), NOW - days(2)],
        accepted=[(OfferType.STORE_CREDIT, NOW - days(5))],
    )
    assert facts.kept_with[1].code is not None
    assert all(isinstance(at, datetime) and at.tzinfo is not None for at in facts.request_times)


async def test_no_history_reads_as_nothing_and_no_guarded_types_as_no_offers(
    deps: AppDeps,
) -> None:
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        ann = await b.person("C1", user_id=101, since=NOW - days(90))
        order = await b.order(
            ann, "SO-1", (ItemCategory.HOME, "10.00", 1), status=OrderStatus.PAID, placed=NOW
        )
        case = await b.case(ann, order, at=NOW, status=CaseStatus.OPEN)
        await b.offer(
            case,
            OfferType.STORE_CREDIT,
            "5.00",
            status=OfferStatus.ACCEPTED,
            shown=NOW,
            answered=NOW,
        )
        await uow.commit()
        order_id, customer_id = order.id, ann.customer.id
    async with deps.uow() as uow:
        facts = await uow.policy_facts.read(
            order_id=order_id,
            customer_id=customer_id,
            requests_since=SINCE,
            types=[],
            offers_since=SINCE,
        )
    assert facts == PolicyFacts([], {}, [], [])


async def test_the_offers_a_case_still_shows_come_with_the_facts(deps: AppDeps) -> None:
    """Read with the facts (the step records them again only if they changed): the
    case's offers still shown, oldest first, as `shown_for_case` reads them; answered
    ones and other cases' are not among them."""
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        ann = await b.person("C1", user_id=101, since=NOW - days(90))
        order = await b.order(
            ann, "SO-1", (ItemCategory.HOME, "10.00", 1), status=OrderStatus.PAID, placed=NOW
        )
        case = await b.case(ann, order, at=NOW, status=CaseStatus.OPEN)
        other = await b.case(ann, order, at=NOW - days(1), status=CaseStatus.ABANDONED)
        shown = {"status": OfferStatus.SHOWN, "shown": NOW}
        await b.offer(case, OfferType.EXCHANGE, "0.00", params={"sku": "TS-L"}, **shown)
        await b.offer(case, OfferType.STORE_CREDIT, "10.50", **shown)
        await b.offer(case, OfferType.PARTIAL_REFUND, "3.00", status=OfferStatus.EXPIRED, shown=NOW)
        await b.offer(other, OfferType.STORE_CREDIT, "9.00", **shown)
        await uow.commit()
        ids = (order.id, ann.customer.id, case.id)

    async with deps.uow() as uow:
        facts = await uow.policy_facts.read(
            order_id=ids[0],
            customer_id=ids[1],
            requests_since=SINCE,
            types=[],
            offers_since=SINCE,
            case_id=ids[2],
        )
        alone = await uow.offers.shown_for_case(ids[2])
        without = await uow.policy_facts.read(
            order_id=ids[0], customer_id=ids[1], requests_since=SINCE, types=[], offers_since=SINCE
        )

    fields = ("id", "type", "value", "currency", "percent", "params")
    assert [tuple(getattr(offer, name) for name in fields) for offer in facts.shown] == [
        tuple(getattr(offer, name) for name in fields) for offer in alone
    ]
    assert [(offer.type, offer.params) for offer in facts.shown] == [
        (OfferType.EXCHANGE, {"sku": "TS-L"}),
        (OfferType.STORE_CREDIT, {}),
    ]
    assert facts.shown[1].value == Decimal("10.50")
    assert without.shown == []
