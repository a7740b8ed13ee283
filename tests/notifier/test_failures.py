"""What each kind of failed send means for its row, and the retry delays."""

from __future__ import annotations

import random

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiohttp import ClientConnectionError

from bot.channels.notifier import Backoff, FailureKind, classify

SEND = SendMessage(chat_id=1, text="hello")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TelegramRetryAfter(SEND, "Too Many Requests", retry_after=3), FailureKind.RETRY_AFTER),
        (TelegramForbiddenError(SEND, "bot was blocked by the user"), FailureKind.UNREACHABLE),
        (TelegramBadRequest(SEND, "chat not found"), FailureKind.PERMANENT),
        (TelegramMigrateToChat(SEND, "migrated", migrate_to_chat_id=-100), FailureKind.PERMANENT),
        (TelegramServerError(SEND, "Bad Gateway"), FailureKind.TRANSIENT),
        (TelegramNetworkError(SEND, "ClientConnectorError: refused"), FailureKind.TRANSIENT),
        (TelegramUnauthorizedError(SEND, "Unauthorized"), FailureKind.TRANSIENT),
        (
            ClientDecodeError("Failed to decode object", ValueError(), "<html>"),
            FailureKind.TRANSIENT,
        ),
        (ClientConnectionError("reset"), FailureKind.TRANSIENT),
        (TimeoutError(), FailureKind.TRANSIENT),
        (ValueError("a bug"), FailureKind.PERMANENT),
    ],
)
def test_each_error_has_one_meaning(error: Exception, kind: FailureKind) -> None:
    assert classify(error).kind is kind


def test_retry_after_keeps_telegrams_delay_and_a_bug_keeps_its_traceback() -> None:
    assert classify(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=3)).retry_after == 3
    bug = ValueError("a bug")
    failure = classify(bug)
    assert failure.error is bug
    assert failure.reason == "unexpected ValueError: a bug"
    assert classify(TimeoutError()).reason == "TimeoutError"


def test_backoff_is_full_jitter_under_a_doubling_cap() -> None:
    backoff = Backoff(base=2, cap=60, rng=random.Random(7))
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (20, 60)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not clustered
