"""Webhook mode: Telegram posts updates to the bot's HTTP server, secret header required."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.wiring import AppDeps
from storage.models import TelegramUser, TranscriptEntry
from tests.e2e.conftest import StartBot, free_port
from tests.support.fake_telegram import FakeTelegram, WebhookDelivery

SECRET = "s3cr3t-Token_value"


@pytest.fixture
async def webhook_bot(start_bot: StartBot) -> None:
    port = free_port()
    await start_bot(
        api_port=port,
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,
        webhook_path="/telegram/webhook",
    )


async def _rows(deps: AppDeps) -> tuple[int, int]:
    async with deps.uow() as uow:
        users = await uow.session.scalar(select(func.count()).select_from(TelegramUser))
        lines = await uow.session.scalar(select(func.count()).select_from(TranscriptEntry))
    return users or 0, lines or 0


@pytest.mark.usefixtures("webhook_bot")
async def test_updates_arrive_by_webhook_with_the_secret(fake: FakeTelegram) -> None:
    (webhook,) = fake.calls_to("setWebhook")
    assert webhook.params["url"].endswith("/telegram/webhook")
    assert webhook.params["secret_token"] == SECRET
    assert fake.calls_to("getUpdates") == []

    person = fake.user(6001, "Ann")
    await person.send("/start")
    await person.expect("let me find your account")
    await person.send("/help")
    await person.expect("What I can do")

    # The bot answers Telegram once the update is recorded in its inbox, before
    # handling it; both deliveries are recorded by now or soon.
    def delivered() -> list[WebhookDelivery]:
        return [d for d in fake.webhook_deliveries if not d.manual]

    await fake.wait_for(lambda: len(delivered()) == 2)
    assert [d.status for d in delivered()] == [200, 200]
    assert {d.secret_sent for d in delivered()} == {SECRET}


@pytest.mark.usefixtures("webhook_bot")
@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(
    fake: FakeTelegram, shop: AppDeps, secret: str | None
) -> None:
    before = await _rows(shop)
    update = fake.make_update(
        "message",
        {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 6002, "type": "private", "first_name": "Eve"},
            "from": {"id": 6002, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    )
    status = await fake.post_update_to_webhook(update, secret=secret)
    assert status == 401
    assert await _rows(shop) == before
    assert fake.sent_messages(chat_id=6002) == []
