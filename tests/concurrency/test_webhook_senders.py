"""Two webhook senders on one table deliver every event once: claims take each event's
row with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), and
a sender whose lease ran out can no longer record over the one that took its events."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.merchant_webhook import WebhookConfig, WebhookSender
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.services.domain.money import Money
from bot.services.refunds.vouchers import issue_voucher
from bot.wiring import AppDeps
from storage.enums import VoucherKind, WebhookStatus
from storage.models import WebhookEvent
from tests.api.support import SECRET
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer
from tests.support.merchant_endpoint import MerchantEndpoint

CUSTOMERS, VOUCHERS_EACH = 6, 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "merchant_api_secret": SecretStr(SECRET),
            "merchant_webhook_url": "http://127.0.0.1:9/unused",
        }
    )


@pytest.fixture
async def endpoint(clock: FixedClock) -> AsyncIterator[MerchantEndpoint]:
    async with MerchantEndpoint(SECRET.encode(), clock.now) as endpoint:
        yield endpoint


def sender(deps: AppDeps, endpoint: MerchantEndpoint, batch: int = 4) -> WebhookSender:
    config = WebhookConfig(url=endpoint.url, secret=SECRET.encode(), batch=batch)
    return WebhookSender(deps.uow, deps.clock, config)


async def issue_vouchers(deps: AppDeps) -> None:
    """VOUCHERS_EACH vouchers for each of CUSTOMERS customers: one event each."""
    customers = [
        make_customer(f"C-HOOK-{n}", phone=f"+86138000077{n:02d}") for n in range(CUSTOMERS)
    ]
    async with deps.uow() as uow:
        await add_all(uow, *customers)
        async with uow.transaction():
            for _ in range(VOUCHERS_EACH):
                for owner in customers:
                    issue_voucher(
                        uow,
                        customer_id=owner.id,
                        kind=VoucherKind.STORE_CREDIT,
                        value=Money(Decimal("20.00"), "CNY"),
                        now=NOW,
                    )


async def rows(deps: AppDeps) -> list[WebhookEvent]:
    async with deps.uow() as uow:
        return list(await uow.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


async def test_two_senders_deliver_every_event_once(
    deps: AppDeps, endpoint: MerchantEndpoint
) -> None:
    await issue_vouchers(deps)
    first, second = sender(deps, endpoint), sender(deps, endpoint)

    delivered = await asyncio.gather(first.drain(), second.drain())
    await first.close()
    await second.close()

    total = CUSTOMERS * VOUCHERS_EACH
    assert sum(delivered) == total
    assert endpoint.invalid == []
    counts = Counter(got.id for got in endpoint.received)
    assert len(counts) == total
    assert set(counts.values()) == {1}, "an event was posted twice"
    stored = await rows(deps)
    assert {row.status for row in stored} == {WebhookStatus.DELIVERED}
    assert {row.lease_owner for row in stored} <= {first.owner, second.owner}
    # Each customer's vouchers arrived in the order they were issued.
    by_customer: dict[str, list[str]] = {}
    for got in endpoint.received:
        by_customer.setdefault(got.data["customer_id"], []).append(got.data["code"])
    issued: dict[str, list[str]] = {}
    for row in stored:
        data = row.payload["data"]
        issued.setdefault(data["customer_id"], []).append(data["code"])
    assert by_customer == issued


async def test_an_expired_lease_passes_the_event_on_and_the_late_sender_cannot_record(
    deps: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    await issue_vouchers(deps)
    stalled, rescuer = sender(deps, endpoint, batch=1), sender(deps, endpoint, batch=1)
    async with deps.uow() as uow, uow.transaction():
        [claimed] = await uow.webhooks.claim(
            owner=stalled.owner, now=NOW, lease_until=NOW + timedelta(seconds=50), limit=1
        )
    async with deps.uow() as uow, uow.transaction():
        again = await uow.webhooks.claim(
            owner=rescuer.owner, now=NOW, lease_until=NOW + timedelta(seconds=50), limit=50
        )
    assert claimed.id not in {row.id for row in again}, "a leased event was claimed twice"
    assert claimed.ordering_key not in {row.ordering_key for row in again}

    clock.advance(timedelta(seconds=51))  # every lease has run out, the stalled one's too
    await rescuer.drain()
    await rescuer.close()
    async with deps.uow() as uow, uow.transaction():
        late = await uow.webhooks.mark_delivered(claimed.id, stalled.owner, at=clock.now())
    assert late is False
    [delivered] = [row for row in await rows(deps) if row.id == claimed.id]
    assert (delivered.status, delivered.lease_owner) == (WebhookStatus.DELIVERED, rescuer.owner)
    assert len(endpoint.received) == CUSTOMERS * VOUCHERS_EACH
