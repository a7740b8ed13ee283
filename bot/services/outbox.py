"""The outbox: a message owed to a customer, written in the same transaction as its cause.

Rows hold a template name, a JSON context and the locale, not text: the notifier
renders them when it sends, so a retry says exactly what the first try would
have. Money and datetimes are tagged in the JSON so they come back typed.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from storage.enums import DeliveryKind
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

_MONEY, _DATETIME, _DATE = "$money", "$datetime", "$date"


def encode_context(value: Any) -> Any:
    """Plain JSON for the database: Money, datetime and date become tagged objects."""
    if isinstance(value, Money):
        return {_MONEY: [value.plain(), value.currency]}
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): encode_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_context(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot keep {type(value).__name__} in an outbox context")


def decode_context(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, payload),) = value.items()
            if tag == _MONEY:
                return Money(Decimal(payload[0]), payload[1])
            if tag == _DATETIME:
                return datetime.fromisoformat(payload)
            if tag == _DATE:
                return date.fromisoformat(payload)
        return {key: decode_context(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_context(item) for item in value]
    return value


class OutboxSignal:
    """Rung after a commit that queued messages, so they go out now, not at the next poll.

    Only a hint: the notifier also polls, so a lost signal delays a message, never drops it.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def kick(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event.clear()


class Outbox:
    """Stages messages in the caller's transaction; it never commits on its own."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def enqueue(
        self,
        *,
        chat_id: int,
        locale: str,
        template: str,
        context: dict[str, Any],
        dedupe_key: str,
        customer_id: int | None = None,
        coalesce_key: str | None = None,
        keyboard: dict[str, Any] | None = None,
        kind: DeliveryKind = DeliveryKind.MESSAGE,
        topic_id: int | None = None,
    ) -> OutboxMessage:
        """`kind` and `topic_id` are for the agents' group (bot.services.handoff)."""
        now = self._clock.now()
        message = OutboxMessage(
            chat_id=chat_id,
            customer_id=customer_id,
            kind=kind,
            topic_id=topic_id,
            template=template,
            context=encode_context(context),
            keyboard=keyboard,
            locale=locale,
            dedupe_key=dedupe_key,
            coalesce_key=coalesce_key,
            available_at=now,
            created_at=now,
        )
        self._uow.outbox.add(message)
        return message
