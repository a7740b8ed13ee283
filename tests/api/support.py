"""Helpers for the merchant API tests: a signing client that checks every answer against
the served OpenAPI description, a tiny shop, and database snapshots.

Shared by tests/api and tests/e2e/test_merchant_events.py, so it is a plain module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator
from multidict import CIMultiDictProxy
from sqlalchemy import func, select

from bot.api.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from bot.services.domain.money import Money
from bot.services.imports.importer import Importer, ImportSource
from bot.services.outbox import decode_context
from bot.services.refunds.service import RefundLedger
from bot.wiring import AppDeps
from storage.enums import (
    LinkMethod,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RequestKind,
    RequestStatus,
)
from storage.models import (
    Base,
    CancellationItem,
    CancellationRequest,
    Customer,
    Order,
    OutboxMessage,
    Refund,
    StockItem,
    TelegramUser,
)
from tests.conftest import NOW

SECRET = "merchant-test-secret-of-32-bytes!"


# -- the client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]


@dataclass
class MerchantClient:
    """Signs like a merchant's code would, and validates each answer against the OpenAPI
    document the server itself serves: its path, method, status and body schema."""

    http: aiohttp.ClientSession
    base: str
    now: Callable[[], datetime]
    secret: str = SECRET
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    _openapi: dict[str, Any] | None = None

    async def post(self, path: str, body: Any = None, **options: Any) -> Answer:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.request("POST", path, raw, **options)

    async def get(self, path: str, **options: Any) -> Answer:
        return await self.request("GET", path, b"", **options)

    async def request(
        self,
        method: str,
        path: str,
        raw: bytes,
        *,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"Content-Type": "application/json"}
        if signed:
            stamp = str(int(self.now().timestamp()) if timestamp is None else timestamp)
            sent[TIMESTAMP_HEADER] = stamp
            sent[SIGNATURE_HEADER] = signature((secret or self.secret).encode(), stamp, raw)
        sent.update(headers or {})
        async with self.http.request(method, self.base + path, data=raw, headers=sent) as reply:
            answer = Answer(reply.status, await reply.json(), reply.headers)
        await self._check(method, path, answer)
        return answer

    async def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            async with self.http.get(self.base + "/api/v1/openapi.json") as reply:
                assert reply.status == 200
                self._openapi = await reply.json()
        return self._openapi

    async def _check(self, method: str, path: str, answer: Answer) -> None:
        document = await self.openapi()
        template = _template(document, path.split("?")[0])
        if template is None:  # an unknown route: still the one error shape
            assert answer.status in (401, 404), answer
            schema: dict[str, Any] = {"$ref": "#/components/schemas/ErrorResponse"}
        else:
            operation = document["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not documented"
            documented = operation["responses"].get(str(answer.status))
            assert documented is not None, f"{method} {template} → {answer.status} undocumented"
            schema = documented["content"]["application/json"]["schema"]
            self.seen.append((method, template, answer.status))
        Draft202012Validator({**schema, "components": document["components"]}).validate(answer.body)


def _template(document: dict[str, Any], path: str) -> str | None:
    for template in document["paths"]:
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    return None


def signed_headers(raw: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    stamp = str(timestamp)
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret.encode(), stamp, raw),
        "Content-Type": "application/json",
    }


# -- the shop -------------------------------------------------------------------------------


def customer(external_id: str, name: str = "Ann Lee", **extra: Any) -> dict[str, Any]:
    number = int(re.sub(r"\D", "", external_id) or 0)
    return {"id": external_id, "name": name, "phone": f"+86 138 0000 {number:04d}", **extra}


def item(
    sku: str, price: str, quantity: int = 1, *, category: str = "apparel", **attributes: str
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": sku.title(),
        "category": category,
        "quantity": quantity,
        "unit_price": price,
        "attributes": attributes,
    }


def order(
    number: str,
    customer_id: str,
    *items: dict[str, Any],
    status: str = "paid",
    payment: str = "card",
    shipping: str = "10.00",
) -> dict[str, Any]:
    placed = NOW - timedelta(days=2)
    record: dict[str, Any] = {
        "number": number,
        "customer_id": customer_id,
        "status": status,
        "currency": "CNY",
        "payment_method": payment,
        "shipping_fee": shipping,
        "placed_at": placed.isoformat(),
        "items": list(items),
    }
    if status != "pending_payment" and not (
        payment == "cash_on_delivery" and status != "delivered"
    ):
        record["paid_at"] = (placed + timedelta(hours=1)).isoformat()
    if status in ("shipped", "delivered"):
        record["shipped_at"] = (placed + timedelta(days=1)).isoformat()
    if status == "delivered":
        record["delivered_at"] = (placed + timedelta(days=1, hours=5)).isoformat()
    return record


def variant(sku: str, group: str, price: str, available: int, **attributes: str) -> dict[str, Any]:
    return {
        "sku": sku,
        "group": group,
        "name": group.title(),
        "attributes": attributes,
        "unit_price": price,
        "currency": "CNY",
        "available": available,
    }


async def load(deps: AppDeps, **document: Iterable[dict[str, Any]]) -> None:
    """Customers, orders and stock through the real importer."""
    source = ImportSource.from_document({k: list(v) for k, v in document.items()}, name="test")
    report = await Importer(deps.session_factory, deps.clock).load(source)
    assert report.ok, [str(error) for error in report.errors]


async def link(
    deps: AppDeps,
    external_id: str,
    user_id: int,
    *,
    chosen_locale: str | None = None,
    language_code: str | None = None,
) -> None:
    """A Telegram account proven to be the customer's (as a shared contact would leave it)."""
    async with deps.uow() as uow, uow.transaction():
        uow.telegram_users.add(
            TelegramUser(
                id=user_id,
                first_name="Ann",
                locale=chosen_locale,
                language_code=language_code,
                first_seen_at=NOW,
            )
        )
        await uow.flush()
        found = await uow.customers.by_external_id(external_id)
        assert found is not None
        found.telegram_user_id, found.linked_at, found.linked_via = (
            user_id,
            NOW,
            LinkMethod.CONTACT,
        )


async def open_refund(
    deps: AppDeps,
    number: str,
    *,
    status: RefundStatus = RefundStatus.APPROVED,
    method: PaymentMethod | None = None,
    return_required: bool = False,
) -> int:
    """What a confirmed customer cancellation leaves: the request (active), its refund of
    the whole order, and the order cancelled once approved. Returns the refund's id.
    With `return_required`, a return whose refund waits for the parcel to come back."""
    approved = status is RefundStatus.APPROVED
    async with deps.uow() as uow, uow.transaction():
        found = await uow.orders.by_number(number)
        assert found is not None
        request = CancellationRequest(
            order_id=found.id,
            customer_id=found.customer_id,
            kind=RequestKind.RETURN if return_required else RequestKind.CANCEL,
            status=RequestStatus.APPROVED if approved else RequestStatus.PENDING_REVIEW,
            is_active=True,
            reason_code=ReasonCode.CHANGED_MIND,
            refund_amount=found.total,
            currency=found.currency,
            idempotency_key=f"test:{number}",
            decision={"return_required": True} if return_required else None,
            created_at=NOW,
            updated_at=NOW,
            items=[CancellationItem(order_item_id=i.id, quantity=i.quantity) for i in found.items],
        )
        uow.cases.add_request(request)
        await uow.flush()
        if approved:
            found.status = OrderStatus.CANCELLED
        refund = RefundLedger(uow, deps.clock).open(
            order_id=found.id,
            customer_id=found.customer_id,
            request_id=request.id,
            amount=Money(found.total, found.currency),
            method=method or found.payment_method,
            status=status,
        )
        await uow.flush()
        return refund.id


# -- reading the database ---------------------------------------------------------------------


async def counts(deps: AppDeps) -> dict[str, int]:
    """Rows in every table: equal before and after means nothing was written."""
    result = {}
    async with deps.uow() as uow:
        for table in Base.metadata.sorted_tables:
            result[table.name] = await uow.session.scalar(select(func.count()).select_from(table))
    return result


async def refund_row(deps: AppDeps, refund_id: int) -> Refund:
    async with deps.uow() as uow:
        found = await uow.refunds.get(refund_id)
    assert found is not None
    return found


async def order_row(deps: AppDeps, number: str) -> Order:
    async with deps.uow() as uow:
        found = await uow.orders.by_number(number)
    assert found is not None
    return found


async def request_row(deps: AppDeps, request_id: int) -> CancellationRequest:
    async with deps.uow() as uow:
        found = await uow.cases.get_request(request_id)
    assert found is not None
    return found


async def outbox(deps: AppDeps) -> list[OutboxMessage]:
    async with deps.uow() as uow:
        return list(
            (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        )


async def available(deps: AppDeps, sku: str) -> int:
    async with deps.uow() as uow:
        row = await uow.session.get(StockItem, sku)
    assert row is not None
    return row.available


async def customer_row(deps: AppDeps, external_id: str) -> Customer:
    async with deps.uow() as uow:
        found = await uow.customers.by_external_id(external_id)
    assert found is not None
    return found


def context(message: OutboxMessage) -> dict[str, Any]:
    return dict(decode_context(message.context))


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")
