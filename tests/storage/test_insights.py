"""Every figure of the merchant's report, checked exactly against a known history.

The history (see `known_history`) has conversations kept by an exchange, a voucher and a
partial refund, one of them cancelled by the shop a few days later; cancellations with
refunds paid after two, three and five days and at once as store credit; one declined by
an agent, one refused by the policy, two left unfinished, one still going; tickets;
survey answers; yuan and dollars; and rows just outside the period. Here (not in
tests/services) so that CI runs it on PostgreSQL too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.services.domain.money import Money
from bot.services.insights import Dimension, Period, Report
from bot.services.insights.figures import (
    Count,
    MethodTiming,
    OfferCost,
    OfferFigures,
    RefundTotal,
    SplitRow,
    Timing,
)
from bot.wiring import AppDeps
from storage.enums import (
    CaseStatus,
    CustomerTier,
    ItemCategory,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RequestKind,
    RequestStatus,
    TicketReason,
    VoucherKind,
)
from tests.conftest import NOW
from tests.support.history import HistoryBuilder, days, decision

R = RefundStatus
CAT = ItemCategory
PERIOD = Period.last(30, NOW)
DAY = 86400


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@dataclass
class Known:
    case1: int
    case8: int


async def known_history(deps: AppDeps) -> Known:
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        start = NOW - days(60)
        ann = await b.person("C1", user_id=101, since=start, name="Ann Lee")
        bo = await b.person(
            "C2", user_id=102, tier=CustomerTier.VIP, locale="zh", since=start, name="Bo Wang"
        )
        uma = await b.person("C3", user_id=103, language_code="de", since=start, name="Uma Roy")

        # 0. Before the period: a defective return; its survey is answered inside it.
        t0 = NOW - days(40)
        o0 = await b.order(
            ann,
            "O0",
            (CAT.HOME, "50.00", 1),
            status=OrderStatus.RETURNED,
            placed=t0 - days(9),
            paid=t0 - days(9),
            delivered=t0 - days(2),
        )
        c0 = await b.case(
            ann,
            o0,
            at=t0,
            status=CaseStatus.CONFIRMED,
            reason=ReasonCode.DEFECTIVE,
            decided=decision(refund="50.00"),
            closed=t0,
        )
        q0 = await b.request(
            o0,
            case=c0,
            at=t0,
            status=RequestStatus.COMPLETED,
            reason=ReasonCode.DEFECTIVE,
            refund="50.00",
            closed=t0 + days(1),
        )
        await b.refund(
            o0,
            "50.00",
            PaymentMethod.CARD,
            [(R.APPROVED, t0, "bot"), (R.REFUNDED, t0 + days(1), "merchant")],
            request=q0,
        )
        await b.survey(ann, q0, asked=NOW - days(35), rating=4, answered=NOW - days(29))

        # 1. Paid electronics, changed mind: store credit declined, card refund in 2 days.
        t1 = NOW - days(20)
        o1 = await b.order(
            ann,
            "O1",
            (CAT.ELECTRONICS, "310.00", 1),
            status=OrderStatus.CANCELLED,
            placed=t1 - days(1),
            paid=t1 - days(1),
        )
        c1 = await b.case(
            ann,
            o1,
            at=t1,
            status=CaseStatus.CONFIRMED,
            reason=ReasonCode.CHANGED_MIND,
            decided=decision(refund="310.00", store_credit_bonus="31.00"),
            closed=t1,
        )
        await b.offer(
            c1, OfferType.STORE_CREDIT, "341.00", status=OfferStatus.DECLINED, shown=t1, answered=t1
        )
        q1 = await b.request(
            o1,
            case=c1,
            at=t1,
            status=RequestStatus.COMPLETED,
            reason=ReasonCode.CHANGED_MIND,
            refund="310.00",
            closed=t1 + days(2),
        )
        await b.refund(
            o1,
            "310.00",
            PaymentMethod.CARD,
            [
                (R.APPROVED, t1, "bot"),
                (R.PROCESSING, t1 + days(1), "merchant"),
                (R.REFUNDED, t1 + days(2), "merchant"),
            ],
            request=q1,
        )
        await b.survey(
            ann,
            q1,
            asked=t1 + days(2),
            rating=5,
            answered=t1 + days(2),
            comment="Fast! Ann here, call me on +86 138 0000 1001",
            commented=t1 + days(2) + timedelta(hours=1),
        )

        # 2. Delivered shirt, wrong size: exchanged (kept). Only the shirt was selected.
        t2 = NOW - days(15)
        o2 = await b.order(
            bo,
            "O2",
            (CAT.APPAREL, "200.00", 1),
            (CAT.BOOKS, "250.00", 1),
            status=OrderStatus.DELIVERED,
            placed=t2 - days(5),
            paid=t2 - days(5),
            shipped=t2 - days(4),
            delivered=t2 - days(2),
        )
        c2 = await b.case(
            bo,
            o2,
            at=t2,
            status=CaseStatus.SAVED,
            reason=ReasonCode.WRONG_ITEM,
            decided=decision(rule="merchant_fault", refund="200.00", kind="return"),
            closed=t2,
            selection={str(o2.items[0].id): 1},
        )
        await b.offer(
            c2, OfferType.EXCHANGE, "200.00", status=OfferStatus.ACCEPTED, shown=t2, answered=t2
        )
        await b.request(
            o2,
            case=c2,
            at=t2,
            status=RequestStatus.APPROVED,
            reason=ReasonCode.WRONG_ITEM,
            kind=RequestKind.RETURN,
            rule="exchange",
        )

        # 3. Late parcel: a voucher kept it, but the shop cancelled the order 5 days later.
        t3 = NOW - days(12)
        o3 = await b.order(
            ann,
            "O3",
            (CAT.HOME, "150.00", 1),
            status=OrderStatus.CANCELLED,
            placed=t3 - days(6),
            paid=t3 - days(6),
            shipped=t3 - days(5),
            payment=PaymentMethod.E_WALLET,
        )
        c3 = await b.case(
            ann,
            o3,
            at=t3,
            status=CaseStatus.SAVED,
            reason=ReasonCode.LATE_DELIVERY,
            decided=decision(rule="in_transit_late", refund="150.00"),
            closed=t3,
        )
        v3 = await b.offer(
            c3,
            OfferType.COMPENSATION_VOUCHER,
            "20.00",
            status=OfferStatus.ACCEPTED,
            shown=t3,
            answered=t3,
        )
        await b.offer(
            c3,
            OfferType.EXPEDITED_SHIPPING,
            "0.00",
            status=OfferStatus.DECLINED,
            shown=t3,
            answered=t3,
        )
        await b.voucher(ann, "20.00", VoucherKind.COMPENSATION, at=t3, offer=v3)
        tm = t3 + days(5)
        qm = await b.request(
            o3,
            at=tm,
            status=RequestStatus.APPROVED,
            refund="150.00",
            merchant_event="evt-1",
            rule="merchant_cancellation",
        )
        await b.merchant_holder_case(ann, o3, qm, tm)
        rm = await b.refund(
            o3, "150.00", PaymentMethod.E_WALLET, [(R.APPROVED, tm, "merchant")], request=qm
        )
        await b.escalation(rm, NOW - days(1))

        # 4. Defective earbuds in dollars: kept with a partial refund, paid in 3 days.
        t4 = NOW - days(10)
        o4 = await b.order(
            uma,
            "O4",
            (CAT.ELECTRONICS, "80.00", 1),
            currency="USD",
            status=OrderStatus.DELIVERED,
            placed=t4 - days(6),
            paid=t4 - days(6),
            shipped=t4 - days(5),
            delivered=t4 - days(3),
        )
        c4 = await b.case(
            uma,
            o4,
            at=t4,
            status=CaseStatus.SAVED,
            reason=ReasonCode.DEFECTIVE,
            decided=decision(rule="faulty", refund="80.00", currency="USD"),
            closed=t4,
        )
        p4 = await b.offer(
            c4,
            OfferType.PARTIAL_REFUND,
            "30.00",
            currency="USD",
            status=OfferStatus.ACCEPTED,
            shown=t4,
            answered=t4,
        )
        await b.refund(
            o4,
            "30.00",
            PaymentMethod.CARD,
            [(R.APPROVED, t4, "bot"), (R.REFUNDED, t4 + days(3), "merchant")],
            offer=p4,
        )

        # 5. A big dollar order: an agent's approval (the shop's), paid in 5 days; 2 stars.
        t5 = NOW - days(8)
        o5 = await b.order(
            uma,
            "O5",
            (CAT.ELECTRONICS, "500.00", 1),
            currency="USD",
            status=OrderStatus.CANCELLED,
            placed=t5 - days(1),
            paid=t5 - days(1),
            payment=PaymentMethod.E_WALLET,
        )
        c5 = await b.case(
            uma,
            o5,
            at=t5,
            status=CaseStatus.CONFIRMED,
            reason=ReasonCode.CHANGED_MIND,
            decided=decision(refund="500.00", currency="USD"),
            closed=t5,
        )
        q5 = await b.request(
            o5,
            case=c5,
            at=t5,
            status=RequestStatus.COMPLETED,
            reason=ReasonCode.CHANGED_MIND,
            refund="500.00",
            closed=t5 + days(5),
        )
        await b.refund(
            o5,
            "500.00",
            PaymentMethod.E_WALLET,
            [
                (R.PENDING_REVIEW, t5, "bot"),
                (R.APPROVED, t5 + days(1), "merchant"),
                (R.REFUNDED, t5 + days(5), "merchant"),
            ],
            request=q5,
        )
        await b.ticket(uma, TicketReason.NEEDS_APPROVAL, at=t5, case=c5, closed=t5 + days(1))
        await b.survey(
            uma, q5, asked=t5 + days(5), rating=2, answered=t5 + days(5) + timedelta(hours=1)
        )

        # 6. Strawberries: not returnable, a person asked for, then left.
        t6 = NOW - days(6)
        o6 = await b.order(
            bo,
            "O6",
            (CAT.FOOD_PERISHABLE, "88.00", 1),
            status=OrderStatus.DELIVERED,
            placed=t6 - days(2),
            paid=t6 - days(2),
            shipped=t6 - days(2),
            delivered=t6 - days(1),
        )
        c6 = await b.case(
            bo,
            o6,
            at=t6,
            status=CaseStatus.ABANDONED,
            reason=ReasonCode.CHANGED_MIND,
            decided=decision(eligible=False, rule="non_returnable"),
            closed=t6 + timedelta(minutes=5),
        )
        await b.ticket(bo, TicketReason.NOT_ELIGIBLE, at=t6, case=c6)

        # 7. Started and left before choosing an order.
        t7 = NOW - days(5)
        await b.case(ann, None, at=t7, status=CaseStatus.ABANDONED, closed=t7)

        # 8. A book, right now: still talking.
        t8 = NOW - timedelta(hours=2)
        o8 = await b.order(
            ann,
            "O8",
            (CAT.BOOKS, "60.00", 1),
            status=OrderStatus.PAID,
            placed=t8 - days(1),
            paid=t8 - days(1),
        )
        c8 = await b.case(
            ann,
            o8,
            at=t8,
            status=CaseStatus.OPEN,
            reason=ReasonCode.MISTAKE,
            touched=NOW - timedelta(hours=1),
        )

        # 9. Open, but untouched for three days: abandoned.
        t9 = NOW - days(3)
        o9 = await b.order(
            bo,
            "O9",
            (CAT.ELECTRONICS, "1000.00", 1),
            status=OrderStatus.PAID,
            placed=t9 - days(1),
            paid=t9 - days(1),
        )
        await b.case(
            bo, o9, at=t9, status=CaseStatus.OPEN, reason=ReasonCode.CHANGED_MIND, touched=t9
        )

        # 10. Found it cheaper: an agent declined the refund; 3 stars.
        t10 = NOW - days(4)
        o10 = await b.order(
            ann,
            "O10",
            (CAT.APPAREL, "99.00", 1),
            status=OrderStatus.DELIVERED,
            placed=t10 - days(4),
            paid=t10 - days(4),
            shipped=t10 - days(3),
            delivered=t10 - days(1),
        )
        c10 = await b.case(
            ann,
            o10,
            at=t10,
            status=CaseStatus.CONFIRMED,
            reason=ReasonCode.FOUND_CHEAPER,
            decided=decision(rule="delivered_unopened", refund="99.00"),
            closed=t10,
        )
        q10 = await b.request(
            o10,
            case=c10,
            at=t10,
            status=RequestStatus.DENIED,
            reason=ReasonCode.FOUND_CHEAPER,
            refund="99.00",
            kind=RequestKind.RETURN,
            closed=t10 + days(1),
        )
        await b.refund(
            o10,
            "99.00",
            PaymentMethod.CARD,
            [(R.PENDING_REVIEW, t10, "bot"), (R.REJECTED, t10 + days(1), "agent:7")],
            request=q10,
        )
        await b.survey(
            ann, q10, asked=t10 + days(1), rating=3, answered=t10 + days(1) + timedelta(hours=2)
        )

        # 11. A booking paid back as store credit with its 10 % bonus, at once; no answer.
        t11 = NOW - days(9)
        o11 = await b.order(
            bo,
            "O11",
            (CAT.BOOKING, "100.00", 1),
            status=OrderStatus.CANCELLED,
            placed=t11 - days(3),
            paid=t11 - days(3),
        )
        c11 = await b.case(
            bo,
            o11,
            at=t11,
            status=CaseStatus.CONFIRMED,
            reason=ReasonCode.BOOKING_CHANGED,
            decided=decision(
                rule="booking_early", refund="100.00", kind="booking", store_credit_bonus="10.00"
            ),
            closed=t11,
        )
        await b.offer(
            c11,
            OfferType.STORE_CREDIT,
            "110.00",
            status=OfferStatus.ACCEPTED,
            shown=t11,
            answered=t11,
        )
        q11 = await b.request(
            o11,
            case=c11,
            at=t11,
            status=RequestStatus.COMPLETED,
            reason=ReasonCode.BOOKING_CHANGED,
            refund="100.00",
            kind=RequestKind.BOOKING,
            closed=t11,
        )
        await b.refund(
            o11,
            "110.00",
            PaymentMethod.STORE_CREDIT,
            [(R.APPROVED, t11, "bot"), (R.REFUNDED, t11, "bot")],
            request=q11,
        )
        await b.voucher(bo, "110.00", VoucherKind.BONUS, at=t11, request=q11)
        await b.survey(bo, q11, asked=t11)

        # A person asked for from the menu, outside any case.
        await b.ticket(uma, TicketReason.CUSTOMER_ASKED, at=NOW - days(1))
        await uow.commit()
        return Known(case1=c1.id, case8=c8.id)  # fmt: skip


async def report(deps: AppDeps, reason: ReasonCode | None = None) -> Report:
    async with deps.uow() as uow:
        return await deps.insights(uow).report(PERIOD, reason)


async def test_the_flow_of_conversations(deps: AppDeps) -> None:
    await known_history(deps)
    flow = (await report(deps)).flow

    assert (flow.intents, flow.requests, flow.executed) == (11, 4, 3)
    assert (flow.awaiting_review, flow.declined, flow.withdrawn) == (0, 1, 0)
    assert (flow.refused, flow.refused_by_rule) == (1, (Count("non_returnable", 1),))
    assert (flow.abandoned, flow.in_progress, flow.kept) == (2, 1, 2)
    assert (flow.handed_to_person, flow.merchant_cancellations) == (2, 1)
    assert str(flow.save_rate) == "18.2%"
    assert str(flow.request_rate) == "36.4%"
    assert str(flow.handoff_rate) == "18.2%"
    assert str(flow.refusal_rate) == "9.1%"
    assert str(flow.abandon_rate) == "18.2%"


async def test_orders_kept_offers_and_their_cost(deps: AppDeps) -> None:
    await known_history(deps)
    kept = (await report(deps)).kept

    assert (kept.saved, kept.cancelled_within_window, kept.kept) == (3, 1, 2)
    assert (kept.kept_window_open, kept.window_days) == (2, 30)
    assert str(kept.save_rate) == "18.2%"
    assert kept.offers == (
        OfferFigures(OfferType.EXCHANGE, shown=1, accepted=1),
        OfferFigures(OfferType.STORE_CREDIT, shown=2, accepted=1),
        OfferFigures(OfferType.PARTIAL_REFUND, shown=1, accepted=1),
        OfferFigures(OfferType.COMPENSATION_VOUCHER, shown=1, accepted=1),
        OfferFigures(OfferType.EXPEDITED_SHIPPING, shown=1, accepted=0),
    )
    assert [str(o.acceptance_rate) for o in kept.offers] == [
        "100.0%", "50.0%", "100.0%", "100.0%", "0.0%",
    ]  # fmt: skip
    assert kept.revenue_kept == (cny("200.00"), usd("80.00"))
    assert kept.offer_costs == (
        OfferCost(OfferType.COMPENSATION_VOUCHER, cny("20.00")),
        OfferCost(OfferType.PARTIAL_REFUND, usd("30.00")),
        OfferCost(OfferType.STORE_CREDIT, cny("10.00")),
    )
    assert kept.cost_total == (cny("30.00"), usd("30.00"))


async def test_refunds_per_currency_method_and_speed(deps: AppDeps) -> None:
    await known_history(deps)
    refunds = (await report(deps)).refunds

    assert refunds.opened == 6
    assert refunds.totals == (
        RefundTotal(PaymentMethod.CARD, 2, cny("409.00")),
        RefundTotal(PaymentMethod.E_WALLET, 1, cny("150.00")),
        RefundTotal(PaymentMethod.STORE_CREDIT, 1, cny("110.00")),
        RefundTotal(PaymentMethod.CARD, 1, usd("30.00")),
        RefundTotal(PaymentMethod.E_WALLET, 1, usd("500.00")),
    )
    assert refunds.currencies == (cny("669.00"), usd("530.00"))
    assert refunds.by_status == (Count("approved", 1), Count("refunded", 4), Count("rejected", 1))
    assert (refunds.approved_at_once, refunds.approved_after_review) == (4, 1)
    assert refunds.approved_after_review_by == (Count("merchant", 1),)
    assert (refunds.awaiting_review, refunds.rejected, refunds.failed) == (0, 1, 0)
    assert (refunds.refunded, refunds.past_sla_now) == (4, 1)
    assert refunds.time_to_refund == (
        MethodTiming(PaymentMethod.CARD, Timing(2, 2 * DAY, 3 * DAY, 3 * DAY)),
        MethodTiming(PaymentMethod.E_WALLET, Timing(1, 5 * DAY, 5 * DAY, 5 * DAY)),
        MethodTiming(PaymentMethod.STORE_CREDIT, Timing(1, 0, 0, 0)),
        MethodTiming(None, Timing(4, 2 * DAY, 5 * DAY, 5 * DAY)),
    )
    assert refunds.time_buckets == (
        Count("under_1h", 1),
        Count("1h_24h", 0),
        Count("1d_3d", 1),
        Count("3d_7d", 2),
        Count("7d_14d", 0),
        Count("over_14d", 0),
    )


async def test_handoffs_and_satisfaction(deps: AppDeps) -> None:
    await known_history(deps)
    result = await report(deps)

    handoffs = result.handoffs
    assert (handoffs.tickets, handoffs.still_open) == (3, 2)
    assert handoffs.by_reason == (
        Count("customer_asked", 1),
        Count("needs_approval", 1),
        Count("not_eligible", 1),
    )
    satisfaction = result.satisfaction
    assert (satisfaction.asked, satisfaction.responded) == (4, 3)
    assert str(satisfaction.response_rate) == "75.0%"
    assert satisfaction.answers == 4
    assert satisfaction.stars == (0, 1, 1, 1, 1)
    assert satisfaction.average == Decimal("3.50")
    assert str(satisfaction.satisfied) == "50.0%"
    [comment] = satisfaction.comments
    assert comment.text == "Fast! Ann here, call me on +***1001"
    assert (comment.rating, comment.order_number, comment.reason) == (
        5, "O1", ReasonCode.CHANGED_MIND,
    )  # fmt: skip
    async with deps.uow() as uow:
        summary = await uow.surveys.rating_summary(PERIOD.since, PERIOD.until)
    assert (summary.count, summary.average) == (satisfaction.answers, satisfaction.average)


async def test_the_daily_trend_adds_up_to_the_headline(deps: AppDeps) -> None:
    await known_history(deps)
    result = await report(deps)
    trend = result.trend

    assert len(trend) == 31
    assert (trend[0].day, trend[-1].day) == (date(2026, 10, 24), date(2026, 11, 23))
    total = {
        name: sum(getattr(day, name) for day in trend)
        for name in ("intents", "requests", "kept", "refunds_opened", "refunds_paid", "answers")
    }
    assert total == {
        "intents": 11,
        "requests": 4,
        "kept": 2,
        "refunds_opened": 6,
        "refunds_paid": 4,
        "answers": 4,
    }
    first_case_day = next(day for day in trend if day.day == date(2026, 11, 3))
    assert (first_case_day.intents, first_case_day.requests, first_case_day.refunds_opened) == (
        1, 1, 1,
    )  # fmt: skip
    assert str(first_case_day.satisfied_rate) == "—"


async def test_splits_by_reason(deps: AppDeps) -> None:
    await known_history(deps)
    rows = (await report(deps)).splits[Dimension.REASON]

    def row(group: str, intents: int, requests: int, executed: int, refused: int,
            abandoned: int, handed: int, kept: int, shown: int, accepted: int,
            answers: int, satisfied: int, average: str | None) -> SplitRow:  # fmt: skip
        return SplitRow(
            group, intents, requests, executed, refused, abandoned, handed, kept, shown,
            accepted, answers, satisfied, Decimal(average) if average else None,
        )  # fmt: skip

    assert rows == (
        row("changed_mind", 4, 2, 2, 1, 1, 2, 0, 1, 0, 2, 1, "3.50"),
        row("booking_changed", 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, None),
        row("defective", 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, "4.00"),
        row("found_cheaper", 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, "3.00"),
        row("late_delivery", 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, None),
        row("mistake", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None),
        row("wrong_item", 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, None),
        row("none", 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, None),
    )  # fmt: skip
    assert str(rows[0].save_rate) == "0.0%"
    assert str(rows[-1].acceptance_rate) == "—"


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        (Dimension.TIER, {"regular": 7, "vip": 4}),
        (Dimension.LANGUAGE, {"en": 7, "zh": 4}),
        (
            Dimension.ORDER_STATUS,
            {"paid": 5, "delivered": 4, "shipped": 1, "none": 1},
        ),
        (
            Dimension.CATEGORY,
            {
                "electronics": 4,
                "apparel": 2,
                "booking": 1,
                "books": 1,
                "food_perishable": 1,
                "home": 1,
                "none": 1,
            },
        ),
    ],
)
async def test_splits_by_tier_language_status_and_category(
    deps: AppDeps, dimension: Dimension, expected: dict[str, int]
) -> None:
    await known_history(deps)
    rows = (await report(deps)).splits[dimension]
    intents = {row.group: row.intents for row in rows}
    assert {group: count for group, count in intents.items() if count} == expected
    assert sum(row.answers for row in rows) == 4


async def test_a_reason_filter_keeps_only_what_belongs_to_its_cases(deps: AppDeps) -> None:
    await known_history(deps)
    result = await report(deps, ReasonCode.CHANGED_MIND)

    assert (result.flow.intents, result.flow.requests, result.flow.kept) == (4, 2, 0)
    assert result.flow.merchant_cancellations is None
    assert result.refunds.opened == 2
    assert result.refunds.currencies == (cny("310.00"), usd("500.00"))
    assert result.handoffs.tickets == 2
    assert (result.satisfaction.asked, result.satisfaction.answers) == (2, 2)
    assert [case.reason for case in result.recent_cases] == [ReasonCode.CHANGED_MIND] * 4


async def test_recent_cases_newest_first_with_their_outcome(deps: AppDeps) -> None:
    known = await known_history(deps)
    recent = (await report(deps)).recent_cases

    assert len(recent) == 11
    assert recent[0].id == known.case8
    assert [case.outcome.value for case in recent] == [
        "in_progress", "abandoned", "submitted", "abandoned", "refused", "submitted",
        "submitted", "kept", "saved_then_cancelled", "kept", "submitted",
    ]  # fmt: skip
    assert recent[-1].id == known.case1
    assert (recent[-1].order_number, recent[-1].customer_ref) == ("O1", "C1")


async def test_an_empty_period_has_no_shares_only_dashes(deps: AppDeps) -> None:
    result = await report(deps)

    assert result.flow.intents == 0
    shares = [
        result.flow.save_rate,
        result.flow.request_rate,
        result.flow.handoff_rate,
        result.kept.save_rate,
        *(offer.acceptance_rate for offer in result.kept.offers),
        result.satisfaction.response_rate,
        result.satisfaction.satisfied,
    ]
    assert all(share.percent is None and str(share) == "—" for share in shares)
    assert result.satisfaction.average is None
    assert result.refunds.time_to_refund == (MethodTiming(None, Timing(0, None, None, None)),)
    assert result.kept.revenue_kept == result.kept.cost_total == ()
    assert all(not rows for rows in result.splits.values())


async def test_a_kept_order_cancelled_after_the_window_stays_kept(deps: AppDeps) -> None:
    """With a 3-day window, the shop's cancellation 5 days after the save no longer counts."""
    await known_history(deps)
    narrow = deps.settings.model_copy(update={"insights_kept_window_days": 3})
    deps.settings = narrow
    result = await report(deps)

    assert (result.kept.saved, result.kept.cancelled_within_window, result.kept.kept) == (3, 0, 3)
    assert result.kept.kept_window_open == 0
    assert result.kept.revenue_kept == (cny("350.00"), usd("80.00"))
