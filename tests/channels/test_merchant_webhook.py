"""The merchant's webhook sender against a local endpoint: signed POSTs with stable event
ids, retries after 5xx and timeouts with backoff, giving up after the last attempt, one
customer's events in order, and nothing queued without MERCHANT_WEBHOOK_URL."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from pydantic import SecretStr
from sqlalchemy import select

from bot.api.openapi import openapi_document
from bot.api.routes import ENDPOINTS, PREFIX
from bot.channels.merchant_webhook import Backoff, WebhookConfig, WebhookSender
from bot.cli import main as cli_main
from bot.config import ConfigError, Settings, load_settings
from bot.services.domain.clock import FixedClock
from bot.services.domain.money import Money
from bot.services.merchant.webhook_payloads import EventType
from bot.services.refunds.service import RefundLedger
from bot.services.refunds.vouchers import issue_voucher
from bot.wiring import AppDeps, build_webhook_sender
from storage.enums import PaymentMethod, RefundStatus, VoucherKind, WebhookStatus
from storage.models import WebhookEvent
from tests.api.support import SECRET, customer, item, load, order, refund_row
from tests.conftest import NOW
from tests.support.merchant_endpoint import HANG, MerchantEndpoint

URL_PLACEHOLDER = "http://127.0.0.1:9/hooks/cancelbot"  # replaced by the endpoint's own


@pytest.fixture
async def endpoint(clock: FixedClock) -> AsyncIterator[MerchantEndpoint]:
    async with MerchantEndpoint(SECRET.encode(), clock.now) as endpoint:
        yield endpoint


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "merchant_api_secret": SecretStr(SECRET),
            "merchant_webhook_url": URL_PLACEHOLDER,
            "merchant_webhook_timeout_seconds": 0.5,
            "merchant_webhook_max_attempts": 3,
        }
    )


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS-BLUE-M", "99.00")),
            order("SO-2", "C001", item("MUG", "100.00", category="home")),
            order("SO-3", "C002", item("HAT", "50.00")),
        ],
    )
    return deps


def sender(deps: AppDeps, endpoint: MerchantEndpoint, seed: int = 7) -> WebhookSender:
    """A sender configured from the settings, aimed at the test endpoint, seeded jitter."""
    config = WebhookConfig.from_settings(deps.settings)
    assert config is not None
    return WebhookSender(
        deps.uow,
        deps.clock,
        replace(config, url=endpoint.url),
        backoff=Backoff(config.backoff_base, config.backoff_cap, random.Random(seed)),
    )


async def open_refund(deps: AppDeps, number: str) -> int:
    """A refund opened by the ledger, as every refund is: one `refund.state_changed`."""
    async with deps.uow() as uow, uow.transaction():
        found = await uow.orders.by_number(number)
        assert found is not None
        refund = RefundLedger(uow, deps.clock).open(
            order_id=found.id,
            customer_id=found.customer_id,
            amount=Money(found.total, found.currency),
            method=PaymentMethod.CARD,
            status=RefundStatus.APPROVED,
        )
        await uow.flush()
        return refund.id


async def events(deps: AppDeps) -> list[WebhookEvent]:
    async with deps.uow() as uow:
        return list(await uow.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


async def test_an_event_is_posted_signed_with_its_id_and_documented_payload(
    shop: AppDeps, endpoint: MerchantEndpoint
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    webhook = sender(shop, endpoint)

    assert await webhook.drain() == 1
    await webhook.close()

    [got] = endpoint.accepted
    assert (endpoint.unsigned, endpoint.invalid) == (0, [])
    [row] = await events(shop)
    assert (row.status, row.attempts, row.event_id) == (WebhookStatus.DELIVERED, 1, got.id)
    assert got.id.startswith("evt_")
    assert got.body["version"] == 1
    assert got.type == "refund.state_changed"
    assert got.data == {
        "refund_id": refund_id,
        "order": "SO-1",
        "customer_id": "C001",
        "request_id": None,
        "offer_id": None,
        "amount": "109.00",
        "currency": "CNY",
        "method": "card",
        "from_status": None,
        "status": "approved",
        "actor": "bot",
        "event_id": None,
        "event_amount": None,
        "note": None,
        "expected_by": None,
    }
    assert got.body["occurred_at"] == NOW.isoformat().replace("+00:00", "Z")


async def test_a_500_is_retried_later_with_the_same_event_id(
    shop: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    await open_refund(shop, "SO-1")
    endpoint.script = [500]
    webhook = sender(shop, endpoint)

    assert await webhook.drain() == 0
    [row] = await events(shop)
    assert (row.status, row.attempts) == (WebhookStatus.PENDING, 1)
    assert row.last_error == "HTTP 500 Internal Server Error"
    # The first wait is 5 s, jittered down to no less than half of it.
    wait = (row.available_at - NOW).total_seconds()
    assert 2.5 <= wait <= 5.0
    assert await webhook.drain() == 0, "not due yet"

    clock.advance(timedelta(seconds=wait))
    assert await webhook.drain() == 1
    await webhook.close()

    first, second = endpoint.received
    assert first.id == second.id
    assert first.body == second.body
    [row] = await events(shop)
    assert (row.status, row.attempts, row.last_error) == (WebhookStatus.DELIVERED, 2, None)


async def test_no_answer_within_the_timeout_is_retried(
    shop: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    await open_refund(shop, "SO-1")
    endpoint.script = [HANG]
    webhook = sender(shop, endpoint)

    assert await webhook.drain() == 0
    [row] = await events(shop)
    assert (row.status, row.attempts) == (WebhookStatus.PENDING, 1)
    assert row.last_error == "no answer within 0.5 s"

    clock.advance(timedelta(seconds=5))
    assert await webhook.drain() == 1
    await webhook.close()
    assert [got.id for got in endpoint.accepted] == [row.event_id]


async def test_retry_after_is_waited_and_the_last_attempt_gives_up(
    shop: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    await open_refund(shop, "SO-1")
    endpoint.default = 503  # answers with Retry-After: 120
    webhook = sender(shop, endpoint)

    for attempt in (1, 2):
        assert await webhook.drain() == 0
        [row] = await events(shop)
        assert (row.status, row.attempts) == (WebhookStatus.PENDING, attempt)
        assert row.available_at - clock.now() >= timedelta(seconds=120)
        clock.set(row.available_at)
    assert await webhook.drain() == 0  # the third of MERCHANT_WEBHOOK_MAX_ATTEMPTS=3
    await webhook.close()

    [row] = await events(shop)
    assert (row.status, row.attempts) == (WebhookStatus.FAILED, 3)
    assert row.last_error == "HTTP 503 Service Unavailable"
    assert len(endpoint.received) == 3
    async with shop.uow() as uow:
        assert [failed.id for failed in await uow.webhooks.failed()] == [row.id]
    clock.advance(timedelta(days=1))
    assert await webhook.drain() == 0
    assert len(endpoint.received) == 3, "a failed event is never sent again"


async def test_an_operator_sees_a_failed_event_and_sends_it_again_once_fixed(
    shop: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    await open_refund(shop, "SO-1")
    endpoint.default = 500
    webhook = sender(shop, endpoint)
    for _ in range(3):  # MERCHANT_WEBHOOK_MAX_ATTEMPTS
        assert await webhook.drain() == 0
        clock.set((await events(shop))[0].available_at)
    [row] = await events(shop)
    assert row.status is WebhookStatus.FAILED

    async with shop.uow() as uow:
        operations = shop.services(uow).webhook_operations
        [failed] = await operations.failed()
        assert (failed.event_id, failed.attempts) == (row.event_id, 3)
        assert failed.last_error == "HTTP 500 Internal Server Error"
        done = await operations.retry([row.event_id, "evt_unknown"])
    assert (done.count, done.not_failed) == (1, ("evt_unknown",))
    [row] = await events(shop)
    assert (row.status, row.attempts, row.available_at) == (WebhookStatus.PENDING, 0, clock.now())

    endpoint.default = 200  # the merchant fixed their side
    assert await webhook.drain() == 1
    await webhook.close()
    assert {received.id for received in endpoint.received} == {row.event_id}  # same id
    assert endpoint.received[-1].body == endpoint.received[0].body
    [row] = await events(shop)
    assert (row.status, row.attempts) == (WebhookStatus.DELIVERED, 1)
    async with shop.uow() as uow:
        operations = shop.services(uow).webhook_operations
        assert await operations.failed() == []
        assert (await operations.retry(None)).count == 0, "nothing failed: nothing to send"


async def test_the_command_line_lists_and_retries_failed_events(
    shop: AppDeps,
    endpoint: MerchantEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cancelbot webhooks failed --json` and `cancelbot webhooks retry` on the same rows
    (the command runs its own event loop, in a thread of its own)."""
    await open_refund(shop, "SO-2")
    async with shop.uow() as uow, uow.transaction():
        [row] = await uow.session.scalars(select(WebhookEvent))
        row.status, row.attempts, row.last_error = WebhookStatus.FAILED, 3, "HTTP 502"
        event_id = row.event_id
    monkeypatch.setenv("DATABASE_URL", shop.settings.database_url)
    for name in ("BOT_TOKEN", "POLICY_FILE", "MERCHANT_WEBHOOK_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    if shop.settings.database_schema:
        monkeypatch.setenv("DATABASE_SCHEMA", shop.settings.database_schema)

    async def cancelbot(*args: str) -> int | str | None:
        with pytest.raises(SystemExit) as exit_code:
            await asyncio.to_thread(cli_main, list(args))
        return exit_code.value.code

    assert await cancelbot("webhooks", "failed", "--json") == 0
    [line] = capsys.readouterr().out.splitlines()
    listed = json.loads(line)
    assert (listed["event_id"], listed["attempts"], listed["last_error"]) == (
        event_id,
        3,
        "HTTP 502",
    )

    assert await cancelbot("webhooks", "retry", event_id, "evt_nope") == 1  # one not failed
    out, err = capsys.readouterr()
    assert "1 event(s) queued again" in out
    assert "evt_nope: not a failed event" in err
    assert await cancelbot("webhooks", "retry") == 2  # neither ids nor --all
    [row] = await events(shop)
    assert (row.status, row.attempts) == (WebhookStatus.PENDING, 0)


async def test_a_customers_events_wait_for_their_elder_others_do_not(
    shop: AppDeps, endpoint: MerchantEndpoint, clock: FixedClock
) -> None:
    first = await open_refund(shop, "SO-1")  # C001
    second = await open_refund(shop, "SO-2")  # C001 again
    other = await open_refund(shop, "SO-3")  # C002
    endpoint.script = [500]  # the first POST (C001's first event) fails
    webhook = sender(shop, endpoint)

    assert await webhook.drain() == 1
    assert [got.data["refund_id"] for got in endpoint.accepted] == [other]

    clock.advance(timedelta(seconds=5))
    assert await webhook.drain() == 2
    await webhook.close()
    assert [got.data["refund_id"] for got in endpoint.accepted] == [other, first, second]


async def test_a_wrong_secret_is_refused_by_the_merchant_and_retried(
    shop: AppDeps, endpoint: MerchantEndpoint
) -> None:
    """The endpoint checks exactly what the merchant API checks: another key fails it."""
    await open_refund(shop, "SO-1")
    config = WebhookConfig(url=endpoint.url, secret=b"another-secret-of-32-bytes-long!!")
    webhook = WebhookSender(shop.uow, shop.clock, config)

    assert await webhook.drain() == 0
    await webhook.close()
    assert (endpoint.unsigned, endpoint.accepted) == (1, [])
    [row] = await events(shop)
    assert (row.status, row.last_error) == (WebhookStatus.PENDING, "HTTP 401 Unauthorized")


async def issue_then_fail(deps: AppDeps) -> None:
    async with deps.uow() as uow, uow.transaction():
        found = await uow.orders.by_number("SO-1")
        assert found is not None
        issue_voucher(
            uow,
            customer_id=found.customer_id,
            kind=VoucherKind.COMPENSATION,
            value=Money(Decimal("10.00"), "CNY"),
            now=NOW,
        )
        raise RuntimeError("the change failed")


async def test_a_rolled_back_change_queues_no_event(shop: AppDeps) -> None:
    with pytest.raises(RuntimeError):
        await issue_then_fail(shop)
    assert await events(shop) == []
    async with shop.uow() as uow:
        owner = await uow.customers.by_external_id("C001")
        assert owner is not None
        assert list(await uow.vouchers.for_customer(owner.id)) == []


async def test_a_voucher_names_its_code_value_customer_and_expiry(
    shop: AppDeps, endpoint: MerchantEndpoint
) -> None:
    async with shop.uow() as uow, uow.transaction():
        found = await uow.orders.by_number("SO-3")
        assert found is not None
        voucher = issue_voucher(
            uow,
            customer_id=found.customer_id,
            kind=VoucherKind.COMPENSATION,
            value=Money(Decimal("15.00"), "CNY"),
            now=NOW,
        )
    webhook = sender(shop, endpoint)
    assert await webhook.drain() == 1
    await webhook.close()

    [got] = endpoint.accepted
    assert got.type == "voucher.issued"
    assert got.data == {
        "code": voucher.code,
        "kind": "compensation",
        "value": "15.00",
        "currency": "CNY",
        "customer_id": "C002",
        "order": None,
        "request_id": None,
        "offer_id": None,
        "created_at": "2026-11-23T10:00:00Z",
        "expires_at": "2027-11-23T10:00:00Z",
    }


def test_backoff_doubles_from_5_s_to_an_hour_jittered_down_to_half() -> None:
    backoff = Backoff(5.0, 3600.0, random.Random(1))
    for attempt in range(1, 30):
        step = min(3600.0, 5.0 * 2 ** (attempt - 1))
        assert step / 2 <= backoff.delay(attempt) <= step
    assert backoff.delay(1, at_least=120) == 120
    assert backoff.delay(1, at_least=10_000) == 3600


async def test_a_url_needs_the_secret_that_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCHANT_WEBHOOK_URL", "https://shop.example.com/hooks")
    monkeypatch.delenv("MERCHANT_API_SECRET", raising=False)
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None)
    assert refused.value.lines == [
        "SETTINGS: MERCHANT_WEBHOOK_URL needs MERCHANT_API_SECRET: every event is signed with it"
    ]


class TestWithoutAUrl:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"merchant_webhook_url": None})

    async def test_nothing_is_queued_and_no_sender_runs(self, shop: AppDeps) -> None:
        refund_id = await open_refund(shop, "SO-1")
        assert (await refund_row(shop, refund_id)).status is RefundStatus.APPROVED
        assert await events(shop) == []
        assert build_webhook_sender(shop) is None


async def test_the_served_openapi_document_describes_every_event_as_posted(
    shop: AppDeps, endpoint: MerchantEndpoint
) -> None:
    """Each event type is under `webhooks`, and real bodies validate against its schema."""
    document = openapi_document(ENDPOINTS, PREFIX)
    assert set(document["webhooks"]) == {kind.value for kind in EventType}
    await open_refund(shop, "SO-1")
    async with shop.uow() as uow, uow.transaction():
        found = await uow.orders.by_number("SO-3")
        assert found is not None
        issue_voucher(
            uow,
            customer_id=found.customer_id,
            kind=VoucherKind.COMPENSATION,
            value=Money(Decimal("15.00"), "CNY"),
            now=NOW,
        )
    webhook = sender(shop, endpoint)
    assert await webhook.drain() == 2
    await webhook.close()

    for got in endpoint.accepted:
        operation = document["webhooks"][got.type]["post"]
        headers = {parameter["name"] for parameter in operation["parameters"]}
        assert headers <= set(got.headers)
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(got.body)
