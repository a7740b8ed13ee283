"""Money stays exact, times stay aware, and the unit of work keeps failures out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from bot.wiring import AppDeps
from storage.enums import ItemCategory, RequestKind, RequestStatus
from storage.models import CancellationRequest, Order, OrderItem
from storage.repositories.orders import OrderDescription
from storage.types import StoredTimes, utc_from_raw
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer, make_order

AWKWARD_AMOUNTS = ["0.01", "0.10", "19.99", "1234567.89", "99999999.99", "0.0001", "-5.25"]


async def test_amounts_round_trip_exactly_and_sum_exactly_in_sql(deps: AppDeps) -> None:
    customer = make_customer()
    orders = [
        make_order(customer, f"SO-{i}", NOW, shipping_fee=Decimal(amount))
        for i, amount in enumerate(AWKWARD_AMOUNTS)
    ]
    async with deps.uow() as uow:
        await add_all(uow, customer, *orders)
    async with deps.uow() as uow:
        stored = {o.number: o.shipping_fee for o in await uow.orders.for_customer(customer.id)}
        total = await uow.session.scalar(select(func.sum(Order.shipping_fee)))
    assert stored == {f"SO-{i}": Decimal(a) for i, a in enumerate(AWKWARD_AMOUNTS)}
    assert all(isinstance(value, Decimal) for value in stored.values())
    assert Decimal(total) == sum(Decimal(a) for a in AWKWARD_AMOUNTS)


@pytest.mark.parametrize(
    ("fee", "problem"), [(1.5, "must be Decimal"), (Decimal("0.00001"), "decimal places")]
)
async def test_floats_and_excess_precision_are_refused(
    deps: AppDeps, fee: object, problem: str
) -> None:
    customer = make_customer()
    async with deps.uow() as uow:
        with pytest.raises(StatementError, match=problem):
            await add_all(uow, customer, make_order(customer, "SO-F", NOW, shipping_fee=fee))
    async with deps.uow() as uow:
        assert await uow.customers.count() == 0


async def test_datetimes_come_back_aware_and_in_utc(deps: AppDeps) -> None:
    shanghai = timezone(timedelta(hours=8))
    placed = datetime(2026, 11, 23, 18, 0, tzinfo=shanghai)
    customer = make_customer()
    async with deps.uow() as uow:
        await add_all(uow, customer, make_order(customer, "SO-T", placed))
    async with deps.uow() as uow:
        order = await uow.orders.by_number("SO-T")
    assert order is not None
    assert order.placed_at == placed
    assert order.placed_at.tzinfo is not None
    assert order.placed_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(deps: AppDeps) -> None:
    customer = make_customer()
    async with deps.uow() as uow:
        with pytest.raises(StatementError, match="naive"):
            await add_all(uow, customer, make_order(customer, "SO-N", datetime(2026, 1, 1)))  # noqa: DTZ001


async def test_transaction_rolls_back_on_error(deps: AppDeps) -> None:
    async def fail_half_way() -> None:
        async with deps.uow() as uow, uow.transaction():
            uow.customers.add(make_customer("C-lost"))
            await uow.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_half_way()
    async with deps.uow() as uow:
        assert await uow.customers.by_external_id("C-lost") is None


async def test_uncommitted_work_is_dropped_when_the_unit_ends(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        uow.customers.add(make_customer("C-uncommitted"))
        await uow.flush()
    async with deps.uow() as uow:
        assert await uow.customers.by_external_id("C-uncommitted") is None


def _request(order: Order, key: str, *, active: bool) -> CancellationRequest:
    return CancellationRequest(
        order_id=order.id,
        customer_id=order.customer_id,
        kind=RequestKind.CANCEL,
        status=RequestStatus.APPROVED if active else RequestStatus.COMPLETED,
        is_active=active,
        reason_code="changed_mind",
        currency="CNY",
        idempotency_key=key,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_one_active_cancellation_request_per_order(deps: AppDeps) -> None:
    customer = make_customer()
    order = make_order(customer, "SO-A", NOW)
    async with deps.uow() as uow:
        await add_all(uow, customer, order)
        await add_all(uow, _request(order, "k1", active=False), _request(order, "k2", active=True))
        with pytest.raises(IntegrityError):
            await add_all(uow, _request(order, "k3", active=True))


async def test_idempotency_key_is_unique(deps: AppDeps) -> None:
    customer = make_customer()
    first, second = make_order(customer, "SO-1", NOW), make_order(customer, "SO-2", NOW)
    async with deps.uow() as uow:
        await add_all(uow, customer, first, second)
        await add_all(uow, _request(first, "same", active=True))
        with pytest.raises(IntegrityError):
            await add_all(uow, _request(second, "same", active=True))


async def test_items_load_with_their_order_and_totals_are_exact(deps: AppDeps) -> None:
    customer = make_customer()
    order = make_order(customer, "SO-M", NOW)
    order.items.append(
        OrderItem(
            line_no=2, sku="SO-M-2", name="Case", category="electronics", quantity=3,
            unit_price=Decimal("0.10"),
        )
    )  # fmt: skip
    async with deps.uow() as uow:
        await add_all(uow, customer, order)
    async with deps.uow() as uow:
        loaded = await uow.orders.by_number("SO-M")
    assert loaded is not None
    assert [item.sku for item in loaded.items] == ["SO-M-1", "SO-M-2"]
    assert loaded.total == Decimal("299.00") + Decimal("0.30") + Decimal("10.00")


async def test_matching_reads_each_order_once_then_its_items_decoded(deps: AppDeps) -> None:
    """`candidate_rows` and `candidate_descriptions` decode timestamps and JSON
    themselves: the same values, on both databases, as the ORM gives; an order without
    items is still a candidate, with no description; the rows' fingerprint is the one
    `candidate_version` gives; another customer's order is in neither."""
    shanghai = timezone(timedelta(hours=8))
    customer = make_customer()
    two_items = make_order(customer, "SO-2", datetime(2026, 11, 23, 18, 0, tzinfo=shanghai))
    two_items.items.append(
        OrderItem(
            line_no=2,
            sku="SO-2-2",
            name="Cotton T-shirt",
            attributes={"color": "black", "size": "M"},
            category=ItemCategory.APPAREL,
            quantity=1,
            unit_price=Decimal("59.00"),
        )
    )
    bare = make_order(customer, "SO-1", NOW - timedelta(days=3), items=[])
    someone_else = make_customer("C2", phone="+8613900139000")
    async with deps.uow() as uow:
        await add_all(uow, customer, someone_else, two_items, bare)
        await add_all(uow, make_order(someone_else, "SO-9", NOW))
    async with deps.uow() as uow:
        found, version = await uow.orders.candidate_rows(1, customer.id, NOW)
        assert version == await uow.orders.candidate_version(1, customer.id, NOW)
        assert version.orders == 2
        described = await uow.orders.candidate_descriptions(1, customer.id, NOW)
        nothing = await uow.orders.candidate_rows(2, None, NOW)
        assert nothing.version == await uow.orders.candidate_version(2, None, NOW)
        assert (list(nothing.orders.ids), nothing.version) == ([], (0, 0, None))
        assert await uow.orders.candidate_descriptions(2, None, NOW) == {}
    assert sorted(zip(found.ids, found.numbers, found.placed_at, strict=True)) == [
        (two_items.id, "SO-2", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (bare.id, "SO-1", NOW - timedelta(days=3)),
    ]
    assert all(placed_at.tzinfo is UTC for placed_at in found.placed_at)
    assert described == {
        two_items.id: OrderDescription(
            ("Bluetooth Headphones", "蓝牙耳机", "Cotton T-shirt"), ("black", "M")
        )
    }


async def test_a_number_holding_the_separator_is_read_as_stored(deps: AppDeps) -> None:
    """`candidate_rows` reads a customer's orders as one row of joined columns: a number
    that holds the joining character (no importer writes one, the column allows it)
    is read a row per order instead, as stored, with its own id and date."""
    customer = make_customer()
    odd = make_order(customer, "SO-\x1f7", NOW - timedelta(days=1))
    plain = make_order(customer, "SO-8", NOW)
    async with deps.uow() as uow:
        await add_all(uow, customer, odd, plain)
    async with deps.uow() as uow:
        found, version = await uow.orders.candidate_rows(1, customer.id, NOW)
        assert version == await uow.orders.candidate_version(1, customer.id, NOW)
    assert sorted(zip(found.ids, found.numbers, found.placed_at, strict=True)) == [
        (odd.id, "SO-\x1f7", NOW - timedelta(days=1)),
        (plain.id, "SO-8", NOW),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-23 10:00:00.250000",  # SQLite's text, as SQLAlchemy writes it
        "2026-11-23 10:00:00.250",
        "2026-11-23T18:00:00.250+08:00",  # text that carries its own offset
        "2026-11-23T10:00:00.250Z",
        datetime(2026, 11, 23, 10, 0, 0, 250_000, tzinfo=UTC).replace(tzinfo=None),  # naive: UTC
        datetime(2026, 11, 23, 18, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_raw_times_decode_to_the_same_aware_utc_instant(raw: str | datetime) -> None:
    decoded = utc_from_raw(raw)
    assert decoded == datetime(2026, 11, 23, 10, 0, 0, 250_000, tzinfo=UTC)
    assert decoded.tzinfo is UTC


def test_stored_times_decode_each_value_when_read() -> None:
    raw = ["2026-11-23 10:00:00.250000", "2026-11-23T18:00:00+08:00", "not a time"]
    times = StoredTimes(raw)
    assert len(times) == 3
    assert times[0] == datetime(2026, 11, 23, 10, 0, 0, 250_000, tzinfo=UTC)
    assert times[:2] == [times[0], datetime(2026, 11, 23, 10, 0, tzinfo=UTC)]
    assert times[-2].tzinfo is UTC
    with pytest.raises(ValueError, match="isoformat"):  # decoded when read: it fails here
        times[2]
