"""The notifier against the fake Telegram: what is sent, and what each failure leaves behind.

The database clock is a FixedClock; retries become due when a test moves it to the
row's `available_at`. Waits between sends to one chat are real (about a second).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import timedelta

import pytest
from aiogram import Bot

from bot.channels.notifier import Notifier
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps, build_bot
from storage.enums import ConversationStatus, Direction, OutboxStatus
from storage.models import Conversation, TelegramUser
from storage.repositories.outbox import COALESCED_INTO
from tests.conftest import NOW
from tests.notifier.support import (
    configured,
    enqueue,
    make_notifier,
    notice_renderer,
    number,
    reachable,
    refund_context,
    refund_row,
    row,
)
from tests.support.fake_telegram import FakeTelegram

ANN, BOB = 1001, 1002
RENDERER = notice_renderer()


async def drain_with_retries(notifier: Notifier, deps: AppDeps, clock: FixedClock, id_: int) -> int:
    """Drain, moving the clock to each retry's time, until the row is settled."""
    sent = 0
    for _ in range(20):
        sent += await notifier.drain()
        current = await row(deps, id_)
        if current.status is not OutboxStatus.PENDING:
            return sent
        clock.set(current.available_at)
    raise AssertionError("the row never settled")


async def test_renders_each_row_in_its_locale_and_sends_it_once(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN, BOB])
    en, zh = await enqueue(deps, [refund_row(ANN, 1), refund_row(BOB, 2, locale="zh")])

    assert await notifier.drain() == 2
    assert await notifier.drain() == 0

    (to_ann,) = fake.sent_messages(ANN)
    (to_bob,) = fake.sent_messages(BOB)
    assert to_ann.html == RENDERER.render("en", "notice/refund", **refund_context(1))
    assert to_ann.text == (
        "Refund of ¥399.00 for order SO-1002345 is on its way since 20 Nov 2026, 02:05 (UTC). #1"
    )
    assert "<b>¥399.00</b>" in to_bob.html
    assert "2026年11月20日 02:05（UTC）" in to_bob.text
    for id_, message in ((en, to_ann), (zh, to_bob)):
        sent = await row(deps, id_)
        assert sent.status is OutboxStatus.SENT
        assert (sent.sent_at, sent.telegram_message_id) == (NOW, message.message_id)
        assert (sent.lease_owner, sent.lease_until, sent.attempts) == (notifier.owner, None, 0)
    assert fake.too_many_requests == 0


async def test_inline_keyboard_comes_from_the_registry(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN, BOB])
    _, unknown = await enqueue(
        deps,
        [
            refund_row(ANN, 1, keyboard={"kind": "refund", "refund_id": 7}),
            refund_row(BOB, 2, keyboard={"kind": "survey"}),
        ],
    )

    assert await notifier.drain() == 1

    (message,) = fake.sent_messages(ANN)
    assert message.inline_buttons() == [{"text": "Details", "callback_data": "refund:7"}]
    failed = await row(deps, unknown)
    assert failed.status is OutboxStatus.FAILED
    assert "no keyboard factory for kind 'survey'" in (failed.last_error or "")


async def test_a_sent_notice_joins_the_chats_latest_conversation(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN])
    async with deps.uow() as uow, uow.transaction():
        uow.telegram_users.add(TelegramUser(id=ANN, first_name="Ann"))
        await uow.flush()
        for status in (ConversationStatus.CLOSED, ConversationStatus.OPEN):
            uow.conversations.add(
                Conversation(
                    chat_id=ANN,
                    telegram_user_id=ANN,
                    status=status,
                    started_at=NOW,
                    last_activity_at=NOW,
                )
            )
    (id_,) = await enqueue(deps, [refund_row(ANN, 1, keyboard={"kind": "refund", "refund_id": 7})])

    assert await notifier.drain() == 1

    async with deps.uow() as uow:
        older, latest = await uow.conversations.for_chat(ANN)
        assert await uow.conversations.transcript(older.id) == []
        (entry,) = await uow.conversations.transcript(latest.id)
    (message,) = fake.sent_messages(ANN)
    assert (entry.direction, entry.kind) == (Direction.OUT, "notice")
    assert entry.text == RENDERER.render("en", "notice/refund", **refund_context(1))
    assert entry.telegram_message_id == message.message_id
    assert entry.payload == {"outbox_id": id_, "buttons": ["Details"]}


async def test_a_chat_that_blocked_the_bot_is_unreachable_and_not_retried(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN])
    async with deps.uow() as uow, uow.transaction():
        uow.telegram_users.add(TelegramUser(id=ANN, first_name="Ann"))
    fake.block(ANN)
    (id_,) = await enqueue(deps, [refund_row(ANN, 1)])

    assert await notifier.drain() == 0
    assert await notifier.drain() == 0

    blocked = await row(deps, id_)
    assert blocked.status is OutboxStatus.UNREACHABLE
    assert "bot was blocked by the user" in (blocked.last_error or "")
    async with deps.uow() as uow:
        user = await uow.telegram_users.get(ANN)
    assert user is not None
    assert user.blocked_at == NOW
    assert len(fake.calls_to("sendMessage")) == 1


async def test_retry_after_is_honoured_without_counting_an_attempt(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram, clock: FixedClock
) -> None:
    await reachable(fake, [ANN])
    fake.fail_next("sendMessage", error_code=429, retry_after=1)
    (id_,) = await enqueue(deps, [refund_row(ANN, 1)])

    assert await notifier.drain() == 0
    waiting = await row(deps, id_)
    assert waiting.status is OutboxStatus.PENDING
    assert (waiting.attempts, waiting.available_at) == (0, NOW + timedelta(seconds=1))
    assert waiting.lease_owner is None
    assert await notifier.drain() == 0  # not due yet

    clock.advance(timedelta(seconds=1))
    assert await notifier.drain() == 1
    assert (await row(deps, id_)).attempts == 0
    assert len(fake.sent_messages(ANN)) == 1


async def test_server_errors_are_retried_with_backoff(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram, clock: FixedClock
) -> None:
    await reachable(fake, [ANN])
    fake.server_errors("sendMessage", times=2)
    (id_,) = await enqueue(deps, [refund_row(ANN, 1)])

    assert await drain_with_retries(notifier, deps, clock, id_) == 1

    sent = await row(deps, id_)
    assert (sent.status, sent.attempts, sent.last_error) == (OutboxStatus.SENT, 2, None)
    assert sent.available_at <= NOW + timedelta(seconds=2 + 4)  # full jitter under 2 s, 4 s
    assert len(fake.sent_messages(ANN)) == 1
    assert len(fake.calls_to("sendMessage")) == 3


async def test_network_errors_are_retried_too(deps: AppDeps, settings: Settings) -> None:
    nowhere = settings.model_copy(update={"telegram_api_base": f"http://127.0.0.1:{free_port()}"})
    bot = build_bot(nowhere)
    try:
        notifier = make_notifier(deps, bot, nowhere)
        (id_,) = await enqueue(deps, [refund_row(ANN, 1)])

        assert await notifier.drain() == 0
    finally:
        await bot.session.close()

    waiting = await row(deps, id_)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    assert "TelegramNetworkError" in (waiting.last_error or "")
    assert waiting.lease_owner is None


async def test_a_message_that_keeps_failing_is_given_up_after_max_attempts(
    deps: AppDeps, bot: Bot, settings: Settings, fake: FakeTelegram, clock: FixedClock
) -> None:
    notifier = make_notifier(deps, bot, configured(settings, fake, max_attempts=3))
    await reachable(fake, [ANN])
    fake.server_errors("sendMessage", times=10)
    (id_,) = await enqueue(deps, [refund_row(ANN, 1)])

    assert await drain_with_retries(notifier, deps, clock, id_) == 0

    failed = await row(deps, id_)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 3)
    assert "Internal Server Error" in (failed.last_error or "")
    assert (failed.lease_owner, failed.lease_until) == (notifier.owner, None)
    assert len(fake.calls_to("sendMessage")) == 3
    async with deps.uow() as uow:
        assert [message.id for message in await uow.outbox.undelivered()] == [id_]


async def test_invalid_html_fails_at_once_with_telegrams_description(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN])
    (id_,) = await enqueue(
        deps, [refund_row(ANN, 1, template="notice/broken", context={"order": "SO-1"})]
    )

    assert await notifier.drain() == 0

    failed = await row(deps, id_)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert "can't parse entities" in (failed.last_error or "")
    assert len(fake.calls_to("sendMessage")) == 1


async def test_rendering_errors_fail_the_row_and_the_loop_goes_on(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    await reachable(fake, [ANN, BOB])
    missing, bad_context, _ = await enqueue(
        deps,
        [
            refund_row(ANN, 1, template="notice/nope"),
            refund_row(ANN, 2, context={"order": "SO-1"}),
            refund_row(BOB, 3),
        ],
    )

    with caplog.at_level(logging.WARNING, logger="bot.channels.notifier"):
        assert await notifier.drain() == 1

    assert [number(m) for m in fake.sent_messages()] == [3]
    for id_, error in ((missing, "TemplateNotFound"), (bad_context, "UndefinedError")):
        failed = await row(deps, id_)
        assert failed.status is OutboxStatus.FAILED
        assert error in (failed.last_error or "")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all(r.exc_info is not None for r in warnings)
    assert all("¥" not in r.getMessage() for r in caplog.records)  # never the text


async def test_queued_updates_with_one_coalesce_key_become_one_message(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN])
    first, second, newest = await enqueue(
        deps, [refund_row(ANN, n, coalesce_key="refund:42") for n in (1, 2, 3)]
    )

    assert await notifier.drain() == 1

    assert [number(m) for m in fake.sent_messages(ANN)] == [3]
    assert (await row(deps, newest)).status is OutboxStatus.SENT
    for id_ in (first, second):
        superseded = await row(deps, id_)
        assert superseded.status is OutboxStatus.SENT
        assert superseded.last_error == f"{COALESCED_INTO}{newest}"
        assert (superseded.sent_at, superseded.telegram_message_id) == (None, None)


async def test_one_chats_messages_go_in_order(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN, BOB])
    await enqueue(deps, [refund_row(chat, n) for n, chat in enumerate([ANN, BOB, ANN, ANN, BOB])])

    assert await notifier.drain() == 5

    assert [number(m) for m in fake.sent_messages(ANN)] == [0, 2, 3]
    assert [number(m) for m in fake.sent_messages(BOB)] == [1, 4]
    assert fake.too_many_requests == 0


async def test_run_wakes_when_kicked_and_stop_hands_back_untried_rows(
    deps: AppDeps, notifier: Notifier, fake: FakeTelegram
) -> None:
    await reachable(fake, [ANN])
    running = asyncio.create_task(notifier.run())
    first, second = await enqueue(deps, [refund_row(ANN, 1), refund_row(ANN, 2)])
    deps.outbox_signal.kick()  # what a handler does after committing outbox rows

    await fake.wait_for(lambda: fake.sent_messages(ANN), timeout=10)
    await notifier.stop()  # the second message is waiting for the chat's next second
    await asyncio.wait_for(running, timeout=10)

    assert [number(m) for m in fake.sent_messages(ANN)] == [1]
    assert (await row(deps, first)).status is OutboxStatus.SENT
    handed_back = await row(deps, second)
    assert (handed_back.status, handed_back.lease_owner, handed_back.attempts) == (
        OutboxStatus.PENDING,
        None,
        0,
    )


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
