"""The built-in demo shop: big and varied enough to play with, and always relative to now."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jsonschema
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo_data import DEMO_HIGHLIGHTS, build_demo_dataset, seed_demo
from bot.services.domain.clock import FixedClock
from bot.services.imports.records import ImportFile, OrderItemRecord, OrderRecord, StockRecord
from bot.services.imports.schema import import_json_schema
from storage.enums import CustomerTier, ItemCategory, OrderStatus, PaymentMethod
from tests.services.conftest import IMPORT_NOW, row_counts

OTHER_NOW = datetime(2027, 3, 5, 23, 47, 12, 345678, tzinfo=UTC)
TIMES = {
    "placed_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "service_at",
    "promised_delivery_date",
}


@pytest.fixture(scope="module")
def demo() -> ImportFile:
    return build_demo_dataset(IMPORT_NOW)


def items_of(demo: ImportFile, category: ItemCategory) -> list[tuple[OrderRecord, int]]:
    """(order, item index) for every item of the category."""
    return [
        (order, index)
        for order in demo.orders
        for index, item in enumerate(order.items)
        if item.category is category
    ]


def age(at: datetime) -> timedelta:
    return IMPORT_NOW - at


def line(demo: ImportFile, number: str, sku: str) -> tuple[OrderRecord, OrderItemRecord]:
    order = next(order for order in demo.orders if order.number == number)
    return order, next(item for item in order.items if item.sku == sku)


def exchanges(demo: ImportFile, number: str, sku: str) -> list[str]:
    """The variants an exchange may offer for an order line: the rule the policy applies."""
    order, item = line(demo, number, sku)
    stock = {variant.sku: variant for variant in demo.stock}
    return sorted(
        variant.sku
        for variant in demo.stock
        if variant.group == stock[item.sku].group
        and variant.sku != item.sku
        and (variant.unit_price, variant.currency) == (item.unit_price, order.currency)
        and variant.available >= item.quantity
    )


def group(demo: ImportFile, name: str) -> dict[str, StockRecord]:
    return {variant.sku: variant for variant in demo.stock if variant.group == name}


def test_it_is_big_enough(demo: ImportFile) -> None:
    assert len(demo.customers) >= 30
    assert len(demo.orders) >= 150
    assert sum(len(order.items) > 1 for order in demo.orders) >= 10


def test_customers_are_a_realistic_fictional_mix(demo: ImportFile) -> None:
    ids = [customer.id for customer in demo.customers]
    assert ids == [f"C{1001 + n}" for n in range(len(ids))]
    assert {customer.locale for customer in demo.customers} >= {"en", "zh"}
    chinese = [c for c in demo.customers if re.search(r"[\u4e00-\u9fff]", c.name)]
    assert 0.3 <= len(chinese) / len(ids) <= 0.7
    vip_share = sum(c.tier is CustomerTier.VIP for c in demo.customers) / len(ids)
    assert 0.15 <= vip_share <= 0.25
    for customer in demo.customers:
        assert re.fullmatch(r"\+1\d{3}55501\d\d|\+86138000\d{5}", customer.phone), customer.phone
        assert customer.email is None or customer.email.endswith("@example.com")


def test_every_status_currency_and_payment_method_needed_is_there(demo: ImportFile) -> None:
    assert {order.status for order in demo.orders} == set(OrderStatus)
    currencies = Counter(order.currency for order in demo.orders)
    assert set(currencies) == {"CNY", "USD"}
    assert currencies["CNY"] > currencies["USD"] > 0
    methods = {order.payment_method for order in demo.orders}
    assert {PaymentMethod.CASH_ON_DELIVERY, PaymentMethod.E_WALLET, PaymentMethod.CARD} <= methods


def test_the_catalog_covers_every_kind_of_rule(demo: ImportFile) -> None:
    categories = {item.category for order in demo.orders for item in order.items}
    assert {
        ItemCategory.ELECTRONICS,
        ItemCategory.APPAREL,
        ItemCategory.HOME,
        ItemCategory.FOOD_PERISHABLE,
        ItemCategory.PERSONALIZED,
        ItemCategory.DIGITAL,
        ItemCategory.BOOKING,
    } <= categories
    for order, index in items_of(demo, ItemCategory.APPAREL):
        assert {"size", "color"} <= set(order.items[index].attributes)
    for category in (ItemCategory.FOOD_PERISHABLE, ItemCategory.PERSONALIZED):
        assert all(not order.items[i].returnable for order, i in items_of(demo, category))
    activated = {order.items[i].activated for order, i in items_of(demo, ItemCategory.DIGITAL)}
    assert activated == {True, False}


def test_names_come_in_both_languages_and_some_are_hard(demo: ImportFile) -> None:
    items = [item for order in demo.orders for item in order.items]
    assert all(re.search(r"[\u4e00-\u9fff]", item.names["zh"]) for item in items)
    headphones = {item.attributes["color"] for item in items if item.name == "Bluetooth Headphones"}
    assert headphones == {"blue", "black"}
    names = {item.name for item in items}
    assert {"Electric Kettle", "Blue Cotton Frying Pan", "<b>Tom & Jerry</b> Mug"} <= names


def test_bookings_are_spread_around_now(demo: ImportFile) -> None:
    upcoming = sorted(
        order.service_at - IMPORT_NOW
        for order, _ in items_of(demo, ItemCategory.BOOKING)
        if order.service_at is not None and order.service_at > IMPORT_NOW
    )
    assert all(order.service_at for order, _ in items_of(demo, ItemCategory.BOOKING))
    assert any(delta <= timedelta(hours=12) for delta in upcoming)
    assert any(timedelta(hours=46) <= delta <= timedelta(hours=50) for delta in upcoming)
    assert any(delta >= timedelta(days=5) for delta in upcoming)
    assert any(
        order.service_at and order.service_at < IMPORT_NOW
        for order, _ in items_of(demo, ItemCategory.BOOKING)
    )


@pytest.mark.parametrize("days", [3, 7, 8, 25, 31])
def test_deliveries_sit_on_either_side_of_the_usual_windows(demo: ImportFile, days: int) -> None:
    """ "N days ago" means inside an N-day window by a couple of hours."""
    assert any(
        timedelta(days=days - 1) < age(order.delivered_at) < timedelta(days=days)
        for order in demo.orders
        if order.delivered_at is not None
    )


def test_parcels_in_transit_are_late_and_on_time(demo: ImportFile) -> None:
    promised = [
        order.promised_delivery_date
        for order in demo.orders
        if order.status is OrderStatus.SHIPPED and order.promised_delivery_date is not None
    ]
    today = IMPORT_NOW.date()
    assert any(day < today for day in promised)
    assert any(day > today for day in promised)


def test_some_orders_are_unpaid_and_some_customers_busy(demo: ImportFile) -> None:
    assert any(order.paid_at is None for order in demo.orders)
    assert any(order.status is OrderStatus.PENDING_PAYMENT for order in demo.orders)
    recent = Counter(
        order.customer_id for order in demo.orders if age(order.placed_at) < timedelta(days=7)
    )
    assert max(recent.values()) >= 3


def test_order_numbers_are_mostly_so_and_seven_digits(demo: ImportFile) -> None:
    numbers = [order.number for order in demo.orders]
    shaped = [n for n in numbers if re.fullmatch(r"SO-\d{7}", n)]
    assert "SO-1002345" in numbers
    assert len(shaped) > len(numbers) * 0.7
    assert len(shaped) < len(numbers)


def test_nothing_that_already_happened_is_in_the_future(demo: ImportFile) -> None:
    for order in demo.orders:
        for at in (order.placed_at, order.paid_at, order.shipped_at, order.delivered_at):
            assert at is None or at <= IMPORT_NOW, order.number


def test_highlights_name_real_customers_with_real_stories(demo: ImportFile) -> None:
    customers = {customer.id for customer in demo.customers}
    assert 5 <= len(DEMO_HIGHLIGHTS) <= 12
    assert set(DEMO_HIGHLIGHTS) <= customers
    assert all(description and "\n" not in description for description in DEMO_HIGHLIGHTS.values())
    with_orders = {order.customer_id for order in demo.orders}
    assert set(DEMO_HIGHLIGHTS) <= with_orders
    with pytest.raises(TypeError):
        DEMO_HIGHLIGHTS["C9999"] = "mutable"  # type: ignore[index]


def test_a_seed_gives_the_same_set_and_another_seed_another() -> None:
    first = build_demo_dataset(IMPORT_NOW, seed=7).model_dump(mode="json")
    assert build_demo_dataset(IMPORT_NOW, seed=7).model_dump(mode="json") == first
    assert build_demo_dataset(IMPORT_NOW, seed=8).model_dump(mode="json") != first


def test_dates_move_with_now(demo: ImportFile) -> None:
    later = build_demo_dataset(OTHER_NOW)
    shift = OTHER_NOW - IMPORT_NOW
    day_shift = OTHER_NOW.date() - IMPORT_NOW.date()
    assert len(later.orders) == len(demo.orders)
    for before, after in zip(demo.orders, later.orders, strict=True):
        assert after.number == before.number
        for name in ("placed_at", "paid_at", "shipped_at", "delivered_at", "service_at"):
            old, new = getattr(before, name), getattr(after, name)
            assert (old is None and new is None) or new - old == shift, (before.number, name)
        if before.promised_delivery_date is not None:
            assert after.promised_delivery_date == before.promised_delivery_date + day_shift
        assert after.model_dump(exclude=TIMES) == before.model_dump(exclude=TIMES)
    assert later.stock == demo.stock


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_demo_dataset(datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001 - the point of the test


def test_the_demo_set_satisfies_the_published_schema(demo: ImportFile) -> None:
    jsonschema.validate(demo.model_dump(mode="json"), import_json_schema())


def test_every_ordered_variant_of_a_stocked_product_is_in_stock(demo: ImportFile) -> None:
    stock = {variant.sku: variant for variant in demo.stock}
    stocked = {variant.name: variant.group for variant in demo.stock}
    ordered = [item for order in demo.orders for item in order.items if item.name in stocked]
    assert len(ordered) >= 20
    for item in ordered:
        assert item.sku in stock, item.sku
        assert stock[item.sku].group == stocked[item.name]
        assert stock[item.sku].attributes == item.attributes


def test_only_goods_worth_exchanging_have_stock(demo: ImportFile) -> None:
    stocked = {variant.name for variant in demo.stock}
    categories = {
        item.category for order in demo.orders for item in order.items if item.name in stocked
    }
    assert categories == {ItemCategory.APPAREL, ItemCategory.ELECTRONICS, ItemCategory.HOME}
    assert {"Cotton T-Shirt", "Wool Sweater", "Bluetooth Headphones", "Electric Kettle"} <= stocked
    assert len({variant.sku for variant in demo.stock}) == len(demo.stock)


def test_a_t_shirt_in_the_wrong_size_can_be_swapped_for_another(demo: ImportFile) -> None:
    order, shirt = line(demo, "SO-1002347", "TS-COT-BLUE-M")
    assert (order.customer_id, order.status) == ("C1001", OrderStatus.DELIVERED)
    assert shirt.attributes == {"color": "blue", "size": "M"}
    offered = exchanges(demo, "SO-1002347", "TS-COT-BLUE-M")
    assert "TS-COT-BLUE-L" in offered
    assert group(demo, "TS-COT")["TS-COT-BLUE-XL"].available == 0
    assert "TS-COT-BLUE-XL" not in offered
    assert "C1001" in DEMO_HIGHLIGHTS


def test_an_exchange_needs_as_many_units_as_were_bought(demo: ImportFile) -> None:
    _, shirts = line(demo, "WX-20481", "TS-COT-WHITE-S")
    assert shirts.quantity == 3
    assert group(demo, "TS-COT")["TS-COT-WHITE-M"].available == 2
    offered = exchanges(demo, "WX-20481", "TS-COT-WHITE-S")
    assert "TS-COT-WHITE-M" not in offered
    assert "TS-COT-WHITE-L" in offered


def test_headphones_come_in_two_colours_at_one_price_and_only_blue_is_left(
    demo: ImportFile,
) -> None:
    headphones = group(demo, "BT-HP")
    assert {sku: v.available > 0 for sku, v in headphones.items()} == {
        "BT-HP-BLUE": True,
        "BT-HP-BLACK": False,
    }
    assert len({v.unit_price for v in headphones.values()}) == 1
    assert exchanges(demo, "SO-1002347", "BT-HP-BLACK") == ["BT-HP-BLUE"]  # C1001, delivered
    assert exchanges(demo, "SO-1002392", "BT-HP-BLACK") == ["BT-HP-BLUE"]  # C1006, paid
    assert exchanges(demo, "SO-1002391", "BT-HP-BLUE") == []  # C1006: the black is sold out


def test_apparel_has_sold_out_sizes_and_equal_price_swaps(demo: ImportFile) -> None:
    apparel = [
        (order.number, order.items[index].sku)
        for order, index in items_of(demo, ItemCategory.APPAREL)
        if order.currency == "CNY"
    ]
    assert sum(bool(exchanges(demo, number, sku)) for number, sku in apparel) >= 5
    for name in ("TS-COT", "HD-COT", "WS-MER", "RS-AIR"):
        variants = group(demo, name).values()
        assert len({v.unit_price for v in variants}) == 1, name
        assert any(v.available == 0 for v in variants), name
        assert sum(v.available > 0 for v in variants) >= 3, name


def test_a_kettle_of_another_colour_costs_more_so_it_is_never_offered(demo: ImportFile) -> None:
    _, kettle = line(demo, "SO-1002351", "EK-17-WHITE")
    kettles = group(demo, "EK-17")
    black = kettles["EK-17-BLACK"]
    assert black.available > 0
    assert black.unit_price != kettle.unit_price == kettles["EK-17-WHITE"].unit_price
    assert exchanges(demo, "SO-1002351", "EK-17-WHITE") == []


def test_money_in_the_demo_set_is_exact(demo: ImportFile) -> None:
    assert {variant.currency for variant in demo.stock} == {"CNY"}
    prices = [item.unit_price for order in demo.orders for item in order.items]
    prices += [variant.unit_price for variant in demo.stock]
    assert all(isinstance(price, Decimal) for price in prices)
    assert all(price.as_tuple().exponent == -2 for price in prices)


async def test_seeding_twice_loads_once(
    import_db: async_sessionmaker[AsyncSession], demo: ImportFile
) -> None:
    clock = FixedClock(IMPORT_NOW)

    first = await seed_demo(import_db, clock)
    second = await seed_demo(import_db, clock)

    assert first.ok, [str(error) for error in first.errors]
    assert (first.customers_created, first.orders_created, first.stock_created) == (
        len(demo.customers),
        len(demo.orders),
        len(demo.stock),
    )
    assert second.ok
    assert (second.customers_created, second.orders_created, second.items_created) == (0, 0, 0)
    assert (second.customers_updated, second.orders_updated) == (0, 0)
    assert (second.stock_created, second.stock_updated) == (0, 0)
    assert second.stock_unchanged == len(demo.stock)
    assert await row_counts(import_db) == {
        "customers": len(demo.customers),
        "orders": len(demo.orders),
        "order_items": sum(len(order.items) for order in demo.orders),
    }
