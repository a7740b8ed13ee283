"""What the notifier tests share: their own templates, a keyboard registry, queued rows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.notifier import KeyboardRegistry, Notifier
from bot.config import Settings
from bot.services.domain.money import Money
from bot.services.outbox import Outbox
from bot.texts import Renderer, Texts
from bot.wiring import AppDeps, build_notifier
from storage.models import OutboxMessage
from tests.support.fake_telegram import FakeTelegram, SentMessage

TEMPLATES = Path(__file__).parent / "templates"
REFUND_AT = datetime(2026, 11, 20, 2, 5, tzinfo=UTC)
_NUMBER = re.compile(r"#(\d+)$")


def notice_renderer() -> Renderer:
    """The app's Renderer on this folder's templates (notice/refund, notice/broken)."""
    return Renderer(directory=TEMPLATES)


def refund_keyboard(spec: dict[str, Any], texts: Texts) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        text=texts.button("details"), callback_data=f"refund:{spec['refund_id']}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


KEYBOARDS: KeyboardRegistry = {"refund": refund_keyboard}


def refund_context(n: int, amount: str = "399.00", order: str = "SO-1002345") -> dict[str, Any]:
    return {"amount": Money(Decimal(amount), "CNY"), "order": order, "at": REFUND_AT, "n": n}


def configured(settings: Settings, fake: FakeTelegram, **notifier: Any) -> Settings:
    """`settings` pointed at the fake, with NOTIFIER_* overrides (max_attempts=3 …)."""
    overrides = {f"notifier_{name}": value for name, value in notifier.items()}
    return settings.model_copy(update={"telegram_api_base": fake.base_url, **overrides})


def make_notifier(deps: AppDeps, bot: Bot, settings: Settings) -> Notifier:
    """The notifier as wiring builds it, on the test templates and keyboards."""
    return build_notifier(
        replace(deps, renderer=notice_renderer(), settings=settings), bot, keyboards=KEYBOARDS
    )


async def reachable(fake: FakeTelegram, user_ids: Iterable[int]) -> None:
    """People who have sent /start, so the bot may write to them first."""
    for user_id in user_ids:
        await fake.user(user_id, first_name=f"User{user_id}").send("/start")


async def enqueue(deps: AppDeps, rows: Iterable[dict[str, Any]]) -> list[int]:
    """Queue rows as services do (`Outbox.enqueue` in one transaction); return their ids."""
    async with deps.uow() as uow, uow.transaction():
        outbox = Outbox(uow, deps.clock)
        messages = [outbox.enqueue(**row) for row in rows]
        await uow.flush()
        return [message.id for message in messages]


def refund_row(chat_id: int, n: int, **extra: Any) -> dict[str, Any]:
    """An outbox row for notice/refund numbered `n` (the number ends the message)."""
    return {
        "chat_id": chat_id,
        "locale": "en",
        "template": "notice/refund",
        "context": refund_context(n),
        "dedupe_key": f"refund-notice:{n}",
        **extra,
    }


async def row(deps: AppDeps, message_id: int) -> OutboxMessage:
    async with deps.uow() as uow:
        found = await uow.session.get(OutboxMessage, message_id)
    assert found is not None, message_id
    return found


def number(message: SentMessage) -> int:
    """The `#n` a refund notice ends with."""
    found = _NUMBER.search(message.text)
    assert found is not None, message.text
    return int(found.group(1))


def delivery_counts(fake: FakeTelegram) -> tuple[Counter[int], Counter[int]]:
    """(messages per chat, messages per notice number) as the fake received them."""
    sent = fake.sent_messages()
    return Counter(m.chat_id for m in sent), Counter(number(m) for m in sent)
