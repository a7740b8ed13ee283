"""Column types that keep money exact and time zone-aware on both SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, overload

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

AMOUNT_SCALE = 4
_SCALE = Decimal(1).scaleb(-AMOUNT_SCALE)


class Amount(TypeDecorator[Decimal]):
    """An exact decimal amount (4 places).

    PostgreSQL stores NUMERIC(18, 4). SQLite has no exact decimal type and would
    round-trip through float, so there the value is stored as an integer count of
    1/10,000 units: sums and comparisons in SQL stay exact.
    """

    impl = Numeric(18, AMOUNT_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, AMOUNT_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        scaled = value.quantize(_SCALE)
        if scaled != value:
            raise ValueError(f"{value} has more than {AMOUNT_SCALE} decimal places")
        if dialect.name == "sqlite":
            return int(scaled.scaleb(AMOUNT_SCALE))
        return scaled

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-AMOUNT_SCALE)
        return Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


RAW = String()
"""A type to read a column as the driver returns it (`type_coerce(column, RAW)`), for
the few queries that decode many rows themselves (`utc_from_raw`, `dict_from_raw`)."""


def utc_from_raw(value: datetime | str) -> datetime:
    """A `UtcDateTime` column read through `RAW`: SQLite gives its text, asyncpg a datetime.

    SQLite's text is naive UTC: with the offset appended it parses aware in one call,
    where `replace(tzinfo=UTC)` after parsing took five times the parse (this runs for
    each of a customer's orders when they are matched)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # text that carries its own offset
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoredTimes(Sequence[datetime]):
    """`UtcDateTime` values read through `RAW`, each decoded (`utc_from_raw`) when it is
    read: order matching reads the dates of thousands of orders and looks at a few,
    unless the customer names a period."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Sequence[datetime | str]) -> None:
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> datetime: ...
    @overload
    def __getitem__(self, index: slice) -> list[datetime]: ...
    def __getitem__(self, index: int | slice) -> datetime | list[datetime]:
        if isinstance(index, slice):
            return [utc_from_raw(value) for value in self._raw[index]]
        return utc_from_raw(self._raw[index])


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def dict_from_raw(value: dict[str, Any] | str | None) -> Mapping[str, Any]:
    """A JSON object column read through `RAW` (SQLite gives its text, asyncpg decodes
    it); an empty object or NULL gives one shared, read-only empty mapping."""
    if isinstance(value, str):
        return _EMPTY if value == "{}" else dict(json.loads(value))
    return value or _EMPTY


ROW_ID_MAX = 2**31 - 1
"""The largest primary key a row can have: INTEGER on PostgreSQL (SQLite's is 2**63 - 1).
Ids from outside (callback data, API paths) beyond it name nothing: they are "not found",
never sent to the database, which would fail on them."""
