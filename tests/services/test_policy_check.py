"""`cancelbot policy check` decides as the conversation does, history included."""

from __future__ import annotations

from bot.services.policy.check import check_order
from bot.wiring import AppDeps
from storage.enums import (
    CaseStatus,
    ItemCategory,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)
from tests.conftest import NOW
from tests.support.history import HistoryBuilder, days


async def test_the_store_credit_bonus_is_not_shown_to_who_had_it_lately(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        for ref, user_id, number in (("C1", 101, "SO-1"), ("C2", 102, "SO-2")):
            person = await b.person(ref, user_id=user_id, since=NOW - days(90))
            await b.order(
                person,
                number,
                (ItemCategory.HOME, "100.00", 1),
                status=OrderStatus.PAID,
                placed=NOW - days(1),
                paid=NOW - days(1),
            )
            if ref == "C2":  # store credit, with its bonus, accepted ten days ago
                earlier = await b.order(
                    person,
                    "SO-0",
                    (ItemCategory.HOME, "50.00", 1),
                    status=OrderStatus.CANCELLED,
                    placed=NOW - days(12),
                )
                case = await b.case(person, earlier, at=NOW - days(10), status=CaseStatus.CONFIRMED)
                await b.offer(
                    case,
                    OfferType.STORE_CREDIT,
                    "55.00",
                    status=OfferStatus.ACCEPTED,
                    shown=NOW - days(10),
                    answered=NOW - days(10),
                )
        await uow.commit()

    policy = deps.service_config.policy
    bonus = {}
    for number in ("SO-1", "SO-2"):
        async with deps.uow() as uow:
            checked = await check_order(uow, policy, number, ReasonCode.CHANGED_MIND, at=NOW)
        (credit,) = [
            option
            for option in checked.decision.refund_options
            if option.method is PaymentMethod.STORE_CREDIT
        ]
        bonus[number] = credit.bonus.amount
    assert bonus["SO-1"] > 0  # the first time: the policy file's bonus
    assert bonus["SO-2"] == 0  # had it ten days ago: face value, as the conversation offers
