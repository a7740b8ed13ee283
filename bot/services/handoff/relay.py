"""Copying messages between a customer's chat and their topic, through the outbox."""

from __future__ import annotations

from bot.services.domain.clock import Clock
from bot.services.handoff.board import NOT_RENDERED
from bot.services.handoff.people import RelayMessage
from bot.services.outbox import Outbox
from storage.enums import DeliveryKind, RelayDirection
from storage.models import RelayedMessage, Ticket
from storage.uow import UnitOfWork

COPY_TEMPLATE = NOT_RENDERED  # a copy has no text of its own


class Relay:
    """Stages copies and the source → copy records in the caller's transaction."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._outbox = Outbox(uow, clock)

    async def queue_copy(
        self,
        message: RelayMessage,
        chat_id: int,
        topic_id: int | None,
        locale: str,
        *,
        customer_id: int | None,
        alias: str | None = None,
        template: str = COPY_TEMPLATE,
    ) -> int:
        """One outbox row per message; an album's later parts join its queued row."""
        if message.media_group_id is not None:
            row = await self._uow.handoffs.open_album_row(
                chat_id, topic_id, message.media_group_id, self._clock.now()
            )
            if row is not None:
                ids = [*row.context.get("message_ids", []), message.message_id]
                row.context = {**row.context, "message_ids": ids}
                return row.id
        row = self._outbox.enqueue(
            chat_id=chat_id,
            customer_id=customer_id,
            locale=locale,
            template=template,
            context={
                "from_chat_id": message.chat_id,
                "message_ids": [message.message_id],
                "alias": alias,
                "html": message.html if alias else None,
                "kind": message.kind,
                "text": message.text,
            },
            dedupe_key=f"relay:{message.chat_id}:{message.message_id}",
            kind=DeliveryKind.COPY,
            topic_id=topic_id,
        )
        await self._uow.flush()
        return row.id

    def record(
        self,
        ticket: Ticket,
        direction: RelayDirection,
        message: RelayMessage,
        copy_chat_id: int,
        outbox_id: int,
        agent_id: int | None = None,
    ) -> None:
        self._uow.handoffs.add_relay(
            RelayedMessage(
                ticket_id=ticket.id,
                direction=direction,
                agent_id=agent_id,
                source_chat_id=message.chat_id,
                source_message_id=message.message_id,
                copy_chat_id=copy_chat_id,
                outbox_id=outbox_id,
                kind=message.kind,
                media_group_id=message.media_group_id,
                created_at=self._clock.now(),
            )
        )
