"""The merchant sees what the bot promised: as a customer walks a cancellation in the chat
(and as the merchant's own API calls move things on), the running bot POSTs each request
created, offer accepted, voucher issued and refund step to MERCHANT_WEBHOOK_URL, signed
like the merchant's requests to us; an endpoint that fails never holds back the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.services.refunds.vouchers import voucher_notice
from storage.models import WebhookEvent
from tests.api.support import SECRET, MerchantClient
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
    ARRIVAL,
    confirm,
    give_reason,
    money,
    option,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import Scenario, item, settle
from tests.e2e.cancellation.rows import refunds_for, requests_for, vouchers_of
from tests.support.merchant_endpoint import MerchantEndpoint, Received

STAMP = NOW.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def endpoint(clock: FixedClock) -> AsyncIterator[MerchantEndpoint]:
    async with MerchantEndpoint(SECRET.encode(), clock.now) as endpoint:
        yield endpoint


@pytest.fixture
def settings(settings: Settings, endpoint: MerchantEndpoint) -> Settings:
    return settings.model_copy(
        update={
            "merchant_api_secret": SecretStr(SECRET),
            "merchant_webhook_url": endpoint.url,
        }
    )


def kinds(events: list[Received]) -> list[str]:
    return [event.type for event in events]


async def test_a_store_credit_cancellation_reaches_the_merchant_event_by_event(
    scenario: Scenario, endpoint: MerchantEndpoint, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(ann, "SO-9400001", item("Desk Lamp", "190.00"))
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.accept(store_credit("200.00"))
    await chat.expect_exactly(chat.summary(order, option("store_credit", "220.00", "20.00")))
    await confirm(chat)
    [voucher] = await vouchers_of(scenario.deps, ann)
    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="cancel",
        refund=money("220.00"),
        method="store_credit",
        approved=True,
        return_required=False,
        arrival=ARRIVAL["store_credit"],
        voucher=voucher_notice(voucher),
        by_agent=False,
    )

    events = await endpoint.wait_for(5)
    assert (endpoint.unsigned, endpoint.invalid) == (0, [])
    assert kinds(events) == [
        "request.created",
        "refund.state_changed",
        "voucher.issued",
        "refund.state_changed",
        "offer.accepted",
    ]
    assert len({event.id for event in events}) == 5
    created, opened, issued, paid, accepted = (event.data for event in events)
    [request] = await requests_for(scenario.deps, order.number)
    [refund] = await refunds_for(scenario.deps, order.number)
    assert created == {
        "request_id": request.id,
        "order": order.number,
        "customer_id": ann.id,
        "kind": "cancel",
        "status": "completed",  # store credit is paid at once: settled as it was made
        "initiated_by": "customer",
        "reason": "changed_mind",
        "rule": request.rule,
        "refund_amount": "200.00",
        "currency": "CNY",
        "items": [{"sku": "DESK-LAMP", "quantity": 1}],
        "created_at": STAMP,
    }
    assert (opened["refund_id"], opened["from_status"], opened["status"]) == (
        refund.id,
        None,
        "approved",
    )
    assert (paid["refund_id"], paid["from_status"], paid["status"]) == (
        refund.id,
        "approved",
        "refunded",
    )
    for step in (opened, paid):
        assert (step["amount"], step["method"], step["actor"], step["request_id"]) == (
            "220.00",
            "store_credit",
            "bot",
            request.id,
        )
    assert (issued["code"], issued["value"], issued["kind"], issued["order"]) == (
        voucher.code,
        "220.00",
        "bonus",
        order.number,
    )
    assert (issued["customer_id"], issued["request_id"]) == (ann.id, request.id)
    assert (accepted["type"], accepted["value"], accepted["order"]) == (
        "store_credit",
        "220.00",
        order.number,
    )

    await settle(scenario.server)
    assert len(endpoint.received) == 5, "each event once"


async def test_the_merchants_own_steps_come_back_with_their_event_id(
    scenario: Scenario, endpoint: MerchantEndpoint, api: MerchantClient
) -> None:
    """A refund event and a cancellation sent through the API are on the webhook too, so the
    merchant's other systems hear of them; `event_id` lets the sender skip its own echo."""
    bo = scenario.customer("Bo Chen")
    lamp = scenario.order(bo, "SO-9400002", item("Desk Lamp", "190.00"))
    kettle = scenario.order(bo, "SO-9400003", item("Kettle", "90.00"), status="processing")
    await scenario.load()
    chat = await scenario.link(bo)

    await to_reason(chat, lamp)
    await give_reason(chat, "changed_mind")
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(lamp, option("card", "200.00")))
    await confirm(chat)
    [refund] = await refunds_for(scenario.deps, lamp.number)
    answer = await api.post(
        f"/api/v1/refunds/{refund.id}/events",
        {"event_id": "psp-77", "status": "processing", "occurred_at": "2026-11-23T18:00:00+08:00"},
    )
    assert answer.status == 201
    answer = await api.post(
        f"/api/v1/orders/{kettle.number}/cancel", {"event_id": "cx-1", "reason": "out_of_stock"}
    )
    assert answer.status == 201

    events = await endpoint.wait_for(5)
    assert kinds(events) == [
        "request.created",
        "refund.state_changed",
        "refund.state_changed",
        "request.created",
        "refund.state_changed",
    ]
    processing = events[2].data
    assert (processing["status"], processing["actor"], processing["event_id"]) == (
        "processing",
        "merchant",
        "psp-77",
    )
    assert events[2].body["occurred_at"] == "2026-11-23T10:00:00Z"
    cancelled = events[3].data
    assert (cancelled["order"], cancelled["initiated_by"], cancelled["reason"]) == (
        kettle.number,
        "merchant",
        "out_of_stock",
    )
    assert (events[4].data["order"], events[4].data["actor"]) == (kettle.number, "merchant")


async def test_a_failing_endpoint_does_not_hold_back_the_customers_messages(
    scenario: Scenario, endpoint: MerchantEndpoint
) -> None:
    endpoint.default = 500
    ann = scenario.customer()
    order = scenario.order(ann, "SO-9400004", item("Desk Lamp", "190.00"))
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "200.00")))
    await confirm(chat)
    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="cancel",
        refund=money("200.00"),
        method="card",
        approved=True,
        return_required=False,
        arrival=ARRIVAL["card"],
        voucher=None,
        by_agent=False,
    )

    await endpoint.wait_for(1, answered=False)
    await settle(scenario.server)
    async with scenario.deps.uow() as uow:
        assert await uow.webhooks.count_pending() == 2  # request.created, refund.state_changed
    assert {event.type for event in endpoint.received} == {"request.created"}
    assert endpoint.accepted == []


class TestWithoutAUrl:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"merchant_webhook_url": None})

    async def test_nothing_is_queued_or_sent(
        self, scenario: Scenario, endpoint: MerchantEndpoint
    ) -> None:
        ann = scenario.customer()
        order = scenario.order(ann, "SO-9400005", item("Desk Lamp", "190.00"))
        await scenario.load()
        chat = await scenario.link(ann)

        await to_reason(chat, order)
        await give_reason(chat, "changed_mind")
        await chat.accept(store_credit("200.00"))
        await chat.expect_exactly(chat.summary(order, option("store_credit", "220.00", "20.00")))
        await confirm(chat)
        [voucher] = await vouchers_of(scenario.deps, ann)

        await settle(scenario.server)
        assert await webhook_rows(scenario) == 0
        assert endpoint.received == []
        assert voucher.code.startswith("VC-")


async def webhook_rows(scenario: Scenario) -> int:
    async with scenario.deps.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(WebhookEvent)) or 0
