"""The served OpenAPI description matches the implementation.

Every route the application registers under /api/v1 is documented with its method (and
nothing else is), every schema is valid JSON Schema, and real answers validate against
the documented ones: `MerchantClient` checks each answer of every test in tests/api, and
the walk below makes sure every route's success is among them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator

from bot.api.app import build_web_app
from bot.api.openapi import openapi_path
from bot.api.routes import ENDPOINTS, PREFIX
from bot.services.domain.money import Money
from bot.services.refunds.vouchers import issue_voucher
from bot.wiring import AppDeps
from storage.enums import RefundStatus, VoucherKind
from tests.api.support import MerchantClient, customer, open_refund
from tests.conftest import NOW


def registered(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path) of every route as aiohttp resolves them, sub-applications included."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }


async def test_every_registered_route_is_documented_and_nothing_more(
    api: MerchantClient, deps: AppDeps
) -> None:
    document = await api.openapi()
    served = {
        (method, path)
        for method, path in registered(build_web_app(deps))
        if path.startswith(PREFIX)
    }
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert served == documented
    assert {openapi_path(PREFIX, e.path) for e in ENDPOINTS} == set(document["paths"])


async def test_the_document_is_openapi_3_1_with_valid_schemas(api: MerchantClient) -> None:
    document = await api.openapi()
    assert document["openapi"] == "3.1.0"
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (method, path)
            parameters = operation.get("parameters", [])
            names = {p["name"] for p in parameters if p["in"] == "path"}
            assert names == set(_placeholders(path)), (method, path)
            assert {p["in"] for p in parameters} <= {"path", "query"}


async def test_every_route_answers_as_documented(api: MerchantClient, shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-2", status=RefundStatus.PENDING_REVIEW)
    event = {"event_id": "evt-1", "status": "approved", "occurred_at": NOW.isoformat()}
    assert (await api.post(f"/api/v1/refunds/{refund_id}/events", event)).status == 201
    assert (await api.post(f"/api/v1/refunds/{refund_id}/events", event)).status == 201
    cancel = {"event_id": "cx-1", "reason": "out_of_stock"}
    assert (await api.post("/api/v1/orders/SO-1/cancel", cancel)).status == 201
    assert (await api.post("/api/v1/orders", {"customers": [customer("C9")]})).status == 200
    assert (await api.get(f"/api/v1/refunds/{refund_id}")).status == 200
    assert (await api.get("/api/v1/orders/SO-1")).status == 200
    assert (await api.get("/api/v1/cancellation-requests?status=approved")).status == 200
    assert (await api.get("/api/v1/vouchers?status=active")).status == 200
    code = await _voucher(shop)
    assert (await api.get(f"/api/v1/vouchers/{code}")).status == 200
    assert (await api.post(f"/api/v1/vouchers/{code}/redeem", {"event_id": "r-1"})).status == 200
    assert (await api.post("/api/v1/customers/C002/forget")).status == 200
    assert (await api.get("/api/v1/webhook-events/failed?limit=10")).status == 200
    assert (await api.post("/api/v1/webhook-events/retry", {"all": True})).status == 200

    document = await api.openapi()
    successes = {
        (method.upper(), path, int(status))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
        if int(status) < 300 and operation.get("security") != []
    }
    assert successes <= set(api.seen)


async def _voucher(deps: AppDeps) -> str:
    async with deps.uow() as uow, uow.transaction():
        owner = await uow.customers.by_external_id("C001")
        assert owner is not None
        value = Money(Decimal("10.00"), "CNY")
        kind = VoucherKind.COMPENSATION
        return issue_voucher(uow, customer_id=owner.id, kind=kind, value=value, now=NOW).code


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _placeholders(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
