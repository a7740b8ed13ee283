"""Small builders for rows the storage and service tests need."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from storage.enums import CustomerTier, ItemCategory, OrderStatus, PaymentMethod
from storage.models import Customer, Order, OrderItem
from storage.uow import UnitOfWork


def make_customer(external_id: str = "C1", **fields: object) -> Customer:
    values: dict[str, object] = {
        "external_id": external_id,
        "name": f"Customer {external_id}",
        "phone": "+8613800138000",
        "email": f"{external_id.lower()}@example.com",
        "tier": CustomerTier.REGULAR,
    }
    values.update(fields)
    return Customer(**values)


def make_order(customer: Customer, number: str, placed_at: datetime, **fields: object) -> Order:
    values: dict[str, object] = {
        "number": number,
        "customer": customer,
        "status": OrderStatus.PAID,
        "currency": "CNY",
        "payment_method": PaymentMethod.CARD,
        "shipping_fee": Decimal("10.00"),
        "placed_at": placed_at,
        "paid_at": placed_at + timedelta(minutes=5),
        "items": [
            OrderItem(
                line_no=1,
                sku=f"{number}-1",
                name="Bluetooth Headphones",
                names={"zh": "蓝牙耳机"},
                category=ItemCategory.ELECTRONICS,
                quantity=1,
                unit_price=Decimal("299.00"),
            )
        ],
    }
    values.update(fields)
    return Order(**values)


async def add_all(uow: UnitOfWork, *rows: object) -> None:
    async with uow.transaction():
        uow.session.add_all(list(rows))
