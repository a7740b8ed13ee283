"""Money is exact, never float, never mixed across currencies."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.domain.money import CurrencyMismatch, Money, minor_units, parse_amount

two_places = st.decimals(
    min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2, allow_nan=False
)


@given(two_places)
def test_parse_round_trips_two_place_amounts(value: Decimal) -> None:
    assert parse_amount(str(value), "CNY") == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_refused(value: float) -> None:
    with pytest.raises(TypeError):
        parse_amount(value, "CNY")  # type: ignore[arg-type]


@given(two_places, two_places)
def test_addition_is_exact_and_commutative(a: Decimal, b: Decimal) -> None:
    assert Money(a, "USD") + Money(b, "USD") == Money(b, "USD") + Money(a, "USD")
    assert (Money(a, "USD") + Money(b, "USD")).amount == a + b


@given(two_places, st.integers(min_value=0, max_value=100))
def test_percent_rounds_half_up_to_the_minor_unit(a: Decimal, percent: int) -> None:
    result = Money(a, "CNY").percent(Decimal(percent))
    assert result.amount == (a * percent / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert result.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "currency", "problem"),
    [
        ("1.005", "CNY", "at most 2 decimal places"),
        ("1.5", "JPY", "at most 0 decimal places"),
        ("abc", "CNY", "not a number"),
        ("NaN", "CNY", "not a finite number"),
        ("Infinity", "USD", "not a finite number"),
    ],
)
def test_bad_amounts_say_why(text: str, currency: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_amount(text, currency)


def test_three_decimal_currencies() -> None:
    assert minor_units("KWD") == 3
    assert parse_amount("1.005", "KWD") == Decimal("1.005")


def test_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "USD") + Money(Decimal(1), "CNY")
    with pytest.raises(CurrencyMismatch):
        _ = Money(Decimal(1), "USD") < Money(Decimal(2), "EUR")


def test_money_refuses_floats_and_bad_codes() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1), "USD") * 1.5  # type: ignore[operator]
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "usd")


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(Decimal("1299"), "CNY"), "¥1,299.00"),
        (Money(Decimal("-5.5"), "USD"), "-$5.50"),
        (Money(Decimal("1200"), "JPY"), "JP¥1,200"),
        (Money(Decimal("3.25"), "CHF"), "3.25 CHF"),
    ],
)
def test_format(money: Money, shown: str) -> None:
    assert money.format() == shown


def test_plain_has_exactly_the_currency_places() -> None:
    assert Money(Decimal("7"), "CNY").plain() == "7.00"
    assert Money(Decimal("7"), "KWD").plain() == "7.000"
