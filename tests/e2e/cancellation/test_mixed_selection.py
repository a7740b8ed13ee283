"""A returnable kettle and non-returnable strawberries in one selection: the kettle is
refunded as the policy allows, the strawberries are left out with the policy file's
reason, and the customer can go back to the items and choose again."""

from __future__ import annotations

from decimal import Decimal

from bot.services.imports.records import CustomerRecord, OrderRecord
from storage.enums import OfferStatus
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
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import offers_for, order_row, refunds_for, requests_for

KETTLE, STRAWBERRIES = "Electric Kettle", "Fresh Strawberries 500 g"


def groceries(scenario: Scenario, customer: CustomerRecord) -> OrderRecord:
    """Delivered three days ago: a kettle, and two boxes of strawberries (never returned)."""
    return scenario.order(
        customer,
        "SO-7100001",
        item(KETTLE, "199.00", zh="电热水壶", category="home", sku="EK-17"),
        item(
            STRAWBERRIES,
            "39.90",
            zh="新鲜草莓 500 克",
            category="food_perishable",
            sku="FD-STRAW",
            quantity=2,
        ),
        status="delivered",
        delivered=ago(days=3),
    )


def names(chat: Chat, order: OrderRecord) -> tuple[str, str]:
    kettle, strawberries = (line.names.get(chat.locale) or line.name for line in order.items)
    return kettle, strawberries


async def choose_both(chat: Chat, order: OrderRecord) -> None:
    """The kettle and both boxes of strawberries, then why (changed mind) and how (unopened)."""
    kettle, strawberries = names(chat, order)
    await chat.send(f"/cancel_order {order.number}")
    await chat.expect_text("cancel/choose_items", order=shown(order, chat.locale))
    await chat.press("item", kettle, 0, 1)
    await chat.press("item", strawberries, 0, 2)
    await chat.press("item", strawberries, 1, 2)
    await chat.press("items_done")
    await chat.expect_text("cancel/choose_reason", order=shown(order, chat.locale))
    await give_reason(chat, "changed_mind")
    await chat.expect_text("cancel/choose_condition")  # about the kettle: it can go back
    await chat.press("condition", "unopened")


def kettle_alone(chat: Chat, order: OrderRecord, *, without_strawberries: bool) -> str:
    """The kettle refunded, the shipping fee kept; the strawberries named as left out."""
    left_out = [(names(chat, order)[1], 2)] if without_strawberries else []
    return chat.decision(
        order,
        "delivered_unopened",
        lines=[("items", "199.00", "199.00"), ("shipping", "10.00", "0.00")],
        refund="199.00",
        returned=True,
        offers=[store_credit("199.00")],
        reason="changed_mind",
        excluded=left_out,
        days_since_delivery=3,
    )


async def test_the_kettle_is_refunded_and_the_strawberries_are_left_out_with_the_reason(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = groceries(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await choose_both(chat, order)
    decision = await chat.expect_exactly(kettle_alone(chat, order, without_strawberries=True))
    # Why, from the policy file: the non_returnable rule's own conditions.
    why = {
        "en": "fresh food, personalised items, items sold as final and activated digital "
        "goods are not taken back, unless they are defective or damaged or the wrong item",
        "zh": "生鲜食品、定制商品、标明不退换的商品和已激活的数字商品均不可退，"
        "除非有质量问题或破损或发错了商品",
    }[lang]
    assert why in decision.text
    assert names(chat, order)[1] in decision.text
    assert decision.buttons() == [
        chat.button("offer", "store_credit", money("218.90"), {}, False),
        chat.button("no_thanks_cancel"),
        chat.button("change_items"),
    ]
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "199.00"), returned=True))
    await confirm(chat)

    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="return",
        refund=money("199.00"),
        method="card",
        approved=True,
        return_required=True,
        arrival=ARRIVAL["card"],
        voucher=None,
        by_agent=False,
    )
    stored = await order_row(scenario.deps, order.number)
    kettle_id = next(line.id for line in stored.items if line.sku == "EK-17")
    [request] = await requests_for(scenario.deps, order.number)
    # Only the kettle goes back: the strawberries stay out of the request and its refund.
    assert [(line.order_item_id, line.quantity) for line in request.items] == [(kettle_id, 1)]
    assert request.refund_amount == Decimal("199.00")
    [refund] = await refunds_for(scenario.deps, order.number)
    assert refund.amount == Decimal("199.00")


async def test_change_the_items_goes_back_with_the_choice_ticked_and_nothing_stale(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = groceries(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)
    kettle, strawberries = names(chat, order)

    await choose_both(chat, order)
    decision = await chat.expect_exactly(kettle_alone(chat, order, without_strawberries=True))
    await chat.press("change_items")
    again = await chat.expect_text("cancel/choose_items", order=shown(order, chat.locale))
    assert again.buttons() == [  # the earlier choice, ticked
        chat.button("item", kettle, 1, 1),
        chat.button("item", strawberries, 2, 2),
        chat.button("items_done"),
    ]
    # The offers made for that choice lapsed, and their buttons are gone.
    assert {o.status for o in await offers_for(scenario.deps, order.number)} == {
        OfferStatus.EXPIRED
    }
    assert decision.inline_buttons() == []

    await chat.press("item", strawberries, 2, 2)  # once more: back to none
    await chat.press("items_done")
    # The reason stays; the condition was about the items chosen before, so it is asked.
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    await chat.expect_exactly(kettle_alone(chat, order, without_strawberries=False))
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "199.00"), returned=True))
    await confirm(chat)

    [request] = await requests_for(scenario.deps, order.number)
    assert [line.quantity for line in request.items] == [1]
    assert request.refund_amount == Decimal("199.00")
    offers = await offers_for(scenario.deps, order.number)
    assert sorted(o.status for o in offers) == [OfferStatus.DECLINED, OfferStatus.EXPIRED]


async def test_only_strawberries_are_refused_and_the_items_can_be_changed(
    scenario: Scenario,
) -> None:
    ann = scenario.customer()
    order = groceries(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.send(f"/cancel_order {order.number}")
    await chat.expect_text("cancel/choose_items", order=shown(order, chat.locale))
    await chat.press("item", STRAWBERRIES, 0, 2)
    await chat.press("items_done")
    await give_reason(chat, "changed_mind")
    refusal = await chat.expect_exactly(
        chat.decision(order, "non_returnable", reason="changed_mind")
    )
    assert refusal.buttons() == [chat.button("person"), chat.button("change_items")]
    await chat.press("change_items")
    await chat.expect_text("cancel/choose_items", order=shown(order, chat.locale))
    await chat.press("item", KETTLE, 0, 1)
    await chat.press("items_done")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_unopened",
            lines=[("items", "199.00", "199.00"), ("shipping", "10.00", "0.00")],
            refund="199.00",
            returned=True,
            offers=[store_credit("199.00")],
            reason="changed_mind",
            excluded=[(STRAWBERRIES, 1)],
            days_since_delivery=3,
        )
    )
