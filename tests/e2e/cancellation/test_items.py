"""Delivered orders with several items: the customer picks what goes back, and how many,
and the refund covers exactly that."""

from __future__ import annotations

from decimal import Decimal

from bot.services.imports.records import CustomerRecord, OrderRecord
from storage.models import Order
from tests.e2e.cancellation.chat import (
    ARRIVAL,
    Chat,
    confirm,
    give_reason,
    money,
    option,
    shown,
    store_credit,
)
from tests.e2e.cancellation.conftest import (
    Scenario,
    ago,
    item,
)
from tests.e2e.cancellation.rows import (
    order_row,
    refunds_for,
    requests_for,
)


def tea_set(scenario: Scenario, customer: CustomerRecord) -> OrderRecord:
    return scenario.order(
        customer,
        "SO-7000001",
        item("Porcelain Mug", "30.00", zh="瓷杯", category="home", quantity=3),
        item("Teapot", "80.00", zh="茶壶", category="home"),
        status="delivered",
        delivered=ago(days=2),
    )


async def choose_items(chat: Chat, order: OrderRecord) -> None:
    """/cancel_order, then the item buttons: each tap adds one, all of them wrap to none."""
    await chat.send(f"/cancel_order {order.number}")
    mugs, teapot = (line.names.get(chat.locale) or line.name for line in order.items)
    message = await chat.expect_text("cancel/choose_items", order=shown(order, chat.locale))
    assert message.buttons() == [chat.button("item", mugs, 0, 3), chat.button("item", teapot, 0, 1)]


def quantities(order: Order) -> dict[str, int]:
    return {line.sku: line.quantity for line in order.items}


async def test_two_of_three_mugs_are_returned_and_refunded_alone(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = tea_set(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)
    mugs, teapot = (line.names.get(chat.locale) or line.name for line in order.items)

    await choose_items(chat, order)
    await chat.press("item", mugs, 0, 3)
    assert chat.person.last.buttons() == [
        chat.button("item", mugs, 1, 3),
        chat.button("item", teapot, 0, 1),
        chat.button("items_done"),
    ]
    await chat.press("item", mugs, 1, 3)
    await chat.press("item", teapot, 0, 1)
    await chat.press("item", teapot, 1, 1)  # once more: back to none
    assert chat.person.last.buttons() == [
        chat.button("item", mugs, 2, 3),
        chat.button("item", teapot, 0, 1),
        chat.button("items_done"),
    ]
    await chat.press("items_done")
    await chat.expect_text("cancel/choose_reason", order=shown(order, chat.locale))
    await give_reason(chat, "changed_mind")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_unopened",
            lines=[("items", "60.00", "60.00"), ("shipping", "10.00", "0.00")],
            refund="60.00",
            returned=True,
            offers=[store_credit("60.00")],
            days_since_delivery=2,
        )
    )
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "60.00"), returned=True))
    await confirm(chat)

    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="return",
        refund=money("60.00"),
        method="card",
        approved=True,
        return_required=True,
        arrival=ARRIVAL["card"],
        voucher=None,
        by_agent=False,
    )
    stored = await order_row(scenario.deps, order.number)
    mug_id = next(line.id for line in stored.items if line.sku == order.items[0].sku)
    [request] = await requests_for(scenario.deps, order.number)
    assert [(line.order_item_id, line.quantity) for line in request.items] == [(mug_id, 2)]
    assert request.refund_amount == Decimal("60.00")
    [refund] = await refunds_for(scenario.deps, order.number)
    assert refund.amount == Decimal("60.00")
    assert quantities(stored) == {"PORCELAIN-MUG": 3, "TEAPOT": 1}  # the order is untouched


async def test_a_faulty_item_of_several_keeps_the_shipping_fee(scenario: Scenario) -> None:
    """Shipping goes back only when the whole order does: it still carried the mugs."""
    ann = scenario.customer()
    order = tea_set(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)

    await choose_items(chat, order)
    await chat.press("item", "Teapot", 0, 1)
    await chat.press("items_done")
    await give_reason(chat, "defective")
    await chat.expect_text("cancel/ask_photo", required=True)
    await chat.person.send_photo()
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_defective",
            reason="defective",
            lines=[("items", "80.00", "80.00"), ("shipping_partial", "10.00", "0.00")],
            refund="80.00",
            returned=True,
            offers=[store_credit("80.00")],
        )
    )
    await chat.press("no_thanks_cancel")
    await confirm(chat)

    stored = await order_row(scenario.deps, order.number)
    teapot_id = next(line.id for line in stored.items if line.sku == "TEAPOT")
    [request] = await requests_for(scenario.deps, order.number)
    assert [(line.order_item_id, line.quantity) for line in request.items] == [(teapot_id, 1)]
    [refund] = await refunds_for(scenario.deps, order.number)
    assert refund.amount == Decimal("80.00")


async def test_every_item_at_full_quantity_is_the_whole_order(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = tea_set(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)

    await choose_items(chat, order)
    for chosen in range(3):
        await chat.press("item", "Porcelain Mug", chosen, 3)
    await chat.press("item", "Teapot", 0, 1)
    await chat.press("items_done")
    await give_reason(chat, "wrong_item")
    await chat.expect_text("cancel/ask_photo", required=True)
    await chat.person.send_photo()
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_defective",
            lines=[("items", "170.00", "170.00"), ("shipping", "10.00", "10.00")],
            refund="180.00",
            returned=True,
            offers=[store_credit("180.00")],
            reason="wrong_item",
        )
    )
