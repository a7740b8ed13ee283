"""/metrics scraped while a real conversation runs: its counters move; /readyz is ready."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

from bot.services.insights import Period
from tests.conftest import NOW
from tests.e2e.cancellation.conftest import Scenario, settle
from tests.e2e.cancellation.test_approval_and_refund_methods import (
    cancel_before_shipping,
    paid_order,
)
from tests.support.fake_telegram import FakeTelegram


def value(text: str, series: str) -> float:
    """The value of one series in the Prometheus text format (0 when absent)."""
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def total(text: str, name: str) -> float:
    """The sum of every labelled series of a metric."""
    return sum(
        float(v) for v in re.findall(rf"^{re.escape(name)}\{{[^}}]*\}} ([0-9.e+-]+)$", text, re.M)
    )


async def scrape(port: int, path: str = "/metrics") -> str:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as reply:
        assert reply.status == 200, await reply.text()
        return await reply.text()


SUMMARY_HANDLED = (
    'cancelbot_updates_total{handler="dialogs.cancellation.outcome.summary_answered",'
    'outcome="handled"}'
)


async def scrape_once_counted(port: int, sample: str) -> str:
    """The metrics once `sample` is there: an update is counted when its handler returns,
    which can be just after the customer already saw its reply."""
    async with asyncio.timeout(5):
        while True:
            text = await scrape(port)
            if value(text, sample):
                return text
            await asyncio.sleep(0.05)


async def test_counters_move_when_a_conversation_runs(
    scenario: Scenario, fake: FakeTelegram
) -> None:
    ann = scenario.customer()
    order = paid_order(scenario, ann, "SO-9300001", "120.00")
    await scenario.load()
    server = scenario.server
    before = await scrape(server.port)

    chat = await scenario.link(ann)
    await cancel_before_shipping(chat, order, "130.00", agent=False)
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=ann_chat(chat) + 1)
    with pytest.raises(TelegramRetryAfter):
        await server.bot.send_message(ann_chat(chat) + 1, "x")
    with pytest.raises(TelegramBadRequest):
        await server.bot.send_message(ann_chat(chat), "<b>unclosed")
    after = await scrape_once_counted(server.port, SUMMARY_HANDLED)

    assert value(after, "cancelbot_flows_started_total") == 1 + value(
        before, "cancelbot_flows_started_total"
    )
    assert value(after, "cancelbot_flows_completed_total") == 1
    assert value(after, "cancelbot_flows_kept_total") == 0
    assert value(after, 'cancelbot_refunds{status="approved"}') == 1
    assert total(after, "cancelbot_updates_total") >= 5 + total(before, "cancelbot_updates_total")
    assert (
        value(
            after,
            'cancelbot_updates_total{handler="dialogs.cancellation.outcome.summary_answered",'
            'outcome="handled"}',
        )
        == 1
    )
    assert value(after, "cancelbot_update_handling_seconds_count") >= 5
    assert value(after, 'cancelbot_telegram_api_errors_total{code="429",method="sendMessage"}') == 1
    assert value(after, 'cancelbot_telegram_api_errors_total{code="400",method="sendMessage"}') == 1
    assert value(after, "cancelbot_polling_heartbeat_age_seconds") < 60

    ready = await scrape(server.port, "/readyz")
    assert '"polling": "ok"' in ready
    assert '"notifier": "ok"' in ready

    async with server.deps.uow() as uow:
        report = await server.deps.insights(uow).report(
            Period(NOW - timedelta(days=1), NOW + timedelta(seconds=1))
        )
    assert (report.flow.intents, report.flow.requests, report.flow.executed) == (1, 1, 1)
    assert report.refunds.approved_at_once == 1
    assert [(o.type.value, o.shown, o.accepted) for o in report.kept.offers if o.shown] == [
        ("store_credit", 1, 0)
    ]

    await settle(server)  # the notifier's sends end: the receipt is counted
    exposition = server.deps.telemetry.exposition().decode()
    assert value(exposition, 'cancelbot_notifier_messages_total{outcome="sent"}') >= 1


def ann_chat(chat: object) -> int:
    chat_id = getattr(chat, "chat_id")  # noqa: B009 - Chat.chat_id is a property
    assert isinstance(chat_id, int)
    return chat_id
