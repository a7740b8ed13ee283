"""Loading customers, orders and stock into the database, all or (optionally) the good ones.

Every record is validated before anything is written: by default one bad record
stops the whole import with every error listed, so a merchant fixes the file and
runs it again. With `skip_invalid` the good records load and the bad ones are
reported. Writes are upserts (customers by their id, orders by number, items by
sku within an order, stock by sku), so running the same file twice changes nothing.

Records are written in batches, one transaction each, so a large file neither
holds the SQLite write lock for its whole length nor issues a query per row. A
record is never split across batches, so it is written whole or not at all. A
batch re-checks its records against the database inside its own transaction, so
a change made meanwhile (a new cancellation of an item the file removes) cannot
slip past the check.

The shapes accepted are `ImportFile` (JSON, and the API) and the CSV layout
described in `bot.services.imports.sources`, which carries orders only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.domain.clock import Clock
from bot.services.imports.records import (
    CustomerRecord,
    Loc,
    OrderItemRecord,
    OrderRecord,
    StockRecord,
    amount_problems,
)
from bot.services.imports.sources import (
    ImportFileError,
    ImportSource,
    RawRecord,
    RecordError,
    read_import_file,
)
from storage.models import Order, OrderItem
from storage.repositories.orders import OrderKeys
from storage.uow import UnitOfWork

__all__ = [
    "ImportFileError",
    "ImportReport",
    "ImportSource",
    "Importer",
    "RecordError",
    "read_import_file",
]

BATCH_SIZE = 500
# Merchant clocks drift; a timestamp this little ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)

R = TypeVar("R", bound=BaseModel)
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ImportReport:
    """What an import did, and every error that kept a record out."""

    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    stock_created: int = 0
    stock_updated: int = 0
    stock_unchanged: int = 0
    skipped: int = 0
    aborted: bool = False  # errors stopped the import before anything was written
    errors: list[RecordError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """One line for a terminal or a log."""
        if self.aborted:
            return f"nothing imported: {len(self.errors)} error(s) in {self.skipped} record(s)"
        return (
            f"customers: {self.customers_created} created, {self.customers_updated} updated, "
            f"{self.customers_unchanged} unchanged; orders: {self.orders_created} created, "
            f"{self.orders_updated} updated, {self.orders_unchanged} unchanged; items: "
            f"{self.items_created} created, {self.items_updated} updated, "
            f"{self.items_deleted} deleted; stock: {self.stock_created} created, "
            f"{self.stock_updated} updated, {self.stock_unchanged} unchanged; "
            f"skipped: {self.skipped}"
        )


@dataclass(slots=True)
class _Entry(Generic[R]):
    """A raw record, its validated form when it has one, and what is wrong with it."""

    raw: RawRecord
    record: R | None
    errors: list[RecordError]

    def reject(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.errors.extend(self.raw.locator.error(loc, message) for loc, message in problems)

    @property
    def is_valid(self) -> bool:
        return self.record is not None and not self.errors


_BatchWriter = Callable[[Sequence[_Entry[R]], ImportReport, datetime], Awaitable[None]]


@dataclass(slots=True)
class _Tally:
    """Records written so far, passed on to the caller's progress callback."""

    total: int
    progress: Progress | None
    done: int = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)


class _Stamped(Protocol):
    """A stored row an upsert can bring up to date: customers and stock items."""

    updated_at: datetime


class _Upsert(NamedTuple):
    """How one batch of keyed records met the rows already stored."""

    new: dict[str, dict[str, object]]  # key -> column values, `updated_at` included
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class _Known:
    """What the database holds for one batch of orders, read with a few IN queries."""

    customer_ids: Mapping[str, int]  # external id -> primary key
    orders: Mapping[str, OrderKeys]
    referenced_items: frozenset[int]  # ids of items a cancellation request names


class Importer:
    """Validate an `ImportSource` and upsert it; transport-free, so the CLI and API share it."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._batch_size = batch_size

    async def load(
        self,
        source: ImportSource,
        *,
        skip_invalid: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Validate everything, then write: nothing if any record is bad, unless `skip_invalid`.

        `progress(done, total)` is called after each batch commits, counting valid records.
        """
        now = self._clock.now()
        customers = [_validate(raw, CustomerRecord) for raw in source.customers]
        orders = [_validate(raw, OrderRecord) for raw in source.orders]
        stock = [_validate(raw, StockRecord) for raw in source.stock]
        entries: tuple[_Entry[Any], ...] = (*customers, *orders, *stock)
        _reject_duplicates(customers, "id", "customer id")
        _reject_duplicates(orders, "number", "order number")
        _reject_duplicates(stock, "sku", "sku")
        for entry in _valid(orders):
            entry.reject(_future_problems(_record(entry), now))
        if source.problems or not skip_invalid:
            # Every problem of the file in one run: those of records already found
            # invalid too, as far as they can be checked.
            incoming = frozenset(_record(entry).id for entry in _valid(customers))
            await self._check_orders(_valid(orders), incoming)
            await self._check_customers_named(
                [entry for entry in orders if entry.record is None], incoming
            )
            if source.problems or any(entry.errors for entry in entries):
                errors = [*source.problems, *_errors(entries)]
                return ImportReport(skipped=source.size, aborted=True, errors=errors)
        report = await self._write(_valid(customers), _valid(orders), _valid(stock), now, progress)
        report.errors = _errors(entries)
        report.skipped = sum(1 for entry in entries if entry.errors)
        return report

    async def _write(
        self,
        customers: Sequence[_Entry[CustomerRecord]],
        orders: Sequence[_Entry[OrderRecord]],
        stock: Sequence[_Entry[StockRecord]],
        now: datetime,
        progress: Progress | None,
    ) -> ImportReport:
        """Customers first, so that the orders' batches find every customer they name."""
        report = ImportReport()
        tally = _Tally(len(customers) + len(orders) + len(stock), progress)
        await self._in_batches(customers, self._write_customers, report, now, tally)
        await self._in_batches(orders, self._write_orders, report, now, tally)
        await self._in_batches(stock, self._write_stock, report, now, tally)
        return report

    async def _in_batches(
        self,
        entries: Sequence[_Entry[R]],
        write: _BatchWriter[R],
        report: ImportReport,
        now: datetime,
        tally: _Tally,
    ) -> None:
        """One transaction per batch; progress counts a batch once it has committed."""
        for batch in _batches(entries, self._batch_size):
            await write(batch, report, now)
            tally.add(len(batch))

    async def _check_orders(
        self, entries: Sequence[_Entry[OrderRecord]], incoming: frozenset[str]
    ) -> None:
        """The database-dependent checks, run before writing when all must be valid."""
        for batch in _batches(entries, self._batch_size):
            async with UnitOfWork(self._session_factory) as uow:
                known = await _load_known(uow, [_record(entry) for entry in batch])
                for entry in batch:
                    entry.reject(_database_problems(_record(entry), known, incoming))

    async def _check_customers_named(
        self, entries: Sequence[_Entry[OrderRecord]], incoming: frozenset[str]
    ) -> None:
        """The customer an invalid order names must exist too: one run tells of both."""
        named = [
            (entry, customer_id)
            for entry in entries
            if isinstance(entry.raw.data, dict)
            and isinstance(customer_id := entry.raw.data.get("customer_id"), str)
            and not any(error.field == "customer_id" for error in entry.errors)
        ]
        if not named:
            return
        async with UnitOfWork(self._session_factory) as uow:
            stored = await uow.customers.by_external_ids(sorted({c for _, c in named}))
        for entry, customer_id in named:
            if customer_id not in stored and customer_id not in incoming:
                entry.reject([(("customer_id",), _unknown_customer(customer_id))])

    async def _write_customers(
        self, batch: Sequence[_Entry[CustomerRecord]], report: ImportReport, now: datetime
    ) -> None:
        async with UnitOfWork(self._session_factory) as uow, uow.transaction():
            wanted = {record.id: _customer_values(record) for record in map(_record, batch)}
            upsert = _upsert(await uow.customers.by_external_ids(list(wanted)), wanted, now)
            await uow.customers.insert_many(
                [
                    {"external_id": external_id, "created_at": now, **values}
                    for external_id, values in upsert.new.items()
                ]
            )
            report.customers_created += len(upsert.new)
            report.customers_updated += upsert.updated
            report.customers_unchanged += upsert.unchanged

    async def _write_orders(
        self, batch: Sequence[_Entry[OrderRecord]], report: ImportReport, now: datetime
    ) -> None:
        async with UnitOfWork(self._session_factory) as uow, uow.transaction():
            known = await _load_known(uow, [_record(entry) for entry in batch])
            existing = await uow.orders.by_numbers(list(known.orders))
            new: list[tuple[OrderRecord, int]] = []
            for entry in batch:
                record = _record(entry)
                entry.reject(_database_problems(record, known, frozenset()))
                if entry.errors:
                    continue
                customer_id = known.customer_ids[record.customer_id]
                order = existing.get(record.number)
                if order is None:
                    new.append((record, customer_id))
                elif _update_order(order, record, customer_id, report):
                    order.updated_at = now
                    report.orders_updated += 1
                else:
                    report.orders_unchanged += 1
            await _insert_orders(uow, new, now, report)

    async def _write_stock(
        self, batch: Sequence[_Entry[StockRecord]], report: ImportReport, now: datetime
    ) -> None:
        """Every column comes from the file, `available` too: the merchant's count is the truth."""
        async with UnitOfWork(self._session_factory) as uow, uow.transaction():
            wanted = {record.sku: _stock_values(record) for record in map(_record, batch)}
            upsert = _upsert(await uow.stock.by_skus(list(wanted)), wanted, now)
            await uow.stock.insert_many(
                [{"sku": sku, **values} for sku, values in upsert.new.items()]
            )
            report.stock_created += len(upsert.new)
            report.stock_updated += upsert.updated
            report.stock_unchanged += upsert.unchanged


def _validate(raw: RawRecord, model: type[R]) -> _Entry[R]:
    errors = list(raw.problems)
    try:
        record = model.model_validate(raw.data)
    except ValidationError as exc:
        found = {tuple(error["loc"]): _message(error) for error in exc.errors(include_url=False)}
        if model is OrderRecord:  # its amounts are checked after its fields: check them now
            found |= {
                loc: problem for loc, problem in amount_problems(raw.data) if loc not in found
            }
        errors += [raw.locator.error(loc, message) for loc, message in found.items()]
        return _Entry(raw, None, errors)
    return _Entry(raw, record, errors)


def _message(error: ErrorDetails) -> str:
    """Pydantic's wording, made to read after a field name."""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]


def _reject_duplicates(entries: Sequence[_Entry[Any]], key: str, what: str) -> None:
    """Two records with one key: which the merchant meant is unknowable, so neither loads.

    The key is read from the raw record, so a duplicate is reported even when the
    other copy is invalid for another reason.
    """
    keys = [_raw_key(entry.raw, key) for entry in entries]
    counts = Counter(k for k in keys if k is not None)
    for entry, k in zip(entries, keys, strict=True):
        if k is not None and counts[k] > 1:
            entry.reject([((key,), f"{what} {k} appears more than once in this file")])


def _raw_key(raw: RawRecord, key: str) -> str | None:
    value = raw.data.get(key) if isinstance(raw.data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _future_problems(record: OrderRecord, now: datetime) -> list[tuple[Loc, str]]:
    """Things that already happened cannot be in the future (bookings and promises can)."""
    latest = now + CLOCK_SKEW
    stamps = {
        "placed_at": record.placed_at,
        "paid_at": record.paid_at,
        "shipped_at": record.shipped_at,
        "delivered_at": record.delivered_at,
    }
    return [
        ((name,), f"is in the future (now is {now:%Y-%m-%dT%H:%M}Z)")
        for name, at in stamps.items()
        if at is not None and at > latest
    ]


async def _load_known(uow: UnitOfWork, records: Sequence[OrderRecord]) -> _Known:
    customers = await uow.customers.by_external_ids(sorted({r.customer_id for r in records}))
    orders = await uow.orders.keys_by_numbers([record.number for record in records])
    removed = [
        item_id
        for record in records
        if (keys := orders.get(record.number))
        for item_id in _removed_items(keys, record).values()
    ]
    referenced = await uow.orders.referenced_item_ids(removed)
    return _Known(
        {external_id: customer.id for external_id, customer in customers.items()},
        orders,
        frozenset(referenced),
    )


def _unknown_customer(customer_id: str) -> str:
    return (
        f"unknown customer {customer_id}: not in the database and not a valid customer in this file"
    )


def _database_problems(
    record: OrderRecord, known: _Known, incoming: frozenset[str]
) -> list[tuple[Loc, str]]:
    """What the database says against this order; `incoming` are customers about to be written."""
    problems: list[tuple[Loc, str]] = []
    if record.customer_id not in known.customer_ids and record.customer_id not in incoming:
        problems.append((("customer_id",), _unknown_customer(record.customer_id)))
    keys = known.orders.get(record.number)
    if keys is None:
        return problems
    if keys.owner_external_id != record.customer_id:
        problems.append(
            (
                ("customer_id",),
                f"order {record.number} belongs to customer {keys.owner_external_id}; "
                "an order cannot move to another customer",
            )
        )
    problems += [
        (("items",), f"cannot remove item {sku!r}: a cancellation request refers to it")
        for sku, item_id in _removed_items(keys, record).items()
        if item_id in known.referenced_items
    ]
    return problems


def _removed_items(keys: OrderKeys, record: OrderRecord) -> dict[str, int]:
    """The ids, by sku, of the order's items that the record no longer lists."""
    kept = {item.sku for item in record.items}
    return {sku: item_id for sku, item_id in keys.item_ids.items() if sku not in kept}


def _customer_values(record: CustomerRecord) -> dict[str, object]:
    """The columns an import owns; the Telegram link columns are never among them."""
    return {
        "name": record.name,
        "phone": record.phone,
        "email": record.email,
        "tier": record.tier,
        "locale": record.locale,
    }


def _stock_values(record: StockRecord) -> dict[str, object]:
    return {
        "product_group": record.group,
        "name": record.name,
        "names": dict(record.names),
        "attributes": dict(record.attributes),
        "unit_price": record.unit_price,
        "currency": record.currency,
        "available": record.available,
    }


def _order_values(record: OrderRecord, customer_id: int) -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "status": record.status,
        "currency": record.currency,
        "payment_method": record.payment_method,
        "shipping_fee": record.shipping_fee,
        "placed_at": record.placed_at,
        "paid_at": record.paid_at,
        "shipped_at": record.shipped_at,
        "delivered_at": record.delivered_at,
        "service_at": record.service_at,
        "promised_delivery_date": record.promised_delivery_date,
    }


def _item_values(item: OrderItemRecord, line_no: int) -> dict[str, object]:
    return {
        "line_no": line_no,
        "name": item.name,
        "names": dict(item.names),
        "attributes": dict(item.attributes),
        "category": item.category,
        "quantity": item.quantity,
        "unit_price": item.unit_price,
        "returnable": item.returnable,
        "activated": item.activated,
    }


async def _insert_orders(
    uow: UnitOfWork, new: Sequence[tuple[OrderRecord, int]], now: datetime, report: ImportReport
) -> None:
    """New orders and their items in two statements, rather than one per row."""
    ids = await uow.orders.insert_many(
        [
            {"number": record.number, "created_at": now, "updated_at": now}
            | _order_values(record, customer_id)
            for record, customer_id in new
        ]
    )
    items = [
        {"order_id": ids[record.number], "sku": item.sku} | _item_values(item, line_no)
        for record, _ in new
        for line_no, item in enumerate(record.items, start=1)
    ]
    await uow.orders.insert_items(items)
    report.orders_created += len(new)
    report.items_created += len(items)


def _update_order(
    order: Order, record: OrderRecord, customer_id: int, report: ImportReport
) -> bool:
    """Bring an existing order and its items in line with the record; True if anything changed."""
    changed = _assign(order, _order_values(record, customer_id))
    current = {item.sku: item for item in order.items}
    for line_no, item in enumerate(record.items, start=1):
        values = _item_values(item, line_no)
        existing = current.pop(item.sku, None)
        if existing is None:
            order.items.append(OrderItem(sku=item.sku, **values))
            report.items_created += 1
            changed = True
        elif _assign(existing, values):
            report.items_updated += 1
            changed = True
    for removed in current.values():  # checked beforehand: no cancellation refers to these
        order.items.remove(removed)
        report.items_deleted += 1
        changed = True
    return changed


def _upsert(
    existing: Mapping[str, _Stamped], wanted: Mapping[str, Mapping[str, object]], now: datetime
) -> _Upsert:
    """Update in place the stored rows that differ from `wanted`; return the others to insert."""
    new: dict[str, dict[str, object]] = {}
    updated = 0
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            new[key] = {**values, "updated_at": now}
        elif _assign(row, values):
            row.updated_at = now
            updated += 1
    return _Upsert(new, updated, len(wanted) - len(new) - updated)


def _assign(target: object, values: Mapping[str, object]) -> bool:
    """Set only the attributes that differ, so an unchanged row is not written at all."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _record(entry: _Entry[R]) -> R:
    if entry.record is None:
        raise ValueError("an entry without a record has no place in a batch")
    return entry.record


def _valid(entries: Sequence[_Entry[R]]) -> list[_Entry[R]]:
    return [entry for entry in entries if entry.is_valid]


def _errors(entries: Iterable[_Entry[Any]]) -> list[RecordError]:
    return [error for entry in entries for error in entry.errors]


def _batches(entries: Sequence[_Entry[R]], size: int) -> Iterator[Sequence[_Entry[R]]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]
