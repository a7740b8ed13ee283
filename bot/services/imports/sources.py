"""Reading an import file into raw records that remember where they came from.

Nothing here judges a record: that is the models' job. This module only turns
bytes into dictionaries and keeps each one's position (`orders[12]`, `line 14`)
so an error can say exactly where to look.

A CSV file holds orders only (customers and stock come in JSON), one row per
order item, the order's columns repeated on every row of that order (rows are
grouped by `order_number`, in any order):

    order_number, customer_id, status, currency, payment_method, shipping_fee,
    placed_at, paid_at, shipped_at, delivered_at, service_at, promised_delivery_date,
    sku, item_name, item_name_zh, category, quantity, unit_price, returnable,
    activated, attributes

Required columns are order_number, customer_id, status, currency, payment_method,
placed_at, sku, item_name, category, quantity and unit_price; the rest may be left
out of the header or left empty (empty means "not given"). Any `item_name_<locale>`
column gives the item's name in that language. `attributes` is `color=blue;size=M`.
Times are ISO 8601 with a time zone, dates `2026-11-30`, amounts `1299.00`,
booleans true/false. The file is UTF-8, with or without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from bot.services.imports.records import ImportFile, Loc

ORDER_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "order_number": "number",
        "customer_id": "customer_id",
        "status": "status",
        "currency": "currency",
        "payment_method": "payment_method",
        "shipping_fee": "shipping_fee",
        "placed_at": "placed_at",
        "paid_at": "paid_at",
        "shipped_at": "shipped_at",
        "delivered_at": "delivered_at",
        "service_at": "service_at",
        "promised_delivery_date": "promised_delivery_date",
    }
)
ITEM_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "sku": "sku",
        "item_name": "name",
        "category": "category",
        "quantity": "quantity",
        "unit_price": "unit_price",
        "returnable": "returnable",
        "activated": "activated",
        "attributes": "attributes",
    }
)
REQUIRED_COLUMNS = (
    "order_number",
    "customer_id",
    "status",
    "currency",
    "payment_method",
    "placed_at",
    "sku",
    "item_name",
    "category",
    "quantity",
    "unit_price",
)
_LOCALIZED_NAME = re.compile(r"^item_name_([a-z]{2})$")
_ORDER_FIELD_COLUMNS = MappingProxyType({name: column for column, name in ORDER_COLUMNS.items()})
_ITEM_FIELD_COLUMNS = MappingProxyType({name: column for column, name in ITEM_COLUMNS.items()})
# Each top-level list, and the key that names one of its records in error messages.
_SECTIONS: Mapping[str, str] = MappingProxyType(
    {"customers": "id", "orders": "number", "stock": "sku"}
)
_EXPECTED_SECTIONS = '"customers", "orders" and/or "stock"'
_LABEL_LIMIT = 40


class ImportFileError(Exception):
    """The file as a whole cannot be read, so none of it is imported."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """One problem with one record: where it is, which field, and what is wrong."""

    location: str
    field: str
    message: str
    line: int | None = None  # set for CSV, where the place is a line rather than a path

    def __str__(self) -> str:
        if not self.field:
            return f"{self.location}: {self.message}"
        joiner = " " if self.line is not None else "."
        return f"{self.location}{joiner}{self.field}: {self.message}"


class Locator(Protocol):
    """Turns a field path inside a record into an error that points into the file."""

    def error(self, loc: Loc, message: str) -> RecordError: ...


@dataclass(frozen=True, slots=True)
class JsonLocator:
    section: str
    index: int
    label: str | None

    def error(self, loc: Loc, message: str) -> RecordError:
        place = f"{self.section}[{self.index}]"
        if self.label:
            place += f" ({self.label})"
        return RecordError(place, dotted_path(loc), message)


@dataclass(frozen=True, slots=True)
class CsvLocator:
    number: str | None
    first_line: int
    item_lines: tuple[int, ...] = ()

    def error(self, loc: Loc, message: str) -> RecordError:
        line, column = self._cell(loc)
        place = f"line {line}" + (f" (order {self.number})" if self.number else "")
        return RecordError(place, column, message, line=line)

    def _cell(self, loc: Loc) -> tuple[int, str]:
        """The CSV line and column a model field path came from."""
        if not loc:
            return self.first_line, ""
        if loc[0] != "items":
            return self.first_line, _ORDER_FIELD_COLUMNS.get(str(loc[0]), str(loc[0]))
        if len(loc) < 3 or not isinstance(loc[1], int) or loc[1] >= len(self.item_lines):
            return self.first_line, "sku"
        name = str(loc[2])
        if name == "names" and len(loc) > 3:
            return self.item_lines[loc[1]], f"item_name_{loc[3]}"
        return self.item_lines[loc[1]], _ITEM_FIELD_COLUMNS.get(name, name)


def dotted_path(loc: Loc) -> str:
    """`("items", 0, "unit_price")` → `items[0].unit_price`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as the file holds it, not yet validated."""

    data: object
    locator: Locator
    problems: tuple[RecordError, ...] = ()  # found while reading, e.g. CSV rows that disagree


@dataclass(frozen=True, slots=True)
class ImportSource:
    """Everything one import brings in, in file order: customers, orders, then stock."""

    name: str
    customers: tuple[RawRecord, ...] = ()
    orders: tuple[RawRecord, ...] = ()
    stock: tuple[RawRecord, ...] = ()
    # Problems with the file as a whole (a misspelled section): reported with every
    # record's own, and the import writes nothing, whatever --skip-invalid says.
    problems: tuple[RecordError, ...] = ()

    @property
    def size(self) -> int:
        return len(self.customers) + len(self.orders) + len(self.stock)

    @classmethod
    def from_document(cls, document: object, name: str = "<document>") -> ImportSource:
        """An `ImportFile`-shaped mapping, e.g. parsed JSON or an API request body."""
        if not isinstance(document, dict):
            raise ImportFileError(f"expected an object with {_EXPECTED_SECTIONS}")
        problems = [
            RecordError(repr(key), "", f"is not a section; expected {_EXPECTED_SECTIONS}")
            for key in sorted(set(document) - set(_SECTIONS))
        ]
        sections: dict[str, tuple[RawRecord, ...]] = {}
        for section, key in _SECTIONS.items():
            records = document.get(section, [])
            if not isinstance(records, list):
                problems.append(RecordError(f'"{section}"', "", "must be a list"))
                records = []
            sections[section] = tuple(
                RawRecord(data, JsonLocator(section, index, _label(data, key)))
                for index, data in enumerate(records)
            )
        return cls(
            name, sections["customers"], sections["orders"], sections["stock"], tuple(problems)
        )

    @classmethod
    def from_import_file(cls, file: ImportFile, name: str = "<built-in>") -> ImportSource:
        """Records built in Python go in the way a file would: checked again, in one path."""
        return cls.from_document(file.model_dump(mode="json"), name)

    @classmethod
    def from_json_text(cls, text: str, name: str = "<json>") -> ImportSource:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        return cls.from_document(document, name)

    @classmethod
    def from_csv_text(cls, text: str, name: str = "<csv>") -> ImportSource:
        return cls(name, orders=tuple(_csv_records(text)))


def read_import_file(path: Path) -> ImportSource:
    """Read a `.json` (see `ImportFile`) or `.csv` (see this module's docstring) import file."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        kind = f"{suffix} files" if suffix else "files without an extension"
        raise ImportFileError(f"cannot import {kind}; use .json or .csv")
    text = _read_text(path)
    if suffix == ".json":
        return ImportSource.from_json_text(text, path.name)
    return ImportSource.from_csv_text(text, path.name)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None


def _label(data: object, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value[:_LABEL_LIMIT] if isinstance(value, str) and value.strip() else None


@dataclass(slots=True)
class _CsvOrder:
    """The rows of one order number gathered so far."""

    first_line: int
    cells: dict[str, str]
    items: list[dict[str, object]] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)
    problems: list[RecordError] = field(default_factory=list)

    def add_row(self, number: str | None, line: int, cells: Mapping[str, str]) -> None:
        """Add one item row; its order columns must repeat the first row's exactly."""
        locator = CsvLocator(number, line)
        for column, first in self.cells.items():
            value = cells.get(column, "")
            if value != first:
                self.problems.append(
                    locator.error(
                        (ORDER_COLUMNS[column],),
                        f"{value!r} differs from {first!r} on line {self.first_line}; "
                        "order columns must be the same on every row of an order",
                    )
                )
        item, problems = _item_from_cells(cells, locator)
        self.items.append(item)
        self.item_lines.append(line)
        self.problems.extend(problems)

    @property
    def number(self) -> str | None:
        return self.cells["order_number"] or None


def _csv_records(text: str) -> list[RawRecord]:
    """Group item rows into orders by order number, keeping each row's line number."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        return []
    _check_header(header)
    orders: dict[str, _CsvOrder] = {}
    nameless: list[_CsvOrder] = []  # rows without an order number: each its own bad record
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        number = cells.get("order_number", "")
        order_cells = {column: cells.get(column, "") for column in ORDER_COLUMNS}
        if number:
            order = orders.setdefault(number, _CsvOrder(start, order_cells))
        else:
            order = _CsvOrder(start, order_cells)
            nameless.append(order)
        order.add_row(number or None, start, cells)
        if len(row) > len(header):  # the row is read anyway, so its other problems show too
            extra = f"has {len(row)} cells, the header {len(header)}"
            order.problems.append(CsvLocator(number or None, start).error((), extra))
    return [_as_record(order) for order in (*orders.values(), *nameless)]


def _check_header(header: Sequence[str]) -> None:
    """Rows cannot be read against a wrong header: every problem with it, in one error."""
    known = set(ORDER_COLUMNS) | set(ITEM_COLUMNS)
    unknown = [c for c in header if c not in known and not _LOCALIZED_NAME.fullmatch(c)]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    repeated = sorted({column for column in header if header.count(column) > 1})
    problems = [
        f"{what} column(s) {', '.join(columns)}"
        for what, columns in (("unknown", unknown), ("missing", missing), ("repeated", repeated))
        if columns
    ]
    if problems:
        raise ImportFileError("; ".join(problems))


def _item_from_cells(
    cells: Mapping[str, str], locator: CsvLocator
) -> tuple[dict[str, object], list[RecordError]]:
    item: dict[str, object] = {
        name: cells[column]
        for column, name in ITEM_COLUMNS.items()
        if cells.get(column) and column != "attributes"
    }
    names = {
        match[1]: value
        for column, value in cells.items()
        if value and (match := _LOCALIZED_NAME.fullmatch(column))
    }
    if names:
        item["names"] = names
    try:
        item["attributes"] = parse_attributes(cells.get("attributes", ""))
    except ValueError as exc:
        return item, [locator.error(("attributes",), str(exc))]
    return item, []


def parse_attributes(text: str) -> dict[str, str]:
    """`color=blue;size=M` → `{"color": "blue", "size": "M"}`; empty text → `{}`."""
    attributes: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(";"))):
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ValueError(f"{pair!r} is not key=value; write e.g. color=blue;size=M")
        if key in attributes:
            raise ValueError(f"repeats the key {key!r}")
        attributes[key] = value.strip()
    return attributes


def _as_record(order: _CsvOrder) -> RawRecord:
    data: dict[str, object] = {
        ORDER_COLUMNS[column]: value for column, value in order.cells.items() if value
    }
    data["items"] = order.items
    locator = CsvLocator(order.number, order.first_line, tuple(order.item_lines))
    return RawRecord(data, locator, tuple(order.problems))
