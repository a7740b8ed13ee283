"""The import models: what a merchant's record must look like, and how errors point at it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.services.imports.records import (
    CustomerRecord,
    ImportFile,
    Locale,
    OrderRecord,
    StockRecord,
    normalize_import_phone,
)
from bot.services.imports.schema import SCHEMA_PATH, import_json_schema, render_import_schema
from bot.services.linking.identity import LOCALES
from storage.enums import ItemCategory, OrderStatus
from tests.services.conftest import RecordFactory


def errors_of(model: type[Any], data: object) -> dict[str, str]:
    """`{"items.0.unit_price": message}` for everything the model refuses in `data`."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {
        ".".join(map(str, error["loc"])): error["msg"]
        for error in caught.value.errors(include_url=False)
    }


def stock_record(sku: str = "TS-COT-BLUE-M", **changes: Any) -> dict[str, Any]:
    """A valid stock row as a JSON import file holds it: a T-shirt sized by its sku's end."""
    record = {
        "sku": sku,
        "group": "TS-COT",
        "name": "Cotton T-Shirt",
        "names": {"zh": "纯棉T恤"},
        "attributes": {"color": "blue", "size": sku.rsplit("-", 1)[-1]},
        "unit_price": "79.00",
        "currency": "CNY",
        "available": 12,
    }
    return record | changes


def test_a_good_order_keeps_money_exact_and_time_in_utc(record_factory: RecordFactory) -> None:
    order = OrderRecord.model_validate(
        record_factory.order(items=[record_factory.item(unit_price="129.9")])
    )
    assert order.items[0].unit_price == Decimal("129.90")
    assert isinstance(order.items[0].unit_price, Decimal)
    assert str(order.items[0].unit_price) == "129.90"
    assert order.shipping_fee == Decimal("12.00")
    assert order.placed_at == datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
    assert order.placed_at.tzinfo is UTC
    assert order.items[0].names == {"zh": "蓝牙耳机"}


def test_integer_amounts_are_accepted(record_factory: RecordFactory) -> None:
    order = OrderRecord.model_validate(
        record_factory.order(shipping_fee=0, items=[record_factory.item(unit_price=45)])
    )
    assert order.items[0].unit_price == Decimal(45)
    assert order.shipping_fee == Decimal(0)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (12.5, "not a floating-point number"),
        (True, "decimal number"),
        ("1,299.00", "decimal number"),
        ("1e3", "decimal number"),
        ("NaN", "decimal number"),
        ("-1.00", "must not be negative"),
        ("1000000000000", "too large"),
        ("12.345", "CNY amounts have at most 2 decimal places"),
    ],
)
def test_bad_unit_prices_are_refused_at_the_item(
    record_factory: RecordFactory, amount: object, message: str
) -> None:
    data = record_factory.order(items=[record_factory.item(unit_price=amount)])
    errors = errors_of(OrderRecord, data)
    assert list(errors) == ["items.0.unit_price"]
    assert message in errors["items.0.unit_price"]


def test_a_json_number_with_a_fraction_is_a_float_and_refused(
    record_factory: RecordFactory,
) -> None:
    data = record_factory.order(items=[record_factory.item(unit_price=1)])
    text = json.dumps(data).replace('"unit_price": 1', '"unit_price": 399.5')
    with pytest.raises(ValidationError, match="floating-point"):
        OrderRecord.model_validate_json(text)


@pytest.mark.parametrize(
    ("currency", "amount", "ok"),
    [
        ("JPY", "100", True),
        ("JPY", "100.5", False),
        ("KWD", "1.250", True),
        ("USD", "0.001", False),
    ],
)
def test_places_follow_the_currency(
    record_factory: RecordFactory, currency: str, amount: str, ok: bool
) -> None:
    data = record_factory.order(
        currency=currency, shipping_fee="0", items=[record_factory.item(unit_price=amount)]
    )
    if ok:
        assert OrderRecord.model_validate(data).items[0].unit_price == Decimal(amount)
    else:
        assert "decimal places" in errors_of(OrderRecord, data)["items.0.unit_price"]


def test_shipping_fee_is_checked_against_the_currency(record_factory: RecordFactory) -> None:
    errors = errors_of(OrderRecord, record_factory.order(shipping_fee="1.005"))
    assert errors == {"shipping_fee": "CNY amounts have at most 2 decimal places"}


def test_a_naive_time_is_refused_with_an_example(record_factory: RecordFactory) -> None:
    errors = errors_of(OrderRecord, record_factory.order(placed_at="2026-11-10T09:00:00"))
    assert errors == {"placed_at": "must include a time zone, e.g. 2026-11-23T10:00:00+08:00"}


def test_a_number_is_not_a_time(record_factory: RecordFactory) -> None:
    errors = errors_of(OrderRecord, record_factory.order(paid_at=1_763_000_000))
    assert "ISO 8601" in errors["paid_at"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"status": "shipped", "shipped_at": None, "delivered_at": None}, "shipped_at", "required"),
        ({"delivered_at": None}, "delivered_at", "required"),
        ({"status": "paid", "paid_at": None, "shipped_at": None, "delivered_at": None},
         "paid_at", "required"),
        ({"status": "pending_payment", "shipped_at": None, "delivered_at": None},
         "paid_at", "must be empty"),
        ({"delivered_at": "2026-11-11T14:00:00+08:00"}, "delivered_at", "before shipped_at"),
        ({"shipped_at": "2026-11-09T09:00:00+08:00"}, "shipped_at", "before placed_at"),
        ({"paid_at": "2026-11-10T08:00:00+08:00"}, "paid_at", "before placed_at"),
    ],
)  # fmt: skip
def test_the_timeline_must_agree_with_the_status(
    record_factory: RecordFactory, changes: dict[str, Any], field: str, message: str
) -> None:
    errors = errors_of(OrderRecord, record_factory.order(**changes))
    assert list(errors) == [field]
    assert message in errors[field]


def test_a_booking_needs_its_service_time(record_factory: RecordFactory) -> None:
    booking = record_factory.item("SV-YOGA", name="Yoga Class", category="booking")
    assert "service_at" in errors_of(OrderRecord, record_factory.order(items=[booking]))
    booked = record_factory.order(items=[booking], service_at="2026-11-30T19:00:00+08:00")
    assert OrderRecord.model_validate(booked).items[0].category is ItemCategory.BOOKING


def test_duplicate_skus_are_reported_at_each_copy(record_factory: RecordFactory) -> None:
    data = record_factory.order(items=[record_factory.item("A"), record_factory.item("A")])
    errors = errors_of(OrderRecord, data)
    assert set(errors) == {"items.0.sku", "items.1.sku"}
    assert "duplicate sku 'A'" in errors["items.1.sku"]


def test_an_order_needs_items(record_factory: RecordFactory) -> None:
    assert "items" in errors_of(OrderRecord, record_factory.order(items=[]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"currency": "cny"}, "currency"),
        ({"payment_method": "cheque"}, "payment_method"),
        ({"number": "SO 1"}, "number"),
        ({"customer_id": "C 1"}, "customer_id"),
        ({"promised_delivery_date": "next week"}, "promised_delivery_date"),
        ({"shiped_at": "2026-11-11T15:00:00+08:00"}, "shiped_at"),
    ],
)
def test_order_fields_are_checked(
    record_factory: RecordFactory, changes: dict[str, Any], field: str
) -> None:
    assert list(errors_of(OrderRecord, record_factory.order(**changes))) == [field]


def test_item_typos_and_bad_values_point_into_the_item(record_factory: RecordFactory) -> None:
    item = record_factory.item(unit_prcie="1.00", quantity=0, category="gadgets")
    errors = errors_of(OrderRecord, record_factory.order(items=[item]))
    assert set(errors) == {"items.0.unit_prcie", "items.0.quantity", "items.0.category"}


def test_a_customer_is_normalised(record_factory: RecordFactory) -> None:
    customer = CustomerRecord.model_validate(
        record_factory.customer(phone=" +86 (138) 0000-1001 ", email=" Alice@Example.COM ")
    )
    assert customer.phone == "+8613800001001"
    assert customer.email == "alice@example.com"
    assert customer.tier == "vip"


def test_customer_defaults(record_factory: RecordFactory) -> None:
    data = record_factory.customer()
    for optional in ("email", "tier", "locale"):
        del data[optional]
    customer = CustomerRecord.model_validate(data)
    assert (customer.email, customer.tier, customer.locale) == (None, "regular", None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "138 0000 1001"}, "phone"),
        ({"phone": "+86 138"}, "phone"),
        ({"phone": "+86 138 0000 1001 ext. 5"}, "phone"),
        ({"email": "alice(at)example.com"}, "email"),
        ({"id": "C/1001"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"tier": "gold"}, "tier"),
        ({"locale": "fr"}, "locale"),
        ({"name": "  "}, "name"),
        ({"telegram_user_id": 42}, "telegram_user_id"),
    ],
)
def test_customer_fields_are_checked(
    record_factory: RecordFactory, changes: dict[str, Any], field: str
) -> None:
    assert list(errors_of(CustomerRecord, record_factory.customer(**changes))) == [field]


def test_the_file_refuses_unknown_sections_and_duplicates(record_factory: RecordFactory) -> None:
    assert list(errors_of(ImportFile, {"order": []})) == ["order"]
    document = {
        "customers": [record_factory.customer(), record_factory.customer()],
        "orders": [record_factory.order(), record_factory.order("SO-2"), record_factory.order()],
        "stock": [stock_record(), stock_record("TS-COT-BLUE-L"), stock_record()],
    }
    errors = errors_of(ImportFile, document)
    assert set(errors) == {
        "customers.0.id",
        "customers.1.id",
        "orders.0.number",
        "orders.2.number",
        "stock.0.sku",
        "stock.2.sku",
    }
    assert errors["stock.2.sku"] == "sku TS-COT-BLUE-M appears more than once"


def test_a_stock_row_keeps_its_price_exact() -> None:
    row = StockRecord.model_validate(stock_record(unit_price="79.5", available=0))
    assert (row.sku, row.group, row.available) == ("TS-COT-BLUE-M", "TS-COT", 0)
    assert isinstance(row.unit_price, Decimal)
    assert str(row.unit_price) == "79.50"
    assert StockRecord.model_validate(stock_record(unit_price=79)).unit_price == Decimal("79.00")
    assert row.attributes == {"color": "blue", "size": "M"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit_price": 79.0}, "unit_price", "not a floating-point number"),
        ({"unit_price": "79.001"}, "unit_price", "CNY amounts have at most 2 decimal places"),
        ({"unit_price": "-1.00"}, "unit_price", "must not be negative"),
        ({"available": -1}, "available", "greater than or equal to 0"),
        ({"available": 1_000_000_001}, "available", "less than or equal to 1000000000"),
        ({"available": 2.0}, "available", "valid integer"),
        ({"available": "12"}, "available", "valid integer"),
        ({"available": True}, "available", "valid integer"),
        ({"group": ""}, "group", "at least 1 character"),
        ({"group": "G" * 65}, "group", "at most 64 characters"),
        ({"sku": ""}, "sku", "at least 1 character"),
        ({"currency": "cny"}, "currency", "should match pattern"),
        ({"names": {"chinese": "纯棉T恤"}}, "names.chinese.[key]", "should match pattern"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_stock_fields_are_checked(changes: dict[str, Any], field: str, message: str) -> None:
    errors = errors_of(StockRecord, stock_record(**changes))
    assert list(errors) == [field]
    assert message in errors[field]


def test_a_stock_row_needs_its_group_price_currency_and_count() -> None:
    row = stock_record()
    for required in ("group", "unit_price", "currency", "available"):
        del row[required]
    assert set(errors_of(StockRecord, row)) == {"group", "unit_price", "currency", "available"}


def test_the_locales_are_the_bots() -> None:
    assert set(get_args(Locale)) == set(LOCALES)


@given(st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2))
def test_any_amount_with_two_places_survives_exactly(amount: Decimal) -> None:
    for written in (format(amount, "f"), amount):
        order = OrderRecord.model_validate(
            RecordFactory().order(items=[RecordFactory().item(unit_price=written)])
        )
        assert order.items[0].unit_price == amount
        assert order.items[0].unit_price.as_tuple().exponent == -2


@given(st.integers(min_value=0, max_value=10**11))
def test_any_whole_amount_survives_exactly(amount: int) -> None:
    order = OrderRecord.model_validate(RecordFactory().order(shipping_fee=amount))
    assert order.shipping_fee == Decimal(amount)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_always_refused(amount: float) -> None:
    errors = errors_of(OrderRecord, RecordFactory().order(shipping_fee=amount))
    assert "floating-point" in errors["shipping_fee"]


_SEPARATORS = st.sampled_from(["", " ", "-", "(", ")", "  "])


@given(
    st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    st.lists(_SEPARATORS, min_size=16, max_size=16),
)
def test_phones_with_separators_normalise_to_plus_and_digits(
    digits: str, separators: list[str]
) -> None:
    written = "+" + "".join(sep + digit for sep, digit in zip(separators, digits, strict=False))
    assert normalize_import_phone(written) == "+" + digits


@given(st.from_regex(r"\+?[0-9]{1,7}|\+?0[0-9]{7,14}|\+?[1-9][0-9]{15,20}", fullmatch=True))
def test_phones_of_the_wrong_length_or_shape_are_refused(written: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        normalize_import_phone(written)


@given(st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True))
def test_a_phone_without_plus_is_refused_not_guessed(digits: str) -> None:
    with pytest.raises(ValueError, match="starting with \\+"):
        normalize_import_phone(digits)


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_import_schema(), (
        "bot/schemas/import.schema.json is stale: run `cancelbot import --schema` "
        "or bot.services.imports.schema.write_import_schema()"
    )


def full_document(record_factory: RecordFactory) -> dict[str, Any]:
    return {
        "customers": [record_factory.customer()],
        "orders": [record_factory.order()],
        "stock": [stock_record()],
    }


def test_the_schema_accepts_what_the_models_accept(record_factory: RecordFactory) -> None:
    document = full_document(record_factory)
    ImportFile.model_validate(document)
    jsonschema.validate(document, import_json_schema())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["orders"][0]["items"][0].update(unit_price=399.5),
        lambda d: d["orders"][0].update(status="lost"),
        lambda d: d["orders"][0]["items"][0].update(colour="blue"),
        lambda d: d["customers"][0].update(phone="13800001001"),
        lambda d: d.update(order=[]),
        lambda d: d["stock"][0].update(unit_price=79.5),
        lambda d: d["stock"][0].update(available=-1),
        lambda d: d["stock"][0].update(colour="blue"),
        lambda d: d["stock"][0].pop("group"),
    ],
)
def test_the_schema_refuses_what_a_merchant_gets_wrong_most(
    record_factory: RecordFactory, spoil: Any
) -> None:
    document = full_document(record_factory)
    spoil(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, import_json_schema())
    with pytest.raises(ValidationError):
        ImportFile.model_validate(document)


def test_the_schema_describes_its_fields() -> None:
    schema = import_json_schema()
    price = schema["$defs"]["OrderItemRecord"]["properties"]["unit_price"]
    assert "never a float" in price["description"]
    assert price["examples"]
    stock_price = schema["$defs"]["StockRecord"]["properties"]["unit_price"]
    assert "never a float" in stock_price["description"]
    assert schema["$defs"]["OrderRecord"]["properties"]["status"]["description"]


def test_a_promised_date_is_a_date(record_factory: RecordFactory) -> None:
    order = OrderRecord.model_validate(
        record_factory.order(
            status="shipped", delivered_at=None, promised_delivery_date="2026-11-30"
        )
    )
    assert order.promised_delivery_date == date(2026, 11, 30)
    assert order.status is OrderStatus.SHIPPED
