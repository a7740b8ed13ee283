"""Reading what the conversation stored, with the test's own connection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from bot.services.imports.records import CustomerRecord
from bot.wiring import AppDeps
from storage.models import (
    CancellationRequest,
    Customer,
    Offer,
    Order,
    OutboxMessage,
    Refund,
    StockItem,
    SupportCase,
    Ticket,
    Voucher,
)


async def order_row(deps: AppDeps, number: str) -> Order:
    async with deps.uow() as uow:
        order = await uow.orders.by_number(number)
    assert order is not None, number
    return order


async def requests_for(deps: AppDeps, number: str) -> list[CancellationRequest]:
    return await _rows(
        deps,
        select(CancellationRequest)
        .join(Order, Order.id == CancellationRequest.order_id)
        .where(Order.number == number)
        .order_by(CancellationRequest.id),
    )


async def refunds_for(deps: AppDeps, number: str) -> list[Refund]:
    return await _rows(
        deps,
        select(Refund)
        .join(Order, Order.id == Refund.order_id)
        .where(Order.number == number)
        .order_by(Refund.id),
    )


async def offers_for(deps: AppDeps, number: str) -> list[Offer]:
    return await _rows(
        deps,
        select(Offer)
        .join(Order, Order.id == Offer.order_id)
        .where(Order.number == number)
        .order_by(Offer.id),
    )


async def vouchers_of(deps: AppDeps, customer: CustomerRecord) -> list[Voucher]:
    return await _rows(
        deps,
        select(Voucher)
        .join(Customer, Customer.id == Voucher.customer_id)
        .where(Customer.external_id == customer.id)
        .order_by(Voucher.id),
    )


async def tickets_of(deps: AppDeps, chat_id: int) -> list[Ticket]:
    return await _rows(deps, select(Ticket).where(Ticket.chat_id == chat_id))


async def cases_of(deps: AppDeps, chat_id: int) -> list[SupportCase]:
    return await _rows(
        deps,
        select(SupportCase).where(SupportCase.chat_id == chat_id).order_by(SupportCase.id),
    )


async def outbox_of(deps: AppDeps, chat_id: int) -> list[OutboxMessage]:
    return await _rows(
        deps,
        select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id),
    )


async def available(deps: AppDeps, sku: str) -> int:
    async with deps.uow() as uow:
        row = await uow.session.get(StockItem, sku)
    assert row is not None, sku
    return row.available


async def _rows(deps: AppDeps, query: Any) -> list[Any]:
    async with deps.uow() as uow:
        return list((await uow.session.scalars(query)).all())


async def snapshot(deps: AppDeps) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a cancellation can change, to show that something changed nothing."""
    tables: dict[str, tuple[Any, Iterable[str]]] = {
        "orders": (Order, ("number", "status")),
        "requests": (CancellationRequest, ("id", "status", "is_active", "refund_amount")),
        "refunds": (Refund, ("id", "status", "amount", "method")),
        "offers": (Offer, ("id", "status")),
        "vouchers": (Voucher, ("id", "amount")),
        "tickets": (Ticket, ("id", "status")),
        "outbox": (OutboxMessage, ("id", "template")),
        "stock": (StockItem, ("sku", "available")),
    }
    result: dict[str, list[tuple[Any, ...]]] = {}
    for name, (model, columns) in tables.items():
        rows = await _rows(deps, select(model))
        result[name] = sorted(tuple(getattr(row, c) for c in columns) for row in rows)
    return result
