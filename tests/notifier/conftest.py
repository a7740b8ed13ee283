"""A rate-limited fake Telegram, and a notifier built by wiring that sends to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.channels.notifier import Notifier
from bot.config import Settings
from bot.wiring import AppDeps, build_bot
from tests.conftest import TEST_TOKEN
from tests.notifier.support import configured, make_notifier
from tests.support.fake_telegram import FakeTelegram, RateLimits

TELEGRAM_LIMITS = RateLimits(global_per_second=30, per_chat_per_second=1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """Telegram with its flood limits on: a 429 means the notifier went too fast."""
    async with FakeTelegram(token=TEST_TOKEN, rate_limits=TELEGRAM_LIMITS) as fake:
        yield fake
    assert fake.unimplemented_calls == []


@pytest.fixture
def notifier_settings(settings: Settings, fake: FakeTelegram) -> Settings:
    return configured(settings, fake)


@pytest.fixture
async def bot(notifier_settings: Settings) -> AsyncIterator[Bot]:
    bot = build_bot(notifier_settings)
    yield bot
    await bot.session.close()


@pytest.fixture
def notifier(deps: AppDeps, bot: Bot, notifier_settings: Settings) -> Notifier:
    return make_notifier(deps, bot, notifier_settings)
