"""The events the merchant's webhook gave up on, over the API: listed, and queued again
(the same service as `cancelbot webhooks failed` / `retry`)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.wiring import AppDeps
from storage.enums import WebhookStatus
from storage.models import WebhookEvent
from tests.api.support import MerchantClient, open_refund


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Events are queued only when a webhook is configured (nothing posts them here)."""
    return settings.model_copy(update={"merchant_webhook_url": "https://shop.example/hooks"})


async def _fail_all(deps: AppDeps) -> list[str]:
    async with deps.uow() as uow, uow.transaction():
        rows = list(await uow.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        for row in rows:
            row.status, row.attempts, row.last_error = WebhookStatus.FAILED, 3, "HTTP 502"
    return [row.event_id for row in rows]


async def _statuses(deps: AppDeps) -> dict[str, WebhookStatus]:
    async with deps.uow() as uow:
        rows = await uow.session.scalars(select(WebhookEvent))
        return {row.event_id: row.status for row in rows}


async def test_failed_events_are_listed_and_the_named_ones_queued_again(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-1")
    await open_refund(shop, "SO-2")
    failed = await _fail_all(shop)
    assert len(failed) >= 2

    listed = await api.get("/api/v1/webhook-events/failed")
    assert listed.status == 200
    events = listed.body["events"]
    assert {event["event_id"] for event in events} == set(failed)
    assert {(event["attempts"], event["last_error"]) for event in events} == {(3, "HTTP 502")}
    assert len((await api.get("/api/v1/webhook-events/failed?limit=1")).body["events"]) == 1

    retried = await api.post(
        "/api/v1/webhook-events/retry", {"event_ids": [failed[0], "evt_unknown"]}
    )
    assert retried.status == 200
    assert retried.body == {"queued": 1, "not_failed": ["evt_unknown"]}
    statuses = await _statuses(shop)
    assert statuses[failed[0]] is WebhookStatus.PENDING
    assert [statuses[event_id] for event_id in failed[1:]] == [WebhookStatus.FAILED] * (
        len(failed) - 1
    )

    everything = await api.post("/api/v1/webhook-events/retry", {"all": True})
    assert everything.body == {"queued": len(failed) - 1, "not_failed": []}
    assert set((await _statuses(shop)).values()) == {WebhookStatus.PENDING}
    assert (await api.get("/api/v1/webhook-events/failed")).body == {"events": []}


@pytest.mark.parametrize(
    "body",
    [{}, {"all": True, "event_ids": ["x"]}, {"event_ids": []}, {"all": False}],
    ids=["neither", "both", "no-ids", "all-false"],
)
async def test_a_retry_must_name_events_or_say_all(
    api: MerchantClient, shop: AppDeps, body: dict[str, object]
) -> None:
    answer = await api.post("/api/v1/webhook-events/retry", body)
    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_failed"


async def test_unsigned_requests_neither_list_nor_queue(api: MerchantClient, shop: AppDeps) -> None:
    await open_refund(shop, "SO-1")
    failed = await _fail_all(shop)
    listed = await api.get("/api/v1/webhook-events/failed", signed=False)
    retried = await api.post("/api/v1/webhook-events/retry", {"all": True}, signed=False)
    assert (listed.status, retried.status) == (401, 401)
    assert set((await _statuses(shop)).values()) == {WebhookStatus.FAILED}
    assert len(failed) >= 1
