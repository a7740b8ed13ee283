"""A whole cancellation, tapped through by scripted customers, for the benchmark.

Each customer shares their contact, sends /cancel_order, then presses what the bot
offered: their order, "changed my mind", "no thanks, cancel", the first refund method
and Confirm. The buttons are read from what the bot sent (`MemorySession.buttons`), so
the run fails loudly, rather than measuring something else, if the dialog changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aiogram import Bot, Dispatcher
from sqlalchemy import func, select

from bench.session import MemorySession
from bench.updates import callback_update, contact_update, text_update
from bot.services.imports.importer import Importer
from bot.services.imports.records import CustomerRecord, ImportFile, OrderItemRecord, OrderRecord
from bot.services.imports.sources import ImportSource
from bot.wiring import AppDeps
from storage.models import CancellationRequest

FIRST_USER_ID = 500_000
MAX_PRESSES = 8
"""Order, reason, offers, method, confirm: more presses than this means a changed dialog."""

# What the customer presses, best first: the first rule that matches a button shown wins.
_CHOICES: tuple[tuple[str, str], ...] = (
    ("cf1:", ":ok"),  # the summary: Confirm
    ("rm1:", ""),  # a refund method: the first (the original payment method)
    ("of1:", ":0"),  # the offers: "No thanks, cancel"
    ("re1:", ":changed_mind"),  # the reason
    ("co1:", ""),  # the order list: the first (they have one)
)


@dataclass(frozen=True, slots=True)
class BenchCustomer:
    user_id: int
    phone: str


def bench_shop(
    count: int, now: datetime, *, first: int = 0
) -> tuple[ImportFile, list[BenchCustomer]]:
    """`count` customers from number `first` on, each with one paid, unshipped order of
    299.00 + 10.00 shipping; a run uses new numbers, as a cancelled order stays cancelled."""
    customers, orders, people = [], [], []
    placed = now - timedelta(hours=3)
    for index in range(first, first + count):
        external_id, phone = f"B{index:05d}", f"+86 139 {index // 10_000:04d} {index % 10_000:04d}"
        customers.append(CustomerRecord(id=external_id, name=f"Bench {index}", phone=phone))
        orders.append(
            OrderRecord(
                number=f"SO-9{index:06d}",
                customer_id=external_id,
                status="paid",  # type: ignore[arg-type]
                currency="CNY",
                payment_method="card",  # type: ignore[arg-type]
                shipping_fee=Decimal("10.00"),
                placed_at=placed,
                paid_at=placed + timedelta(minutes=5),
                items=[
                    OrderItemRecord(
                        sku="BT-HEADPHONES",
                        name="Bluetooth Headphones",
                        category="electronics",  # type: ignore[arg-type]
                        quantity=1,
                        unit_price=Decimal("299.00"),
                    )
                ],
            )
        )
        people.append(BenchCustomer(FIRST_USER_ID + index, phone))
    return ImportFile(customers=customers, orders=orders), people


async def load_bench_shop(deps: AppDeps, count: int, *, first: int) -> list[BenchCustomer]:
    file, people = bench_shop(count, deps.clock.now(), first=first)
    report = await Importer(deps.session_factory, deps.clock).load(
        ImportSource.from_import_file(file, name="bench")
    )
    if not report.ok:
        raise RuntimeError(f"bench shop did not load: {[str(e) for e in report.errors][:3]}")
    return people


async def cancel_one(
    dp: Dispatcher, bot: Bot, session: MemorySession, person: BenchCustomer
) -> int:
    """Walk one customer from hello to a confirmed cancellation; returns updates sent."""
    user = person.user_id
    await dp.feed_update(bot, contact_update(user, person.phone))
    await dp.feed_update(bot, text_update(user, "/cancel_order"))
    updates = 2
    for _ in range(MAX_PRESSES):
        data = _choose(session.buttons.get(user, []))
        session.buttons.pop(user, None)  # the next choice must come from a new keyboard
        await dp.feed_update(bot, callback_update(user, data))
        updates += 1
        if data.startswith("cf1:"):
            return updates
    raise RuntimeError(f"customer {user} did not reach Confirm in {MAX_PRESSES} presses")


def _choose(buttons: list[str]) -> str:
    for prefix, suffix in _CHOICES:
        for data in buttons:
            if data.startswith(prefix) and data.endswith(suffix):
                return data
    raise RuntimeError(f"no button to press among {buttons}")


async def confirmed_requests(deps: AppDeps) -> int:
    """How many cancellation requests exist: the run checks it made one per customer."""
    async with deps.session_factory() as session:
        return int(await session.scalar(select(func.count(CancellationRequest.id))) or 0)


def order_number(customer: int, index: int) -> str:
    """Spread out, as real order numbers are: no two share a long prefix by construction."""
    return f"SO-{(index * 7919 + customer * 104_729) % 100_000_000:08d}"


def many_orders_shop(
    orders: int, now: datetime, *, number: int
) -> tuple[ImportFile, BenchCustomer]:
    """One customer (number `number`) with `orders` paid orders of one item each."""
    external_id, phone = f"M{number:05d}", f"+86 138 {number // 10_000:04d} {number % 10_000:04d}"
    placed = now - timedelta(days=1)
    records = [
        OrderRecord(
            number=order_number(number, index),
            customer_id=external_id,
            status="paid",  # type: ignore[arg-type]
            currency="CNY",
            payment_method="card",  # type: ignore[arg-type]
            shipping_fee=Decimal("10.00"),
            placed_at=placed - timedelta(minutes=index),
            paid_at=placed - timedelta(minutes=index) + timedelta(minutes=5),
            items=[
                OrderItemRecord(
                    sku=f"SKU-{index % 97}",
                    name=("Blue Kettle", "Bluetooth Headphones", "Cotton T-shirt")[index % 3],
                    category="electronics",  # type: ignore[arg-type]
                    quantity=1,
                    unit_price=Decimal("99.00"),
                )
            ],
        )
        for index in range(orders)
    ]
    customer = CustomerRecord(id=external_id, name=f"Many {number}", phone=phone)
    file = ImportFile(customers=[customer], orders=records)
    return file, BenchCustomer(FIRST_USER_ID + 900_000 + number, phone)


async def load_many_orders(deps: AppDeps, orders: int, *, number: int) -> BenchCustomer:
    file, person = many_orders_shop(orders, deps.clock.now(), number=number)
    report = await Importer(deps.session_factory, deps.clock).load(
        ImportSource.from_import_file(file, name=f"bench-many-{number}")
    )
    if not report.ok:
        raise RuntimeError(f"bench orders did not load: {[str(e) for e in report.errors][:3]}")
    return person
