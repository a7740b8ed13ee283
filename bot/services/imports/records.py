"""The records a merchant sends us: customers, their orders and stock, as pydantic models.

The same models check an import file and the merchant API's order body, so they
know nothing of files, HTTP or the database. Money stays `Decimal` from the text
the merchant wrote to the column that stores it; floats are refused outright.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.services.domain.money import parse_amount
from bot.services.domain.phones import normalize_phone
from storage.enums import CustomerTier, ItemCategory, OrderStatus, PaymentMethod

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
ORDER_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,39}$"
AMOUNT_PATTERN = r"^\d+(\.\d+)?$"
# NUMERIC(18, 4) leaves 14 integer digits; stay well inside them.
AMOUNT_LIMIT = Decimal(10) ** 12
TIMEZONE_HINT = "must include a time zone, e.g. 2026-11-23T10:00:00+08:00"

_AMOUNT_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_PHONE_TEXT = re.compile(r"^\+[\d\s()-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

Locale = Literal["en", "zh"]
Loc = tuple[str | int, ...]


def exact_amount(value: object) -> Decimal:
    """A non-negative amount from a decimal string, an int or a Decimal; never from a float.

    A float has already lost the exact value the merchant meant ("0.1" is not 0.1),
    so it is refused rather than guessed at.
    """
    if isinstance(value, float):
        raise PydanticCustomError(
            "amount_float",
            'must be a decimal string such as "12.50" or a whole number, '
            "not a floating-point number (floats are inexact)",
        )
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        raise PydanticCustomError(
            "amount_text", 'must be a decimal number written like "1299.00" (no separators)'
        )
    if not amount.is_finite():
        raise PydanticCustomError("amount_text", "must be a finite number")
    if amount < 0:
        raise PydanticCustomError("amount_negative", "must not be negative")
    if amount >= AMOUNT_LIMIT:
        raise PydanticCustomError("amount_too_large", "is too large")
    return amount


def normalize_import_phone(raw: str) -> str:
    """`+86 138-0000-1234` → `+8613800001234`; a ValueError unless it is `+` and 8-15 digits.

    Unlike Telegram contacts, merchant data often holds national numbers
    ("138 0000 1234"); without the `+` we cannot tell the country, so it is refused.
    """
    text = raw.strip()
    if not text.startswith("+"):
        raise ValueError(
            "must be an international number starting with + and the country code, "
            "e.g. +86 138 0000 1234"
        )
    phone = normalize_phone(text) if _PHONE_TEXT.fullmatch(text) else None
    if phone is None:
        raise ValueError(
            "must be + and 8 to 15 digits (spaces, dashes and parentheses allowed), "
            "e.g. +1 555 010 0123"
        )
    return phone


def _phone(value: str) -> str:
    try:
        return normalize_import_phone(value)
    except ValueError as exc:
        raise PydanticCustomError("phone", str(exc)) from None


def _email(value: str) -> str:
    address = value.strip().lower()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise PydanticCustomError("email", "is not an e-mail address like name@example.com")
    return address


def _text_input(kind: str, example: str) -> BeforeValidator:
    """Refuse numbers where a date is meant: pydantic would read them as Unix timestamps."""

    def check(value: object) -> object:
        if isinstance(value, str | date):
            return value
        raise PydanticCustomError("iso_text", f"must be an ISO 8601 {kind} string, e.g. {example}")

    return BeforeValidator(check)


def _aware_utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise PydanticCustomError("naive_datetime", TIMEZONE_HINT)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+08:00 is before the first representable instant
        raise PydanticCustomError("date_range", "is out of range: give a real date") from None


Amount = Annotated[
    Decimal,
    BeforeValidator(exact_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AMOUNT_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "examples": ["1299.00", 45],
        }
    ),
]
Timestamp = Annotated[
    datetime,
    _text_input("date-time", "2026-11-23T10:00:00+08:00"),
    AfterValidator(_aware_utc),
    Field(examples=["2026-11-23T10:00:00+08:00"]),
]
CalendarDate = Annotated[date, _text_input("date", "2026-11-30"), Field(examples=["2026-11-30"])]
CustomerId = Annotated[
    str,
    StringConstraints(pattern=CUSTOMER_ID_PATTERN),
    Field(description="The merchant's own customer id.", examples=["C1001"]),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LocaleKey = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=32)]
AttributeValue = Annotated[str, StringConstraints(max_length=100)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# The column is a 32-bit INTEGER; staying far below its limit leaves room for releases.
AVAILABLE_LIMIT = 1_000_000_000


class _Record(BaseModel):
    # Unknown keys are refused everywhere, so a typo ("unit_prcie") is an error, not a loss.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerRecord(_Record):
    """One of the merchant's customers; the Telegram link is ours and never imported."""

    id: CustomerId
    name: Name = Field(examples=["Alice Johnson", "王芳"])
    phone: Annotated[str, AfterValidator(_phone)] = Field(
        description="International number; spaces, dashes and parentheses are dropped.",
        examples=["+86 138 0000 1234", "+1 (555) 010-0123"],
        json_schema_extra={"pattern": _PHONE_TEXT.pattern},
    )
    email: Annotated[str, AfterValidator(_email)] | None = Field(
        default=None,
        description="Stored lower-cased.",
        examples=["alice@example.com"],
        json_schema_extra={"pattern": _EMAIL.pattern},
    )
    tier: CustomerTier = Field(default=CustomerTier.REGULAR, description="VIPs get gentler rules.")
    locale: Locale | None = Field(
        default=None, description="The language to write to them in, when the merchant knows it."
    )


class OrderItemRecord(_Record):
    """One line of an order: a product, how many, and at what price each."""

    sku: Sku = Field(
        description="Unique within the order; items are matched by it on re-import.",
        examples=["BT-HP-BLU"],
    )
    name: Name = Field(examples=["Bluetooth Headphones"])
    names: dict[LocaleKey, Name] = Field(
        default_factory=dict,
        description="The name in other languages, by locale.",
        examples=[{"zh": "蓝牙耳机"}],
    )
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict,
        description="Variant details shown to the customer.",
        examples=[{"color": "blue", "size": "M"}],
    )
    category: ItemCategory = Field(description="Decides which cancellation rules apply.")
    quantity: int = Field(ge=1, le=10_000, examples=[1])
    unit_price: Amount = Field(
        description="Price of one unit in the order's currency, as a decimal string or integer; "
        "never a float. At most the currency's minor units (2 for CNY and USD)."
    )
    returnable: bool = Field(
        default=True, description="False for perishable or personalised goods."
    )
    activated: bool = Field(
        default=False, description="Digital goods: the code or licence has been used."
    )


class OrderRecord(_Record):
    """An order as the merchant's system sees it now; re-sending it updates ours."""

    number: Annotated[str, StringConstraints(pattern=ORDER_NUMBER_PATTERN)] = Field(
        description="The order number the customer sees.", examples=["SO-1002345"]
    )
    customer_id: CustomerId
    status: OrderStatus = Field(
        description="shipped needs shipped_at, delivered needs delivered_at, paid needs paid_at."
    )
    currency: Currency = Field(description="ISO 4217 code, upper case.", examples=["CNY", "USD"])
    payment_method: PaymentMethod = Field(description="Refunds go back the same way.")
    shipping_fee: Amount = Field(default=Decimal(0), description="In the order's currency.")
    placed_at: Timestamp = Field(description="When the customer placed the order.")
    paid_at: Timestamp | None = Field(default=None, description="Empty while unpaid.")
    shipped_at: Timestamp | None = Field(default=None, description="Not before placed_at.")
    delivered_at: Timestamp | None = Field(default=None, description="Not before shipped_at.")
    service_at: Timestamp | None = Field(
        default=None, description="When a booked service takes place; required with bookings."
    )
    promised_delivery_date: CalendarDate | None = Field(
        default=None, description="The delivery date the customer was promised."
    )
    items: list[OrderItemRecord] = Field(
        min_length=1, description="At least one; skus unique within the order."
    )

    @model_validator(mode="after")
    def _consistent(self) -> OrderRecord:
        problems = [*self._amount_problems(), *self._timeline_problems()]
        problems += [
            (("items", index, "sku"), f"duplicate sku {self.items[index].sku!r} in this order")
            for index in duplicate_positions([item.sku for item in self.items])
        ]
        if any(item.category is ItemCategory.BOOKING for item in self.items) and (
            self.service_at is None
        ):
            problems.append((("service_at",), "is required when the order has a booking"))
        if problems:
            raise record_problems(type(self).__name__, problems)
        return self

    def _amount_problems(self) -> list[tuple[Loc, str]]:
        """Check amounts against the currency, and store them at its exact scale."""
        problems: list[tuple[Loc, str]] = []
        try:
            self.shipping_fee = parse_amount(self.shipping_fee, self.currency)
        except ValueError as exc:
            problems.append((("shipping_fee",), str(exc)))
        for index, item in enumerate(self.items):
            try:
                item.unit_price = parse_amount(item.unit_price, self.currency)
            except ValueError as exc:
                problems.append((("items", index, "unit_price"), str(exc)))
        return problems

    def _timeline_problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        if self.status is OrderStatus.PENDING_PAYMENT and self.paid_at is not None:
            problems.append((("paid_at",), "must be empty while the order awaits payment"))
        if self.status is OrderStatus.PAID and self.paid_at is None:
            problems.append((("paid_at",), "is required for a paid order"))
        if self.status is OrderStatus.SHIPPED and self.shipped_at is None:
            problems.append((("shipped_at",), "is required for a shipped order"))
        if self.status is OrderStatus.DELIVERED and self.delivered_at is None:
            problems.append((("delivered_at",), "is required for a delivered order"))
        steps = [
            ("placed_at", self.placed_at),
            ("shipped_at", self.shipped_at),
            ("delivered_at", self.delivered_at),
        ]
        known = [(name, at) for name, at in steps if at is not None]
        for (before, earlier), (after, later) in pairwise(known):
            if later < earlier:
                problems.append(((after,), f"is before {before}"))
        if self.paid_at is not None and self.paid_at < self.placed_at:
            problems.append((("paid_at",), "is before placed_at"))
        return problems


def amount_problems(data: object) -> list[tuple[Loc, str]]:
    """The amounts of an order record that break its currency's decimal places, read from
    the raw record: so they are reported even when another field makes the record fail
    validation before `OrderRecord` could check them."""
    if not isinstance(data, dict) or not isinstance(currency := data.get("currency"), str):
        return []
    amounts: list[tuple[Loc, object]] = [(("shipping_fee",), data.get("shipping_fee"))]
    items = data.get("items")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            amounts.append((("items", index, "unit_price"), item.get("unit_price")))
    problems: list[tuple[Loc, str]] = []
    for loc, value in amounts:
        try:
            parse_amount(exact_amount(value), currency)
        except PydanticCustomError:
            continue  # not an amount at all: the field's own error says so
        except ValueError as exc:
            problems.append((loc, str(exc)))
    return problems


class StockRecord(_Record):
    """One sellable variant and how many units are free; re-sending it replaces our copy.

    Variants of one product share a `group`, which is how an exchange finds another
    size or colour of what the customer bought.
    """

    sku: Sku = Field(
        description="The variant's sku, as order items name it; unique in the file.",
        examples=["TS-COT-BLUE-M"],
    )
    group: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The product this variant belongs to; its sizes and colours share it.",
        examples=["TS-COT"],
    )
    name: Name = Field(examples=["Cotton T-Shirt"])
    names: dict[LocaleKey, Name] = Field(
        default_factory=dict,
        description="The name in other languages, by locale.",
        examples=[{"zh": "纯棉T恤"}],
    )
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict,
        description="What sets this variant apart from the others in its group.",
        examples=[{"color": "blue", "size": "M"}],
    )
    unit_price: Amount = Field(
        description="Price of one unit, as a decimal string or integer; never a float. "
        "Only a variant at exactly the price paid is offered in exchange."
    )
    currency: Currency = Field(description="ISO 4217 code, upper case.", examples=["CNY"])
    available: StrictInt = Field(
        ge=0,
        le=AVAILABLE_LIMIT,
        description="Units free to sell now; 0 when sold out.",
        examples=[12],
    )

    @model_validator(mode="after")
    def _priced_in_currency(self) -> StockRecord:
        try:
            self.unit_price = parse_amount(self.unit_price, self.currency)
        except ValueError as exc:
            raise record_problems(type(self).__name__, [(("unit_price",), str(exc))]) from None
        return self


class ImportFile(_Record):
    """A whole import: customers, orders that may refer to them or to known ones, and stock."""

    model_config = ConfigDict(
        title="cancelbot import file",
        json_schema_extra={
            "description": "Customers, orders and stock to create or update. Amounts are "
            "decimal strings, times are ISO 8601 with a time zone. Unknown keys are errors."
        },
    )

    customers: list[CustomerRecord] = Field(default_factory=list)
    orders: list[OrderRecord] = Field(default_factory=list)
    stock: list[StockRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ImportFile:
        ids = [customer.id for customer in self.customers]
        numbers = [order.number for order in self.orders]
        skus = [item.sku for item in self.stock]
        problems: list[tuple[Loc, str]] = [
            (("customers", index, "id"), f"customer id {ids[index]} appears more than once")
            for index in duplicate_positions(ids)
        ]
        problems += [
            (("orders", index, "number"), f"order number {numbers[index]} appears more than once")
            for index in duplicate_positions(numbers)
        ]
        problems += [
            (("stock", index, "sku"), f"sku {skus[index]} appears more than once")
            for index in duplicate_positions(skus)
        ]
        if problems:
            raise record_problems(type(self).__name__, problems)
        return self


def duplicate_positions(keys: Sequence[Hashable]) -> list[int]:
    """Positions of every key that occurs more than once (all occurrences, not just later ones).

    Which of two records with the same key the merchant meant is unknowable, so neither
    is trusted.
    """
    counts = Counter(keys)
    return [index for index, key in enumerate(keys) if counts[key] > 1]


def record_problems(title: str, problems: Sequence[tuple[Loc, str]]) -> ValidationError:
    """Cross-field problems as a ValidationError that points at each offending field.

    Raised from a model validator, pydantic keeps these locations and prefixes the
    outer ones, so `orders[3].items[0].unit_price` reads as precisely as a type error.
    """
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("record", message), loc=loc, input=None)
            for loc, message in problems
        ],
    )
