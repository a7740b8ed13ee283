"""POST /api/v1/refunds/{id}/events: the merchant moves a refund on and the customer hears of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.wiring import AppDeps
from storage.enums import (
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestStatus,
)
from storage.models import Voucher
from tests.api.conftest import LINKED_USER
from tests.api.support import (
    MerchantClient,
    available,
    cny,
    context,
    counts,
    link,
    open_refund,
    order_row,
    outbox,
    refund_row,
    request_row,
)
from tests.conftest import NOW

CARD_ARRIVAL = {"unit": "business_days", "min": 3, "max": 5}


def events_of(refund_id: int) -> str:
    return f"/api/v1/refunds/{refund_id}/events"


def event(event_id: str, status: str, *, at: datetime = NOW, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "status": status, "occurred_at": at.isoformat(), **extra}


async def test_approved_processing_refunded_each_reach_the_customer_and_close_the_request(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    stock_before = await available(shop, "TS-BLUE-M")

    answers = [
        await api.post(
            events_of(refund_id), event(f"evt-{n}", status, at=NOW - timedelta(minutes=3 - n))
        )
        for n, status in enumerate(("approved", "processing", "refunded"))
    ]

    assert [a.status for a in answers] == [201, 201, 201]
    assert [(a.body["from_status"], a.body["status"]) for a in answers] == [
        ("pending_review", "approved"),
        ("approved", "processing"),
        ("processing", "refunded"),
    ]
    assert {a.body["customer_notice"] for a in answers} == {"queued"}
    assert answers[0].body["amount"] is None
    assert answers[0].body["currency"] == "CNY"
    *messages, survey = await outbox(shop)
    assert survey.template == "notify/survey"  # the request ended: how did we do?
    assert [m.template for m in messages] == ["notify/refund_status"] * 3
    assert {m.coalesce_key for m in messages} == {f"refund:{refund_id}"}
    assert len({m.dedupe_key for m in messages}) == 3
    assert {(m.chat_id, m.locale) for m in messages} == {(LINKED_USER, "en")}
    first = context(messages[0])
    assert first["status"] == "approved"
    assert first["amount"] == cny("109.00")
    assert first["method"] == "card"
    assert first["arrival"] == CARD_ARRIVAL
    assert first["expected_by"] is not None
    assert [context(m)["status"] for m in messages] == ["approved", "processing", "refunded"]

    refund = await refund_row(shop, refund_id)
    assert refund.status is RefundStatus.REFUNDED
    assert [e.external_event_id for e in refund.events] == [None, "evt-0", "evt-1", "evt-2"]
    assert {e.actor for e in refund.events[1:]} == {"merchant"}
    assert refund.request_id is not None
    request = await request_row(shop, refund.request_id)
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)
    assert request.closed_at is not None
    # The approval an agent was waiting for cancelled the order and restocked it.
    assert (await order_row(shop, "SO-1")).status is OrderStatus.CANCELLED
    assert await available(shop, "TS-BLUE-M") == stock_before + 1


async def test_a_repeated_event_id_answers_as_the_first_time_and_changes_nothing(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    first = await api.post(events_of(refund_id), event("evt-1", "processing", amount="100.00"))
    before = await counts(shop)

    again = await api.post(events_of(refund_id), event("evt-1", "processing", amount="100.00"))

    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers.get("X-Cancelbot-Replayed") == "true"
    assert "X-Cancelbot-Replayed" not in first.headers
    assert await counts(shop) == before
    # Still the first answer after the refund has moved on.
    await api.post(events_of(refund_id), event("evt-2", "refunded"))
    later = await api.post(events_of(refund_id), event("evt-1", "processing", amount="100.00"))
    assert (later.status, later.body) == (first.status, first.body)
    assert (await refund_row(shop, refund_id)).status is RefundStatus.REFUNDED


@pytest.mark.parametrize(
    ("refund", "status", "amount"),
    [("same", "refunded", None), ("other", "processing", None), ("same", "processing", "5.00")],
    ids=["another-status", "another-refund", "another-amount"],
)
async def test_an_event_id_reused_for_something_else_is_a_conflict(
    api: MerchantClient, shop: AppDeps, refund: str, status: str, amount: str | None
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    other_id = await open_refund(shop, "SO-2")
    await api.post(events_of(refund_id), event("evt-1", "processing"))
    before = await counts(shop)

    extra = {"amount": amount} if amount else {}
    target = refund_id if refund == "same" else other_id
    answer = await api.post(events_of(target), event("evt-1", status, **extra))

    assert answer.status == 409
    assert answer.body["error"]["code"] == "event_id_conflict"
    assert await counts(shop) == before
    assert (await refund_row(shop, other_id)).status is RefundStatus.APPROVED


async def test_an_illegal_transition_is_409_and_changes_nothing(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    await api.post(events_of(refund_id), event("evt-1", "refunded"))
    before = await counts(shop)

    answer = await api.post(events_of(refund_id), event("evt-2", "processing"))

    assert answer.status == 409
    assert answer.body["error"] == {
        "code": "illegal_transition",
        "message": "a refund cannot go from refunded to processing",
        "details": [],
    }
    assert await counts(shop) == before
    assert (await refund_row(shop, refund_id)).status is RefundStatus.REFUNDED


async def test_an_unknown_refund_is_404(api: MerchantClient, shop: AppDeps) -> None:
    before = await counts(shop)
    answer = await api.post(events_of(999), event("evt-1", "processing"))
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
    assert await counts(shop) == before


async def test_malformed_json_is_400(api: MerchantClient, shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    answer = await api.post(events_of(refund_id), b'{"event_id": "evt-1", ')
    assert answer.status == 400
    assert answer.body["error"]["code"] == "malformed_json"
    assert await counts(shop) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "shipped"}, "status"),
        ({"status": "pending_review"}, "status"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"occurred_at": 1795428000}, "occurred_at"),
        ({"amount": 12.5}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"event_id": "has spaces"}, "event_id"),
        ({"event_id": None}, "event_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_an_invalid_field_is_422_naming_it(
    api: MerchantClient, shop: AppDeps, change: dict[str, Any], field: str
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    answer = await api.post(events_of(refund_id), {**event("evt-1", "processing"), **change})
    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_failed"
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]
    assert await counts(shop) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "109.01"}, "is more than the refund (109.00 CNY)"),
        ({"amount": "1.001"}, "CNY amounts have at most 2 decimal places"),
        ({"amount": "0"}, "must be above 0"),
        ({"occurred_at": (NOW + timedelta(minutes=6)).isoformat()}, "is in the future"),
    ],
)
async def test_what_only_the_refund_can_judge_is_422_too(
    api: MerchantClient, shop: AppDeps, change: dict[str, Any], message: str
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    answer = await api.post(events_of(refund_id), {**event("evt-1", "processing"), **change})
    assert answer.status == 422
    (detail,) = answer.body["error"]["details"]
    assert (detail["field"], detail["message"]) == (next(iter(change)), message)
    assert await counts(shop) == before


async def test_an_amount_is_kept_with_the_event_and_shown(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    answer = await api.post(events_of(refund_id), event("evt-1", "refunded", amount="100"))
    assert answer.body["amount"] == "100.00"
    message, survey = await outbox(shop)
    assert survey.template == "notify/survey"
    assert context(message)["amount"] == cny("100.00")
    refund = await refund_row(shop, refund_id)
    assert refund.events[-1].amount == cny("100.00").amount
    assert refund.amount == cny("109.00").amount


async def test_a_rejection_tells_the_reason_and_denies_the_request(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    answer = await api.post(
        events_of(refund_id), event("evt-1", "rejected", note="The parcel was opened.")
    )
    assert answer.status == 201
    message, survey = await outbox(shop)
    assert context(message)["note"] == "The parcel was opened."
    assert survey.template == "notify/survey"  # denied is an answer too
    refund = await refund_row(shop, refund_id)
    assert refund.request_id is not None
    request = await request_row(shop, refund.request_id)
    assert (request.status, request.is_active) == (RequestStatus.DENIED, False)
    assert (await order_row(shop, "SO-1")).status is OrderStatus.PAID


@pytest.mark.parametrize(
    ("steps", "request_status", "active"),
    [
        (("cancelled",), RequestStatus.WITHDRAWN, False),
        (("processing", "failed"), RequestStatus.APPROVED, True),
    ],
    ids=["cancelled", "failed"],
)
async def test_the_request_follows_the_refund(
    api: MerchantClient,
    shop: AppDeps,
    steps: tuple[str, ...],
    request_status: RequestStatus,
    active: bool,
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    for n, status in enumerate(steps):
        assert (await api.post(events_of(refund_id), event(f"evt-{n}", status))).status == 201
    refund = await refund_row(shop, refund_id)
    assert refund.request_id is not None
    request = await request_row(shop, refund.request_id)
    assert (request.status, request.is_active) == (request_status, active)
    assert context((await outbox(shop))[-1])["status"] == steps[-1]


async def test_approving_store_credit_pays_it_at_once_as_a_voucher(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(
        shop, "SO-1", status=RefundStatus.PENDING_REVIEW, method=PaymentMethod.STORE_CREDIT
    )
    answer = await api.post(events_of(refund_id), event("evt-1", "approved"))
    assert (answer.body["from_status"], answer.body["status"]) == ("pending_review", "approved")
    refund = await refund_row(shop, refund_id)
    assert refund.status is RefundStatus.REFUNDED
    async with shop.uow() as uow:
        (voucher,) = (await uow.session.scalars(select(Voucher))).all()
    assert voucher.amount == refund.amount
    message, survey = await outbox(shop)
    assert survey.template == "notify/survey"  # paid at once: the request is completed
    assert context(message)["status"] == "refunded"
    assert context(message)["voucher"] == {
        "code": voucher.code,
        "value": cny(str(voucher.amount)),
        "expires_at": voucher.expires_at,
    }


async def test_a_customer_without_telegram_gets_no_message(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-3")
    answer = await api.post(events_of(refund_id), event("evt-1", "processing"))
    assert answer.status == 201
    assert answer.body["customer_notice"] == "not_linked"
    assert await outbox(shop) == []
    again = await api.post(events_of(refund_id), event("evt-1", "processing"))
    assert again.body == answer.body


@pytest.mark.parametrize(
    ("chosen", "language", "expected"),
    [("zh", "en", "zh"), (None, "zh-hans", "zh"), (None, "fr", "en")],
)
async def test_the_message_is_in_the_language_the_customer_reads(
    api: MerchantClient, shop: AppDeps, chosen: str | None, language: str, expected: str
) -> None:
    await link(shop, "C002", 9002, chosen_locale=chosen, language_code=language)
    refund_id = await open_refund(shop, "SO-3")
    await api.post(events_of(refund_id), event("evt-1", "processing"))
    (message,) = await outbox(shop)
    assert (message.chat_id, message.locale) == (9002, expected)
