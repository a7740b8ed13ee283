"""What the customer accepted in the chat, the merchant reads on the order: an express
upgrade to ship, an exchange to send (GET /api/v1/orders/{number})."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.config import Settings
from tests.api.support import SECRET, MerchantClient
from tests.conftest import NOW
from tests.e2e.cancellation.chat import give_reason, money, offer, plain, to_reason
from tests.e2e.cancellation.conftest import Scenario, ago, item


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"merchant_api_secret": SecretStr(SECRET)})


async def test_an_accepted_express_upgrade_is_on_the_order(
    scenario: Scenario, api: MerchantClient
) -> None:
    ann = scenario.customer()
    order = scenario.order(ann, "SO-9300001", item("Desk Lamp", "120.00"), status="processing")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "late_delivery")
    await chat.accept(offer("expedited_shipping", "0.00"))
    await chat.expect_text(
        "notify/offer_accepted",
        order_number=order.number,
        type="expedited_shipping",
        value=money("0.00"),
        details={},
    )

    answer = await api.get(f"/api/v1/orders/{order.number}")
    assert answer.status == 200
    assert answer.body["express_shipping_requested_at"] == NOW.isoformat().replace("+00:00", "Z")
    [accepted] = answer.body["accepted_offers"]
    assert (accepted["type"], accepted["value"], accepted["voucher"]) == (
        "expedited_shipping",
        "0.00",
        None,
    )


async def test_an_accepted_exchange_is_on_the_order_with_its_replacement(
    scenario: Scenario, api: MerchantClient
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9300002",
        item("Cotton Hoodie", "259.00", category="apparel", sku="HD-M", size="M"),
        status="delivered",
        delivered=ago(days=3),
    )
    scenario.variant("HD-M", "HD", "Cotton Hoodie", "259.00", available=0, size="M")
    scenario.variant("HD-L", "HD", "Cotton Hoodie", "259.00", available=2, size="L")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await chat.send("too small")  # wrong_size: not the shop's fault, but an exchange fits
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    exchange = offer("exchange", "259.00", attributes="L")
    await chat.accept(exchange)
    await chat.expect(f"{order.number}-X1")

    answer = await api.get(f"/api/v1/orders/{order.number}")
    assert answer.body["replacements"] == [f"{order.number}-X1"]
    [accepted] = answer.body["accepted_offers"]
    assert accepted["type"] == "exchange"
    assert {k: accepted["params"][k] for k in ("sku", "replaces", "attributes")} == {
        "sku": "HD-L",
        "replaces": "HD-M",
        "attributes": "L",
    }
    assert answer.body["express_shipping_requested_at"] is None


async def test_an_exchange_before_shipping_is_on_the_order_as_its_new_item(
    scenario: Scenario, api: MerchantClient
) -> None:
    """Swapped before it ships: the order itself lists the variant to send, and the
    accepted exchange says what it replaced; there is no replacement order."""
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9300003",
        item("Bluetooth Headphones", "399.00", sku="BT-BLACK", color="black"),
        status="processing",
    )
    scenario.variant("BT-BLACK", "BT", "Bluetooth Headphones", "399.00", available=1, color="black")
    scenario.variant("BT-BLUE", "BT", "Bluetooth Headphones", "399.00", available=1, color="blue")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await chat.send("I'd like them in blue")
    exchange = offer("exchange", "399.00", attributes="blue")
    await chat.expect(plain(chat.label("offer_line", exchange)))
    await chat.accept(exchange)
    await chat.expect(order.number)

    answer = await api.get(f"/api/v1/orders/{order.number}")
    assert [line["sku"] for line in answer.body["items"]] == ["BT-BLUE"]
    assert answer.body["replacements"] == []
    [accepted] = answer.body["accepted_offers"]
    assert accepted["type"] == "exchange"
    assert (accepted["params"]["sku"], accepted["params"]["replaces"]) == ("BT-BLUE", "BT-BLACK")
