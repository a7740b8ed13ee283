"""Fixtures for the import and demo-data tests: a fresh SQLite schema and record builders.

Names are prefixed (`import_…`) because this directory is shared with other service
tests that rely on the root conftest's `clock` and `deps`.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.domain.clock import FixedClock
from bot.services.imports.importer import Importer
from storage.db import create_engine, create_session_factory
from storage.models import Base, Customer, Order, OrderItem

IMPORT_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class RecordFactory:
    """Valid raw records, as a JSON import file holds them, to be spoiled one field at a time."""

    def customer(self, id: str = "C1001", **changes: Any) -> dict[str, Any]:
        record = {
            "id": id,
            "name": "Alice Johnson",
            "phone": "+86 138 0000 1001",
            "email": "Alice@Example.com",
            "tier": "vip",
            "locale": "en",
        }
        return record | changes

    def item(self, sku: str = "BT-HP-BLUE", **changes: Any) -> dict[str, Any]:
        record = {
            "sku": sku,
            "name": "Bluetooth Headphones",
            "names": {"zh": "蓝牙耳机"},
            "attributes": {"color": "blue"},
            "category": "electronics",
            "quantity": 1,
            "unit_price": "399.00",
        }
        return record | changes

    def order(
        self, number: str = "SO-1002345", customer_id: str = "C1001", **changes: Any
    ) -> dict[str, Any]:
        record = {
            "number": number,
            "customer_id": customer_id,
            "status": "delivered",
            "currency": "CNY",
            "payment_method": "e_wallet",
            "shipping_fee": "12.00",
            "placed_at": "2026-11-10T09:00:00+08:00",
            "paid_at": "2026-11-10T09:05:00+08:00",
            "shipped_at": "2026-11-11T15:00:00+08:00",
            "delivered_at": "2026-11-13T11:30:00+08:00",
            "items": [self.item(), self.item("EK-17", name="Electric Kettle", category="home")],
        }
        return record | changes

    def document(self, customers: int = 2, orders_per_customer: int = 2) -> dict[str, Any]:
        """A good file: customers C1001, C1002…; orders SO-1000000, SO-1000001, SO-1000100…"""
        ids = [f"C{1001 + n}" for n in range(customers)]
        return {
            "customers": [self.customer(c, phone=f"+86 138 0000 {c[1:]}") for c in ids],
            "orders": [
                self.order(f"SO-{1000000 + n * 100 + k:07d}", c)
                for n, c in enumerate(ids)
                for k in range(orders_per_customer)
            ],
        }

    @staticmethod
    def spoiled(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
        """A deep copy of `document` with the value at `orders.0.items.1.unit_price` replaced."""
        spoiled = copy.deepcopy(document)
        *parents, last = path.split(".")
        target: Any = spoiled
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value
        return spoiled


@pytest.fixture
def record_factory() -> RecordFactory:
    return RecordFactory()


@pytest.fixture
def import_clock() -> FixedClock:
    return FixedClock(IMPORT_NOW)


@pytest.fixture
async def import_db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a new SQLite file with the models' schema."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def importer(import_db: async_sessionmaker[AsyncSession], import_clock: FixedClock) -> Importer:
    return Importer(import_db, import_clock)


async def row_counts(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many customers, orders and items the database holds."""
    async with session_factory() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Customer, Order, OrderItem)
        }
