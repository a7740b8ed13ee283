"""A group (the agents') next to customers: its 429 and its slow budget are its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from aiogram import Bot

from bot.channels.rate_limit import RateLimiter
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps, build_notifier
from storage.enums import OutboxStatus
from tests.conftest import NOW
from tests.notifier.support import KEYBOARDS, enqueue, notice_renderer, reachable, refund_row, row
from tests.support.fake_telegram import FakeTelegram, VirtualTime

ANN, BOB = 1001, 1002
GROUP = -1001234567890


async def test_a_429_from_the_group_holds_back_only_the_group(
    deps: AppDeps, bot: Bot, notifier_settings: Settings, fake: FakeTelegram, clock: FixedClock
) -> None:
    time = VirtualTime()  # the group's 30 s pause passes when the notifier sleeps on it
    notifier = build_notifier(
        replace(deps, renderer=notice_renderer(), settings=notifier_settings),
        bot,
        keyboards=KEYBOARDS,
        limiter=RateLimiter(25, 1, clock=time.now, sleep=time.sleep),
    )
    fake.group(GROUP)
    await reachable(fake, [ANN, BOB])
    fake.fail_next("sendMessage", error_code=429, retry_after=30, chat_id=GROUP)
    group_id, *people = await enqueue(
        deps, [refund_row(GROUP, 1), refund_row(ANN, 2), refund_row(BOB, 3)]
    )

    assert await notifier.drain() == 2

    waiting = await row(deps, group_id)
    assert (waiting.status, waiting.available_at) == (
        OutboxStatus.PENDING,
        NOW + timedelta(seconds=30),
    )
    assert all([(await row(deps, i)).status is OutboxStatus.SENT for i in people])

    clock.advance(timedelta(seconds=30))
    assert await notifier.drain() == 1
    assert [m.chat_id for m in fake.sent_messages(GROUP)] == [GROUP]
