"""The importer: validate everything, then upsert in batches; all or (on request) the good ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.domain.clock import FixedClock
from bot.services.imports.importer import (
    Importer,
    ImportFileError,
    ImportReport,
    ImportSource,
    RecordError,
    read_import_file,
)
from storage.enums import (
    CustomerTier,
    ItemCategory,
    LinkMethod,
    OrderStatus,
    ReasonCode,
    RequestKind,
    RequestStatus,
)
from storage.models import (
    CancellationItem,
    CancellationRequest,
    Customer,
    Order,
    StockItem,
    TelegramUser,
)
from storage.uow import UnitOfWork
from tests.services.conftest import IMPORT_NOW, RecordFactory, row_counts
from tests.services.test_import_records import stock_record

CSV_HEADER = (
    "order_number,customer_id,status,currency,payment_method,shipping_fee,placed_at,paid_at,"
    "shipped_at,delivered_at,service_at,promised_delivery_date,sku,item_name,item_name_zh,"
    "category,quantity,unit_price,returnable,activated,attributes"
)
PLACED = "2026-11-20T10:00:00+08:00"
PAID = "2026-11-20T10:05:00+08:00"


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def csv_source(*rows: str, header: str = CSV_HEADER) -> ImportSource:
    return ImportSource.from_csv_text("\n".join((header, *rows)) + "\n", "orders.csv")


async def load_order(
    session_factory: async_sessionmaker[AsyncSession], number: str
) -> Order | None:
    async with UnitOfWork(session_factory) as uow:
        return await uow.orders.by_number(number)


async def load_customer(
    session_factory: async_sessionmaker[AsyncSession], external_id: str
) -> Customer | None:
    async with UnitOfWork(session_factory) as uow:
        return await uow.customers.by_external_id(external_id)


def messages(report: ImportReport) -> list[str]:
    return [str(error) for error in report.errors]


def stock_rows() -> list[dict[str, Any]]:
    """Two T-shirt sizes, one sold out, and the blue headphones."""
    return [
        stock_record("TS-COT-BLUE-M"),
        stock_record("TS-COT-BLUE-L", available=0),
        stock_record(
            "BT-HP-BLUE",
            group="BT-HP",
            name="Bluetooth Headphones",
            names={"zh": "蓝牙耳机"},
            attributes={"color": "blue"},
            unit_price="399",
            available=5,
        ),
    ]


async def load_stock(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, StockItem]:
    async with session_factory() as session:
        return {item.sku: item for item in await session.scalars(select(StockItem))}


def stock_levels(stock: dict[str, StockItem]) -> dict[str, tuple[str, Decimal, int]]:
    """Each variant's group, price and units: what an import decides."""
    return {sku: (i.product_group, i.unit_price, i.available) for sku, i in stock.items()}


async def test_a_good_json_file_loads(
    tmp_path: Path,
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
) -> None:
    path = write_json(tmp_path / "shop.json", record_factory.document())

    report = await importer.load(read_import_file(path))

    assert report.ok, messages(report)
    assert (report.customers_created, report.orders_created, report.items_created) == (2, 4, 8)
    assert await row_counts(import_db) == {"customers": 2, "orders": 4, "order_items": 8}
    customer = await load_customer(import_db, "C1001")
    assert customer is not None
    assert (customer.phone, customer.email, customer.tier, customer.locale) == (
        "+8613800001001",
        "alice@example.com",
        CustomerTier.VIP,
        "en",
    )
    order = await load_order(import_db, "SO-1000000")
    assert order is not None
    assert order.customer_id == customer.id
    assert order.shipping_fee == Decimal("12.00")
    assert order.placed_at == datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
    assert order.total == Decimal("810.00")
    assert [(i.line_no, i.sku, i.category) for i in order.items] == [
        (1, "BT-HP-BLUE", ItemCategory.ELECTRONICS),
        (2, "EK-17", ItemCategory.HOME),
    ]
    assert order.items[0].display_name("zh") == "蓝牙耳机"
    assert order.items[0].attributes == {"color": "blue"}


async def test_importing_the_same_file_again_changes_nothing(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    source = ImportSource.from_document(record_factory.document())
    await importer.load(source)
    before = await load_order(import_db, "SO-1000000")

    again = await importer.load(source)

    assert again.ok
    assert (again.customers_created, again.customers_updated, again.customers_unchanged) == (
        0,
        0,
        2,
    )
    assert (again.orders_created, again.orders_updated, again.orders_unchanged) == (0, 0, 4)
    assert (again.items_created, again.items_updated, again.items_deleted) == (0, 0, 0)
    assert await row_counts(import_db) == {"customers": 2, "orders": 4, "order_items": 8}
    after = await load_order(import_db, "SO-1000000")
    assert before is not None
    assert after is not None
    assert after.updated_at == before.updated_at


async def test_a_changed_file_updates_rows_in_place(
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    import_clock: FixedClock,
    record_factory: RecordFactory,
) -> None:
    document = record_factory.document()
    await importer.load(ImportSource.from_document(document))
    first_order = await load_order(import_db, "SO-1000000")
    document["customers"][0]["name"] = "Alice J. Johnson"
    order = document["orders"][0]
    order["status"] = "returned"
    order["items"][0].update(unit_price="379.50", quantity=2)
    order["items"].append(record_factory.item("MUG-TJ", name="<b>Tom & Jerry</b> Mug"))
    import_clock.advance(timedelta(hours=1))

    report = await importer.load(ImportSource.from_document(document))

    assert (report.customers_updated, report.customers_unchanged) == (1, 1)
    assert (report.orders_updated, report.orders_unchanged) == (1, 3)
    assert (report.items_created, report.items_updated, report.items_deleted) == (1, 1, 0)
    updated = await load_order(import_db, "SO-1000000")
    assert updated is not None
    assert first_order is not None
    assert updated.id == first_order.id
    assert updated.status is OrderStatus.RETURNED
    assert updated.updated_at == IMPORT_NOW + timedelta(hours=1)
    assert [(i.sku, i.quantity, i.unit_price) for i in updated.items] == [
        ("BT-HP-BLUE", 2, Decimal("379.50")),
        ("EK-17", 1, Decimal("399.00")),
        ("MUG-TJ", 1, Decimal("399.00")),
    ]
    customer = await load_customer(import_db, "C1001")
    assert customer is not None
    assert customer.name == "Alice J. Johnson"


async def test_an_update_never_touches_the_telegram_link(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    document = record_factory.document(customers=1, orders_per_customer=1)
    await importer.load(ImportSource.from_document(document))
    async with UnitOfWork(import_db) as uow, uow.transaction():
        uow.telegram_users.add(TelegramUser(id=7_000_000_001, first_name="Alice"))
        await uow.flush()
        customer = await uow.customers.by_external_id("C1001")
        assert customer is not None
        customer.telegram_user_id = 7_000_000_001
        customer.linked_at = IMPORT_NOW
        customer.linked_via = LinkMethod.CONTACT
    document["customers"][0].update(name="Alice Renamed", phone="+86 138 0000 9999")

    report = await importer.load(ImportSource.from_document(document))

    assert report.customers_updated == 1
    linked = await load_customer(import_db, "C1001")
    assert linked is not None
    assert (linked.name, linked.phone) == ("Alice Renamed", "+8613800009999")
    assert (linked.telegram_user_id, linked.linked_at, linked.linked_via) == (
        7_000_000_001,
        IMPORT_NOW,
        LinkMethod.CONTACT,
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("orders.2.items.0.unit_price", "12.345",
         "orders[2] (SO-1000100).items[0].unit_price: CNY amounts have at most 2 decimal places"),
        ("orders.2.items.1.unit_price", 12.5,
         "orders[2] (SO-1000100).items[1].unit_price: must be a decimal string"),
        ("orders.1.placed_at", "2026-11-10T09:00:00",
         "orders[1] (SO-1000001).placed_at: must include a time zone, "
         "e.g. 2026-11-23T10:00:00+08:00"),
        ("orders.0.customer_id", "C9999",
         "orders[0] (SO-1000000).customer_id: unknown customer C9999"),
        ("orders.3.items.1.sku", "BT-HP-BLUE",
         "orders[3] (SO-1000101).items[1].sku: duplicate sku 'BT-HP-BLUE'"),
        ("orders.0.status", "lost", "orders[0] (SO-1000000).status: Input should be"),
        ("orders.0.items.0.unit_prcie", "1.00",
         "orders[0] (SO-1000000).items[0].unit_prcie: is not a known field"),
        ("customers.1.phone", "138 0000 1002",
         "customers[1] (C1002).phone: must be an international number"),
        ("orders.1.number", "SO-1000000",
         "orders[1] (SO-1000000).number: order number SO-1000000 appears more than once"),
        ("orders.0.delivered_at", "2026-11-24T10:00:00+08:00",
         "orders[0] (SO-1000000).delivered_at: is in the future"),
    ],
)  # fmt: skip
async def test_one_bad_record_keeps_the_whole_file_out(
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
    path: str,
    value: object,
    expected: str,
) -> None:
    document = record_factory.document()
    await importer.load(ImportSource.from_document(document))
    counts = await row_counts(import_db)
    document["customers"][0]["name"] = "Should Not Be Written"
    document["orders"].append(record_factory.order("SO-1009999"))
    spoiled = record_factory.spoiled(document, path, value)

    report = await importer.load(ImportSource.from_document(spoiled))

    assert report.aborted
    assert report.skipped == len(spoiled["customers"]) + len(spoiled["orders"])
    assert any(message.startswith(expected) for message in messages(report)), messages(report)
    assert await row_counts(import_db) == counts
    assert await load_order(import_db, "SO-1009999") is None
    customer = await load_customer(import_db, "C1001")
    assert customer is not None
    assert customer.name == "Alice Johnson"


async def test_every_error_in_the_file_is_reported_at_once(
    importer: Importer, record_factory: RecordFactory
) -> None:
    document = record_factory.document()
    document["customers"][0]["email"] = "not-an-address"
    document["orders"][1]["currency"] = "usd"
    document["orders"][3]["items"][0]["quantity"] = 0

    report = await importer.load(ImportSource.from_document(document))

    assert messages(report) == [
        "customers[0] (C1001).email: is not an e-mail address like name@example.com",
        "orders[0] (SO-1000000).customer_id: unknown customer C1001: not in the database "
        "and not a valid customer in this file",
        "orders[1] (SO-1000001).currency: String should match pattern '^[A-Z]{3}$'",
        # Checked although the record already failed: one run tells of both.
        "orders[1] (SO-1000001).customer_id: unknown customer C1001: not in the database "
        "and not a valid customer in this file",
        "orders[3] (SO-1000101).items[0].quantity: Input should be greater than or equal to 1",
    ]
    assert report.errors[0] == RecordError(
        "customers[0] (C1001)", "email", "is not an e-mail address like name@example.com"
    )


async def test_skip_invalid_loads_the_good_records_and_reports_the_rest(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    document = record_factory.document(customers=3)
    document["customers"][1]["phone"] = "not a phone"  # C1002: bad, and so are its orders
    document["orders"][0]["items"][0]["unit_price"] = "1.001"  # SO-1000000 of C1001

    report = await importer.load(ImportSource.from_document(document), skip_invalid=True)

    assert not report.aborted
    assert report.skipped == 4
    assert (report.customers_created, report.orders_created) == (2, 3)
    assert messages(report)[0].startswith("customers[1] (C1002).phone:")
    assert messages(report)[1].startswith("orders[0] (SO-1000000).items[0].unit_price:")
    assert all("unknown customer C1002" in m for m in messages(report)[2:]), messages(report)
    assert await row_counts(import_db) == {"customers": 2, "orders": 3, "order_items": 6}
    assert await load_customer(import_db, "C1002") is None
    assert await load_order(import_db, "SO-1000000") is None
    assert await load_order(import_db, "SO-1000001") is not None


async def test_an_order_cannot_move_to_another_customer(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    document = record_factory.document()
    await importer.load(ImportSource.from_document(document))
    document["orders"][0]["customer_id"] = "C1002"

    report = await importer.load(ImportSource.from_document(document))

    assert messages(report) == [
        "orders[0] (SO-1000000).customer_id: order SO-1000000 belongs to customer C1001; "
        "an order cannot move to another customer"
    ]
    order = await load_order(import_db, "SO-1000000")
    customer = await load_customer(import_db, "C1001")
    assert order is not None
    assert customer is not None
    assert order.customer_id == customer.id


async def test_items_left_out_of_a_reimport_are_deleted(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    document = record_factory.document()
    await importer.load(ImportSource.from_document(document))
    del document["orders"][0]["items"][0]

    report = await importer.load(ImportSource.from_document(document))

    assert (report.items_deleted, report.orders_updated) == (1, 1)
    order = await load_order(import_db, "SO-1000000")
    assert order is not None
    assert [(item.line_no, item.sku) for item in order.items] == [(1, "EK-17")]
    assert (await row_counts(import_db))["order_items"] == 7


async def cancel_item(
    session_factory: async_sessionmaker[AsyncSession], number: str, sku: str
) -> None:
    """A pending cancellation request naming one item of the order."""
    async with UnitOfWork(session_factory) as uow, uow.transaction():
        order = await uow.orders.by_number(number)
        assert order is not None
        request = CancellationRequest(
            order_id=order.id,
            customer_id=order.customer_id,
            kind=RequestKind.RETURN,
            status=RequestStatus.PENDING_REVIEW,
            reason_code=ReasonCode.CHANGED_MIND,
            currency=order.currency,
            idempotency_key=f"test-{number}-{sku}",
            created_at=IMPORT_NOW,
            updated_at=IMPORT_NOW,
        )
        item = next(item for item in order.items if item.sku == sku)
        request.items.append(CancellationItem(order_item_id=item.id, quantity=1))
        uow.session.add(request)


@pytest.mark.parametrize("skip_invalid", [False, True])
async def test_an_item_named_by_a_cancellation_cannot_be_removed(
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
    skip_invalid: bool,
) -> None:
    document = record_factory.document()
    await importer.load(ImportSource.from_document(document))
    await cancel_item(import_db, "SO-1000000", "EK-17")
    document["orders"][0]["items"] = document["orders"][0]["items"][:1]
    document["orders"][1]["status"] = "returned"

    report = await importer.load(ImportSource.from_document(document), skip_invalid=skip_invalid)

    assert messages(report) == [
        "orders[0] (SO-1000000).items: cannot remove item 'EK-17': "
        "a cancellation request refers to it"
    ]
    kept = await load_order(import_db, "SO-1000000")
    assert kept is not None
    assert [item.sku for item in kept.items] == ["BT-HP-BLUE", "EK-17"]
    other = await load_order(import_db, "SO-1000001")
    assert other is not None
    assert other.status is (OrderStatus.RETURNED if skip_invalid else OrderStatus.DELIVERED)


async def test_progress_is_reported_as_batches_commit(
    import_db: async_sessionmaker[AsyncSession],
    import_clock: FixedClock,
    record_factory: RecordFactory,
) -> None:
    calls: list[tuple[int, int]] = []
    importer = Importer(import_db, import_clock, batch_size=3)

    report = await importer.load(
        ImportSource.from_document(record_factory.document(customers=2, orders_per_customer=2)),
        progress=lambda done, total: calls.append((done, total)),
    )

    assert report.ok
    assert calls == [(2, 6), (5, 6), (6, 6)]
    assert await row_counts(import_db) == {"customers": 2, "orders": 4, "order_items": 8}


async def test_stock_batches_count_towards_progress_too(
    import_db: async_sessionmaker[AsyncSession], import_clock: FixedClock
) -> None:
    calls: list[tuple[int, int]] = []
    importer = Importer(import_db, import_clock, batch_size=2)
    document = {"stock": stock_rows()}

    await importer.load(
        ImportSource.from_document(document),
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(2, 3), (3, 3)]


async def test_a_large_file_costs_a_few_queries_per_batch_not_per_row(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    document = record_factory.document(customers=60, orders_per_customer=20)
    source = ImportSource.from_document(document)
    statements: list[str] = []
    engine = import_db.kw["bind"]
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )

    created = await importer.load(source)
    queries_to_create = len(statements)
    statements.clear()
    again = await importer.load(source)

    assert (created.orders_created, again.orders_unchanged) == (1200, 1200)
    assert queries_to_create < 40, queries_to_create
    assert len(statements) < 40, len(statements)


async def test_stock_loads_from_a_json_file_and_a_reimport_changes_nothing(
    tmp_path: Path, importer: Importer, import_db: async_sessionmaker[AsyncSession]
) -> None:
    source = read_import_file(write_json(tmp_path / "stock.json", {"stock": stock_rows()}))

    first = await importer.load(source)
    again = await importer.load(source)

    assert first.ok, messages(first)
    assert (first.stock_created, first.stock_updated, first.stock_unchanged) == (3, 0, 0)
    assert (again.stock_created, again.stock_updated, again.stock_unchanged) == (0, 0, 3)
    stock = await load_stock(import_db)
    assert stock_levels(stock) == {
        "TS-COT-BLUE-M": ("TS-COT", Decimal("79.00"), 12),
        "TS-COT-BLUE-L": ("TS-COT", Decimal("79.00"), 0),
        "BT-HP-BLUE": ("BT-HP", Decimal("399.00"), 5),
    }
    headphones = stock["BT-HP-BLUE"]
    assert (headphones.name, headphones.names, headphones.attributes, headphones.currency) == (
        "Bluetooth Headphones",
        {"zh": "蓝牙耳机"},
        {"color": "blue"},
        "CNY",
    )
    assert all(item.updated_at == IMPORT_NOW for item in stock.values())
    assert "stock: 0 created, 0 updated, 3 unchanged; skipped: 0" in again.summary()


async def test_a_changed_stock_row_is_updated_in_place(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], import_clock: FixedClock
) -> None:
    rows = stock_rows()
    await importer.load(ImportSource.from_document({"stock": rows}))
    rows[1].update(available=7, unit_price="69.00", group="TS-COT-SALE", names={})
    import_clock.advance(timedelta(hours=1))

    report = await importer.load(ImportSource.from_document({"stock": rows}))

    assert (report.stock_created, report.stock_updated, report.stock_unchanged) == (0, 1, 2)
    stock = await load_stock(import_db)
    changed = stock["TS-COT-BLUE-L"]
    assert (changed.product_group, changed.unit_price, changed.available, changed.names) == (
        "TS-COT-SALE",
        Decimal("69.00"),
        7,
        {},
    )
    assert changed.updated_at == IMPORT_NOW + timedelta(hours=1)
    assert stock["TS-COT-BLUE-M"].updated_at == IMPORT_NOW


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("stock.1.unit_price", 79.0,
         "stock[1] (TS-COT-BLUE-L).unit_price: must be a decimal string"),
        ("stock.2.available", -1,
         "stock[2] (BT-HP-BLUE).available: Input should be greater than or equal to 0"),
        ("stock.2.sku", "TS-COT-BLUE-M",
         "stock[2] (TS-COT-BLUE-M).sku: sku TS-COT-BLUE-M appears more than once in this file"),
        ("stock.0.colour", "blue", "stock[0] (TS-COT-BLUE-M).colour: is not a known field"),
        ("stock.0.unit_price", "79.001",
         "stock[0] (TS-COT-BLUE-M).unit_price: CNY amounts have at most 2 decimal places"),
    ],
)  # fmt: skip
async def test_one_bad_stock_row_keeps_the_whole_file_out(
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
    path: str,
    value: object,
    expected: str,
) -> None:
    document = record_factory.document() | {"stock": stock_rows()}
    await importer.load(ImportSource.from_document(document))
    counts, levels = await row_counts(import_db), stock_levels(await load_stock(import_db))
    document["customers"][0]["name"] = "Should Not Be Written"
    document["stock"][0]["available"] = 99
    document["stock"].append(stock_record("TS-COT-BLUE-S"))
    spoiled = record_factory.spoiled(document, path, value)

    report = await importer.load(ImportSource.from_document(spoiled))

    assert report.aborted
    assert report.skipped == len(spoiled["customers"]) + len(spoiled["orders"]) + 4
    assert any(message.startswith(expected) for message in messages(report)), messages(report)
    assert await row_counts(import_db) == counts
    assert stock_levels(await load_stock(import_db)) == levels
    customer = await load_customer(import_db, "C1001")
    assert customer is not None
    assert customer.name == "Alice Johnson"


async def test_skip_invalid_loads_the_good_stock_rows(
    importer: Importer, import_db: async_sessionmaker[AsyncSession]
) -> None:
    rows = stock_rows()
    rows[0]["available"] = -3
    rows.append(stock_record("TS-COT-BLUE-L", available=4))  # a second TS-COT-BLUE-L

    report = await importer.load(ImportSource.from_document({"stock": rows}), skip_invalid=True)

    assert messages(report) == [
        "stock[0] (TS-COT-BLUE-M).available: Input should be greater than or equal to 0",
        "stock[1] (TS-COT-BLUE-L).sku: sku TS-COT-BLUE-L appears more than once in this file",
        "stock[3] (TS-COT-BLUE-L).sku: sku TS-COT-BLUE-L appears more than once in this file",
    ]
    assert (report.stock_created, report.skipped) == (1, 3)
    assert list(await load_stock(import_db)) == ["BT-HP-BLUE"]


async def test_a_large_stock_list_costs_a_few_queries_per_batch(
    importer: Importer, import_db: async_sessionmaker[AsyncSession]
) -> None:
    rows = [stock_record(f"TS-COT-{n:04d}") for n in range(1200)]
    source = ImportSource.from_document({"stock": rows})
    statements: list[str] = []
    engine = import_db.kw["bind"]
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )

    created = await importer.load(source)
    queries_to_create = len(statements)
    statements.clear()
    again = await importer.load(source)

    assert (created.stock_created, again.stock_unchanged) == (1200, 1200)
    assert queries_to_create <= 9, queries_to_create  # three batches: begin, select, insert
    assert len(statements) <= 6, len(statements)


CSV_ROWS = (
    f"SO-1,C1001,delivered,CNY,e_wallet,10.00,{PLACED},{PAID},2026-11-20T18:00:00+08:00,"
    "2026-11-21T12:00:00+08:00,,,TS-BLU-M,Cotton T-Shirt,纯棉T恤,apparel,2,79.00,,,"
    "color=blue;size=M",
    f"SO-2,C1001,paid,USD,card,,{PLACED},{PAID},,,2026-11-26T19:00:00+08:00,,SV-YOGA,Yoga Class,,"
    "booking,1,18,,,",
    f"SO-1,C1001,delivered,CNY,e_wallet,10.00,{PLACED},{PAID},2026-11-20T18:00:00+08:00,"
    "2026-11-21T12:00:00+08:00,,,FD-CAKE,Birthday Cake,生日蛋糕,food_perishable,1,268.00,false,,",
    f"SO-3,C1001,shipped,CNY,cash_on_delivery,0,{PLACED},,2026-11-21T09:00:00+08:00,,,2026-11-25,"
    "DG-GIFT,Game Gift Card,,digital,1,100,,true,",
)


async def test_csv_rows_are_grouped_into_orders(
    tmp_path: Path,
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
) -> None:
    await importer.load(ImportSource.from_document({"customers": [record_factory.customer()]}))
    path = tmp_path / "orders.csv"
    path.write_text("\n".join((CSV_HEADER, *CSV_ROWS)) + "\n", encoding="utf-8-sig")

    report = await importer.load(read_import_file(path))

    assert report.ok, messages(report)
    assert (report.orders_created, report.items_created) == (3, 4)
    first = await load_order(import_db, "SO-1")
    assert first is not None
    assert [(i.line_no, i.sku, i.quantity) for i in first.items] == [
        (1, "TS-BLU-M", 2),
        (2, "FD-CAKE", 1),
    ]
    shirt, cake = first.items
    assert shirt.attributes == {"color": "blue", "size": "M"}
    assert shirt.names == {"zh": "纯棉T恤"}
    assert (cake.returnable, cake.unit_price, first.shipping_fee) == (
        False,
        Decimal("268.00"),
        Decimal("10.00"),
    )
    booking = await load_order(import_db, "SO-2")
    assert booking is not None
    assert (booking.currency, booking.shipping_fee, booking.items[0].unit_price) == (
        "USD",
        Decimal(0),
        Decimal(18),
    )
    assert booking.service_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    shipped = await load_order(import_db, "SO-3")
    assert shipped is not None
    assert shipped.promised_delivery_date == date(2026, 11, 25)
    assert (shipped.paid_at, shipped.items[0].activated) == (None, True)


async def test_csv_order_columns_must_repeat_exactly(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    await importer.load(ImportSource.from_document({"customers": [record_factory.customer()]}))
    changed = CSV_ROWS[2].replace(PLACED, "2026-11-20T11:00:00+08:00", 1)

    report = await importer.load(csv_source(CSV_ROWS[0], CSV_ROWS[1], changed))

    assert messages(report) == [
        "line 4 (order SO-1) placed_at: '2026-11-20T11:00:00+08:00' differs from "
        f"'{PLACED}' on line 2; order columns must be the same on every row of an order"
    ]
    assert report.errors[0].line == 4
    assert (await row_counts(import_db))["orders"] == 0


async def test_csv_errors_name_the_line_and_column(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    await importer.load(ImportSource.from_document({"customers": [record_factory.customer()]}))
    bad_price = CSV_ROWS[2].replace(",268.00,", ",268.005,")
    bad_attributes = CSV_ROWS[3].replace(",true,", ",true,colour").replace(",C1001,", ",C404,")

    report = await importer.load(
        csv_source(CSV_ROWS[0], CSV_ROWS[1], bad_price, bad_attributes, "," * 20),
        skip_invalid=True,
    )

    assert messages(report) == [
        "line 4 (order SO-1) unit_price: CNY amounts have at most 2 decimal places",
        "line 5 (order SO-3) attributes: 'colour' is not key=value; write e.g. color=blue;size=M",
    ]
    assert (report.orders_created, report.skipped) == (1, 2)
    assert await load_order(import_db, "SO-2") is not None


async def test_a_csv_row_without_an_order_number_is_its_own_bad_record(
    importer: Importer,
) -> None:
    row = CSV_ROWS[1].replace("SO-2,", ",", 1)

    report = await importer.load(csv_source(row))

    assert messages(report) == [
        "line 2 order_number: is required",
        "line 2 customer_id: unknown customer C1001: not in the database "
        "and not a valid customer in this file",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CSV_HEADER + ",price", "unknown column(s) price"),
        (CSV_HEADER.replace(",unit_price", ""), "missing column(s) unit_price"),
        (CSV_HEADER + ",sku", "repeated column(s) sku"),
        (
            CSV_HEADER.replace("unit_price", "price") + ",sku",
            "unknown column(s) price; missing column(s) unit_price; repeated column(s) sku",
        ),
    ],
)
def test_a_csv_file_with_the_wrong_columns_is_refused(text: str, message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        ImportSource.from_csv_text(text)
    assert str(caught.value) == message


def test_only_the_required_csv_columns_are_needed() -> None:
    header = (
        "order_number,customer_id,status,currency,payment_method,placed_at,"
        "sku,item_name,category,quantity,unit_price"
    )
    source = csv_source(
        f"SO-9,C1001,pending_payment,CNY,card,{PLACED},A,Mug,home,1,9.90", header=header
    )
    assert source.orders[0].data == {
        "number": "SO-9",
        "customer_id": "C1001",
        "status": "pending_payment",
        "currency": "CNY",
        "payment_method": "card",
        "placed_at": PLACED,
        "items": [
            {
                "sku": "A",
                "name": "Mug",
                "category": "home",
                "quantity": "1",
                "unit_price": "9.90",
                "attributes": {},
            }
        ],
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", b'{"customers": [\n  {"id": "C1"\n]}', "invalid JSON at line 3, column 1"),
        ("latin.json", '{"customers": [{"name": "José"}]}'.encode("latin-1"),
         "not UTF-8 text (byte 0xe9 at offset 28)"),
        ("utf16.csv", CSV_HEADER.encode("utf-16"), "not UTF-8 text"),
        ("shop.xlsx", b"PK", "cannot import .xlsx files; use .json or .csv"),
        ("shop", b"{}", "cannot import files without an extension"),
        ("list.json", b"[]", 'expected an object with "customers", "orders" and/or "stock"'),
    ],
)  # fmt: skip
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        read_import_file(path)
    assert str(caught.value).startswith(message)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read the file"):
        read_import_file(tmp_path / "nowhere.json")


def test_json_with_a_byte_order_mark_is_read(tmp_path: Path, record_factory: RecordFactory) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({"customers": [record_factory.customer()]}), encoding="utf-8-sig")
    source = read_import_file(path)
    assert (source.name, source.size) == ("bom.json", 1)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    prices=st.lists(
        st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
        min_size=1,
        max_size=4,
    )
)
async def test_any_two_place_amount_round_trips_through_the_database(
    importer: Importer,
    import_db: async_sessionmaker[AsyncSession],
    record_factory: RecordFactory,
    prices: list[Decimal],
) -> None:
    """Every example rewrites the same order, so the shared database needs no reset."""
    items = [
        record_factory.item(f"SKU-{n}", unit_price=format(price, "f"))
        for n, price in enumerate(prices)
    ]
    document: dict[str, Any] = {
        "customers": [record_factory.customer()],
        "orders": [record_factory.order("SO-1", items=items, shipping_fee=str(prices[0]))],
    }

    report = await importer.load(ImportSource.from_document(document))

    assert report.ok, messages(report)
    order = await load_order(import_db, "SO-1")
    assert order is not None
    assert [item.unit_price for item in order.items] == prices
    assert all(isinstance(item.unit_price, Decimal) for item in order.items)
    assert order.shipping_fee == prices[0]


async def test_customers_are_loaded_before_the_orders_that_name_them(
    import_db: async_sessionmaker[AsyncSession],
    import_clock: FixedClock,
    record_factory: RecordFactory,
) -> None:
    document = record_factory.document(customers=3, orders_per_customer=1)
    document["orders"].reverse()
    importer = Importer(import_db, import_clock, batch_size=1)

    report = await importer.load(ImportSource.from_document(document))

    assert report.ok, messages(report)
    async with import_db() as session:
        owners = (
            await session.execute(
                select(Order.number, Customer.external_id).join(Customer).order_by(Order.number)
            )
        ).all()
    assert [tuple(row) for row in owners] == [
        ("SO-1000000", "C1001"),
        ("SO-1000100", "C1002"),
        ("SO-1000200", "C1003"),
    ]


async def test_a_misspelled_section_is_reported_with_every_records_problems(
    importer: Importer, import_db: async_sessionmaker[AsyncSession], record_factory: RecordFactory
) -> None:
    """A section the importer cannot read means records it never saw: nothing is written,
    --skip-invalid or not, and the rest of the file is checked in the same run."""
    document = record_factory.document()
    document["order"] = document.pop("orders")
    document["stock"] = {"sku": "A"}
    document["customers"][0]["email"] = "not-an-address"

    for skip_invalid in (False, True):
        report = await importer.load(
            ImportSource.from_document(document), skip_invalid=skip_invalid
        )
        assert report.aborted
        assert messages(report) == [
            '\'order\': is not a section; expected "customers", "orders" and/or "stock"',
            '"stock": must be a list',
            "customers[0] (C1001).email: is not an e-mail address like name@example.com",
        ]
    assert await row_counts(import_db) == {"customers": 0, "orders": 0, "order_items": 0}


async def test_a_csv_row_longer_than_the_header_is_reported_with_its_other_problems(
    importer: Importer,
) -> None:
    row = CSV_ROWS[0].replace(",apparel,", ",clothes,") + ",extra"

    report = await importer.load(csv_source(row))

    assert report.aborted
    assert messages(report)[:2] == [
        "line 2 (order SO-1): has 22 cells, the header 21",
        "line 2 (order SO-1) category: Input should be 'electronics', 'apparel', 'home', "
        "'beauty', 'books', 'food_perishable', 'personalized', 'digital', 'booking' or 'other'",
    ]
