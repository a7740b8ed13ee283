"""Money: a Decimal amount with its currency, exact and never mixed across currencies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units for currencies that do not use two decimals.
_MINOR_UNITS = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
}  # fmt: skip
_SYMBOLS = {
    "CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "JP¥", "HKD": "HK$",
    "SGD": "S$", "TWD": "NT$", "AUD": "A$", "CAD": "CA$", "KRW": "₩",
}  # fmt: skip


class CurrencyMismatch(ValueError):
    pass


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def parse_amount(text: str | int | Decimal, currency: str) -> Decimal:
    """Read an amount exactly; refuse floats, non-numbers and more places than the currency has."""
    if isinstance(text, float):
        raise TypeError("amounts must not be floats")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if value != value.quantize(quantum(currency), rounding=ROUND_HALF_UP):
        raise ValueError(f"{currency} amounts have at most {minor_units(currency)} decimal places")
    return value.quantize(quantum(currency))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 code")
        object.__setattr__(
            self, "amount", self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP)
        )

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply money by int or Decimal, not float")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def percent(self, percent: Decimal) -> Money:
        """`percent` % of this amount, rounded half-up to the currency's minor unit."""
        return Money(self.amount * percent / Decimal(100), self.currency)

    def format(self) -> str:
        """`¥1,299.00`, or `1,299.00 XYZ` for a currency without a known symbol."""
        places = minor_units(self.currency)
        number = f"{abs(self.amount):,.{places}f}"
        sign = "-" if self.amount < 0 else ""
        symbol = _SYMBOLS.get(self.currency)
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {self.currency}"

    def plain(self) -> str:
        """The amount as a string with exactly the currency's places, for JSON."""
        return f"{self.amount:.{minor_units(self.currency)}f}"

    def __str__(self) -> str:
        return self.format()
