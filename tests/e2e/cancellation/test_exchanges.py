"""Exchanges, walked in the chat (issue 10, point 3).

An exchange offers only a variant the order does not already hold: the one the
customer's words ask for ("too small, need an L" → L; "我想要蓝色的" → blue), else one
they pick from the variants in stock. On an order not yet shipped the item is swapped
before it ships (one order, nothing to send back); after that, the variant ships as a
replacement order and /status shows the exchange as an exchange, not as a ¥0.00
cancellation. Sizes and colours are shown in the customer's language.
"""

from __future__ import annotations

from decimal import Decimal

from bot.services.imports.records import CustomerRecord, OrderRecord
from storage.enums import OfferStatus, OfferType, OrderStatus, RequestKind, RequestStatus
from tests.e2e.cancellation.chat import give_reason, money, offer, plain, to_reason
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import (
    available,
    offers_for,
    order_row,
    refunds_for,
    requests_for,
)

WORDS = {
    "en": ("too small, need an L", "I'd like it in blue"),
    "zh": ("太小了，要L码", "我想要蓝色的"),
}


def tee_in_blue_m(scenario: Scenario, customer: CustomerRecord, number: str) -> OrderRecord:
    """A delivered T-shirt in blue, size M; S, L in blue and L in white cost the same."""
    order = scenario.order(
        customer,
        number,
        item("Cotton T-Shirt", "79.00", zh="纯棉T恤", category="apparel", sku="TS-BLUE-M",
             color="blue", size="M"),
        status="delivered",
        delivered=ago(days=3),
    )  # fmt: skip
    for sku, color, size in (
        ("TS-BLUE-M", "blue", "M"),
        ("TS-BLUE-S", "blue", "S"),
        ("TS-BLUE-L", "blue", "L"),
        ("TS-WHITE-L", "white", "L"),
    ):
        scenario.variant(sku, "TS", "Cotton T-Shirt", "79.00", available=3, color=color, size=size)
    return order


def headphones_in_black(
    scenario: Scenario, customer: CustomerRecord, number: str, *, blue_left: int = 5
) -> OrderRecord:
    """Headphones in black, paid and not shipped yet; blue ones cost the same."""
    order = scenario.order(
        customer,
        number,
        item("Bluetooth Headphones", "399.00", zh="蓝牙耳机", sku="BT-BLACK", color="black"),
        status="paid",
    )
    scenario.variant("BT-BLACK", "BT", "Bluetooth Headphones", "399.00", available=2, color="black")
    scenario.variant(
        "BT-BLUE", "BT", "Bluetooth Headphones", "399.00", available=blue_left, color="blue"
    )
    return order


async def test_the_size_the_customer_names_is_the_one_offered_and_status_shows_the_exchange(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = tee_in_blue_m(scenario, ann, "SO-9400001")
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await chat.send(WORDS[lang][0])  # wrong size: not the shop's fault, but an exchange fits
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    # Blue L, not white L (the colour stays), not S (they asked for bigger), not M (theirs).
    exchange = offer("exchange", "79.00", attributes="blue / L")
    decision = await chat.expect(plain(chat.label("offer_line", exchange)))
    assert chat.button("offer", "exchange", exchange.value, exchange.params, False) in [
        button["text"] for button in decision.inline_buttons()
    ]
    await chat.accept(exchange)

    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="exchange",
        value=money("79.00"),
        details={"new_order": f"{order.number}-X1", "variant": "blue / L"},
        voucher=None,
    )
    replacement = await order_row(scenario.deps, f"{order.number}-X1")
    assert [(line.sku, line.attributes) for line in replacement.items] == [
        ("TS-BLUE-L", {"color": "blue", "size": "L"})
    ]
    assert await available(scenario.deps, "TS-BLUE-L") == 2
    [request] = await requests_for(scenario.deps, order.number)
    assert (request.kind, request.status, request.rule) == (
        RequestKind.RETURN,
        RequestStatus.APPROVED,
        "exchange",
    )
    assert request.decision == {
        "exchange": {
            "new_order": f"{order.number}-X1",
            "sku": "TS-BLUE-L",
            "variant": "blue / L",
            "replaces": "TS-BLUE-M",
            "was": "blue / M",
        }
    }

    await chat.send("/status")
    status = await chat.expect(f"{order.number}-X1")
    shown_as = {"en": "blue / M → blue / L", "zh": "蓝色 / M码 → 蓝色 / L码"}[lang]
    assert shown_as in status.text
    assert money("0.00").format() not in status.text  # not a ¥0.00 cancellation


async def test_a_colour_asked_for_before_shipping_swaps_the_item_on_the_order(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = headphones_in_black(scenario, ann, "SO-9400002")
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await chat.send(WORDS[lang][1])  # no reason named: a change of mind, for another colour
    exchange = offer("exchange", "399.00", attributes="blue")
    await chat.expect(plain(chat.label("offer_line", exchange)))
    await chat.accept(exchange)

    receipt = await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="exchange",
        value=money("399.00"),
        details={"swapped": order.number, "variant": "blue", "was": "black"},
        voucher=None,
    )
    details = {"swapped": order.number, "variant": "blue", "was": "black"}
    receipt_context = {"order_number": order.number, "type": "exchange", "value": money("399.00")}
    text = chat.text(receipt.template, **receipt_context, details=details)
    assert {"en": "blue", "zh": "蓝色"}[lang] in text
    # One order ships, now with the blue pair; nothing to send back, nothing refunded.
    original = await order_row(scenario.deps, order.number)
    assert original.status is OrderStatus.PAID
    assert [(line.sku, line.attributes) for line in original.items] == [
        ("BT-BLUE", {"color": "blue"})
    ]
    assert await requests_for(scenario.deps, order.number) == []
    assert await refunds_for(scenario.deps, order.number) == []
    async with scenario.deps.uow() as uow:
        assert await uow.orders.replacements_of(original.id) == []
    assert (
        await available(scenario.deps, "BT-BLUE"),
        await available(scenario.deps, "BT-BLACK"),
    ) == (
        4,
        3,
    )
    offers = await offers_for(scenario.deps, order.number)
    exchanges = [(o.status, o.params["sku"]) for o in offers if o.type is OfferType.EXCHANGE]
    assert exchanges == [(OfferStatus.ACCEPTED, "BT-BLUE")]


async def test_without_words_the_customer_picks_the_variant_from_those_in_stock(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9400003",
        item("Wool Sweater", "399.00", zh="羊毛衫", category="apparel", sku="WS-WHITE-M",
             color="white", size="M"),
        status="processing",
    )  # fmt: skip
    for sku, color, size, left in (
        ("WS-WHITE-M", "white", "M", 4),
        ("WS-WHITE-L", "white", "L", 4),
        ("WS-BLACK-M", "black", "M", 4),
        ("WS-BLACK-L", "black", "L", 0),  # sold out: not a choice
    ):
        scenario.variant(
            sku, "WS", "Wool Sweater", "399.00", available=left, color=color, size=size
        )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    pick = offer("exchange", "399.00", attributes="", sku="")
    await chat.expect(plain(chat.label("offer_line", pick)))
    await chat.accept(pick)
    choices = await chat.expect_text("cancel/choose_variant")
    labels = [button["text"] for button in choices.inline_buttons()]
    # Each changes one thing (colour or size); the sold-out black L is not a choice.
    assert labels == [
        chat.button("variant_choice", {"color": "black", "size": "M"}),
        chat.button("variant_choice", {"color": "white", "size": "L"}),
    ]
    if lang == "zh":
        assert labels == ["🔁 黑色 / M码", "🔁 白色 / L码"]
    await chat.press("variant_choice", {"color": "black", "size": "M"})

    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="exchange",
        value=money("399.00"),
        details={"swapped": order.number, "variant": "black / M", "was": "white / M"},
        voucher=None,
    )
    original = await order_row(scenario.deps, order.number)
    assert [line.sku for line in original.items] == ["WS-BLACK-M"]
    assert original.items[0].unit_price == Decimal("399.00")
    assert await requests_for(scenario.deps, order.number) == []


async def test_two_customers_cannot_both_take_the_last_unit(scenario: Scenario) -> None:
    ann, bob = scenario.customer("Ann Lee"), scenario.customer("Bob Wu")
    first = headphones_in_black(scenario, ann, "SO-9400004", blue_left=1)
    second = scenario.order(
        bob,
        "SO-9400005",
        item("Bluetooth Headphones", "399.00", sku="BT-BLACK", color="black"),
        status="paid",
    )
    await scenario.load()
    ann_chat, bob_chat = await scenario.link(ann), await scenario.link(bob)
    exchange = offer("exchange", "399.00", attributes="blue")
    for chat, order in ((ann_chat, first), (bob_chat, second)):
        await to_reason(chat, order)
        await chat.send("I'd like it in blue")
        await chat.expect(
            plain(chat.label("offer_line", exchange))
        )  # both were offered the last one

    await ann_chat.accept(exchange)
    await ann_chat.expect(first.number)
    late = await bob_chat.person.press(bob_chat.button("offer", "exchange", exchange.value,
                                                       exchange.params, False))  # fmt: skip
    assert await bob_chat.alert(late) == bob_chat.text("plain/offer_unavailable")

    assert await available(scenario.deps, "BT-BLUE") == 0
    assert [line.sku for line in (await order_row(scenario.deps, first.number)).items] == [
        "BT-BLUE"
    ]
    assert [line.sku for line in (await order_row(scenario.deps, second.number)).items] == [
        "BT-BLACK"
    ]
