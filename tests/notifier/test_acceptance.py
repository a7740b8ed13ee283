"""The acceptance test: 2,000 queued notices to 500 chats, inside Telegram's flood limits.

At 25 messages a second this takes at least 80 s of real time by design; nothing here
asserts on time, only that every notice arrived exactly once, in order, with no 429.
"""

from __future__ import annotations

import pytest

from bot.channels.notifier import Notifier
from bot.wiring import AppDeps
from tests.notifier.support import delivery_counts, enqueue, number, reachable, refund_row
from tests.support.fake_telegram import FakeTelegram

CHATS = range(5001, 5501)
PER_CHAT = 4


@pytest.mark.slow
async def test_two_thousand_notices_to_five_hundred_chats(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, CHATS)
    await enqueue(
        deps,
        [
            refund_row(chat, n)
            for n, chat in enumerate(chat for _ in range(PER_CHAT) for chat in CHATS)
        ],
    )

    assert await notifier.drain() == len(CHATS) * PER_CHAT

    per_chat, per_notice = delivery_counts(fake)
    assert fake.too_many_requests == 0
    assert set(per_chat.values()) == {PER_CHAT}
    assert len(per_chat) == len(CHATS)
    assert set(per_notice.values()) == {1}
    assert len(per_notice) == len(CHATS) * PER_CHAT
    for chat in (CHATS[0], CHATS[-1]):
        numbers = [number(message) for message in fake.sent_messages(chat)]
        assert numbers == sorted(numbers)
    async with deps.uow() as uow:
        assert await uow.outbox.count_pending() == 0
        assert await uow.outbox.undelivered() == []
