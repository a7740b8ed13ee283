"""The order list's one query (`OrderRepository.open_to`): the orders a viewer may see
and still cancel, with their items, on both databases."""

from __future__ import annotations

from bot.services.cancellation.cases import CLOSED_ORDER_STATUSES
from bot.wiring import AppDeps
from storage.enums import CaseStatus, ItemCategory, OrderStatus, RequestStatus
from tests.conftest import NOW
from tests.support.history import HistoryBuilder, days


async def test_closed_orders_and_orders_being_cancelled_are_left_out(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        b = HistoryBuilder(uow.session)
        ann = await b.person("C1", user_id=101, since=NOW - days(90))
        bo = await b.person("C2", user_id=102, since=NOW - days(90), name="Bo Wang")
        home = (ItemCategory.HOME, "10.00", 1)
        await b.order(ann, "SO-OLD", home, status=OrderStatus.PAID, placed=NOW - days(3))
        await b.order(
            ann,
            "SO-NEW",
            home,
            (ItemCategory.APPAREL, "20.00", 2),
            status=OrderStatus.DELIVERED,
            placed=NOW - days(1),
        )
        await b.order(ann, "SO-GONE", home, status=OrderStatus.CANCELLED, placed=NOW)
        busy = await b.order(ann, "SO-BUSY", home, status=OrderStatus.PAID, placed=NOW)
        case = await b.case(ann, busy, at=NOW, status=CaseStatus.CONFIRMED)
        await b.request(busy, at=NOW, status=RequestStatus.PENDING_REVIEW, case=case)
        # A denied request is over: its order may be picked again.
        again = await b.order(ann, "SO-AGAIN", home, status=OrderStatus.PAID, placed=NOW)
        denied = await b.case(ann, again, at=NOW, status=CaseStatus.CONFIRMED)
        await b.request(again, at=NOW, status=RequestStatus.DENIED, case=denied)
        await b.order(bo, "SO-BOS", home, status=OrderStatus.PAID, placed=NOW)
        await uow.commit()
        customer_id = ann.customer.id

    async with deps.uow() as uow:
        listed = await uow.orders.open_to(101, customer_id, NOW, CLOSED_ORDER_STATUSES)
        numbers = [order.number for order in listed]
        items = {order.number: len(order.items) for order in listed}
        stranger = await uow.orders.open_to(999, None, NOW, CLOSED_ORDER_STATUSES)

    assert numbers == ["SO-AGAIN", "SO-NEW", "SO-OLD"]  # newest first
    assert items == {"SO-AGAIN": 1, "SO-NEW": 2, "SO-OLD": 1}
    assert stranger == []
