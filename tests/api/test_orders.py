"""POST /api/v1/orders loads what the import file holds; the GETs read state and history back."""

from __future__ import annotations

from typing import Any

from bot.api.routes import MAX_RECORDS
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from tests.api.support import MerchantClient, counts, customer, item, open_refund, order, variant
from tests.conftest import NOW


async def test_new_and_changed_records_are_written(api: MerchantClient, shop: AppDeps) -> None:
    body = {
        "customers": [customer("C010", "Dan Wu", locale="zh")],
        "orders": [
            order("SO-10", "C010", item("TS-RED-M", "99.00", color="red")),
            order(
                "SO-1",
                "C001",
                item("TS-BLUE-M", "99.00", color="blue", size="M"),
                status="processing",
            ),
        ],
        "stock": [variant("TS-RED-M", "TS", "99.00", 5, color="red", size="M")],
    }
    answer = await api.post("/api/v1/orders", body)
    assert answer.status == 200
    assert answer.body == {
        "customers": {"created": 1, "updated": 0, "unchanged": 0},
        "orders": {"created": 1, "updated": 1, "unchanged": 0},
        "items": {"created": 1, "updated": 0, "deleted": 0},
        "stock": {"created": 0, "updated": 1, "unchanged": 0},
    }
    again = await api.post("/api/v1/orders", body)
    assert again.body["orders"] == {"created": 0, "updated": 0, "unchanged": 2}
    seen = (await api.get("/api/v1/orders/SO-10")).body
    assert (seen["customer_id"], seen["status"], seen["total"]) == ("C010", "paid", "109.00")


async def test_one_bad_record_writes_nothing_and_every_problem_is_listed(
    api: MerchantClient, shop: AppDeps
) -> None:
    good = order("SO-11", "C001", item("CUP", "200.00"))
    bad = order("SO-12", "C404", item("CUP", 12.5))
    before = await counts(shop)

    answer = await api.post("/api/v1/orders", {"orders": [good, bad]})

    assert answer.status == 422
    error = answer.body["error"]
    assert error["code"] == "invalid_records"
    assert error["message"].startswith("nothing was written")
    problems = {(d["record"], d["field"]) for d in error["details"]}
    assert ("orders[1] (SO-12)", "items[0].unit_price") in problems
    assert await counts(shop) == before


async def test_a_body_of_the_wrong_shape_is_refused(api: MerchantClient, shop: AppDeps) -> None:
    before = await counts(shop)
    assert (await api.post("/api/v1/orders", b"[1, 2")).status == 400
    answer = await api.post("/api/v1/orders", {"orderz": []})
    assert answer.status == 422
    assert [d["record"] for d in answer.body["error"]["details"]] == ["'orderz'"]
    too_many = {"customers": [customer(f"C{n:04d}") for n in range(MAX_RECORDS + 1)]}
    answer = await api.post("/api/v1/orders", too_many)
    assert (answer.status, answer.body["error"]["code"]) == (413, "too_large")
    assert await counts(shop) == before


async def test_an_order_reads_back_with_its_requests_and_refunds(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-2")
    event = {
        "event_id": "evt-1",
        "status": "processing",
        "occurred_at": NOW.isoformat(),
        "note": "batch 42",
    }
    await api.post(f"/api/v1/refunds/{refund_id}/events", event)

    seen = (await api.get("/api/v1/orders/SO-2")).body

    assert (seen["number"], seen["status"], seen["currency"], seen["total"]) == (
        "SO-2",
        "cancelled",
        "CNY",
        "310.00",
    )
    assert [(i["sku"], i["unit_price"]) for i in seen["items"]] == [
        ("MUG", "100.00"),
        ("CUP", "200.00"),
    ]
    (request,) = seen["requests"]
    assert (request["initiated_by"], request["reason"], request["active"]) == (
        "customer",
        "changed_mind",
        True,
    )
    (refund,) = seen["refunds"]
    assert (refund["id"], refund["status"], refund["amount"]) == (refund_id, "processing", "310.00")
    assert [(e["event_id"], e["status"], e["actor"], e["note"]) for e in refund["events"]] == [
        (None, "approved", "bot", None),
        ("evt-1", "processing", "merchant", "batch 42"),
    ]
    assert seen["replacements"] == []


async def test_a_refund_reads_back_with_its_history(api: MerchantClient, shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    await api.post(
        f"/api/v1/refunds/{refund_id}/events",
        {"event_id": "evt-1", "status": "approved", "occurred_at": NOW.isoformat()},
    )
    seen: dict[str, Any] = (await api.get(f"/api/v1/refunds/{refund_id}")).body
    assert (seen["order"], seen["method"], seen["status"], seen["currency"]) == (
        "SO-1",
        "card",
        "approved",
        "CNY",
    )
    assert seen["expected_by"] is not None
    assert [(e["from_status"], e["status"]) for e in seen["events"]] == [
        (None, "pending_review"),
        ("pending_review", "approved"),
    ]


async def test_a_merchant_cancellation_reads_back_as_the_merchant_s(
    api: MerchantClient, shop: AppDeps
) -> None:
    await api.post("/api/v1/orders/SO-1/cancel", {"event_id": "cx-1", "reason": "out_of_stock"})
    (request,) = (await api.get("/api/v1/orders/SO-1")).body["requests"]
    assert (request["initiated_by"], request["reason"], request["kind"]) == (
        "merchant",
        "out_of_stock",
        "cancel",
    )


async def test_unknown_ids_are_404(api: MerchantClient, shop: AppDeps) -> None:
    for path in ("/api/v1/refunds/404", "/api/v1/orders/SO-404", "/api/v1/refunds/abc"):
        answer = await api.get(path)
        assert (answer.status, answer.body["error"]["code"]) == (404, "not_found"), path


async def test_an_order_number_with_a_slash_is_reached_percent_encoded(
    api: MerchantClient, shop: AppDeps
) -> None:
    await api.post("/api/v1/orders", {"orders": [order("SO/7#1", "C001", item("CUP", "200.00"))]})
    seen = await api.get("/api/v1/orders/SO%2F7%231")
    assert (seen.status, seen.body["number"]) == (200, "SO/7#1")
    cancel = {"event_id": "cx-1", "reason": "other"}
    assert (await api.post("/api/v1/orders/SO%2F7%231/cancel", cancel)).status == 201
