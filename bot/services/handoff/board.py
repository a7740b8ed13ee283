"""What the agents' group must show, staged in the caller's transaction.

A case reaches the group as outbox rows for the group's chat (`kind` says how the
notifier delivers them, `topic_id` into which customer's topic): the topic's name, the
case card, the customer's photo, notices. Nothing here talks to Telegram; the notifier
(bot.channels.handoff_delivery) creates the topic when its first row goes out, renders
the card from the database when it sends it, and spends the group's own budget.

Rows that only ever show the latest state (the card, the topic's name) share a coalesce
key, so a burst of changes costs one edit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bot.services.domain.clock import Clock
from bot.services.outbox import Outbox
from storage.enums import DeliveryKind, HandoffState, TicketReason, TicketStatus
from storage.models import AgentTopic, Handoff, Ticket
from storage.uow import UnitOfWork

# A case with these reasons is a conversation at once: the customer's messages go to the
# agents. Other cases (an approval, a failed refund) wait in their topic until an agent
# writes to the customer.
LIVE_REASONS = frozenset(
    {
        TicketReason.CUSTOMER_ASKED,
        TicketReason.NOT_UNDERSTOOD,
        TicketReason.NOT_ELIGIBLE,
        TicketReason.AGENT_FOLLOW_UP,
    }
)
CARD_TEMPLATE = "agent/card"
NOT_RENDERED = "-"  # a row that sends no text of its own (closing a topic, a copy)
NAME_TEMPLATE = "agent/plain/topic_name"
PHOTO_TEMPLATE = "agent/photo"


@dataclass(frozen=True, slots=True)
class Desk:
    """The agents' group, verified at start: where cases go and the agents' language."""

    chat_id: int
    locale: str


async def ready_desk(uow: UnitOfWork) -> Desk | None:
    """The verified agents' group, or None: no group, or one the bot cannot work in."""
    desk = await uow.handoffs.desk()
    if desk is None or not desk.ready or desk.chat_id is None:
        return None
    return Desk(desk.chat_id, desk.locale)


async def desk_locale(uow: UnitOfWork) -> str:
    desk = await uow.handoffs.desk()
    return desk.locale if desk is not None else "en"


class Board:
    """Stages the agents' view of cases; never commits."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._outbox = Outbox(uow, clock)

    async def open_case(self, ticket: Ticket, desk: Desk, *, live: bool) -> Handoff:
        """The ticket's case in the customer's topic (claimed now if they have none).

        The topic row is unique per group and chat, so two first messages at once give
        one topic; the notifier creates it on Telegram when the first row goes out.
        """
        now = self._clock.now()
        handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
        if handoff is None:
            topic = await self._uow.handoffs.claim_topic(
                group_chat_id=desk.chat_id,
                chat_id=ticket.chat_id,
                customer_id=ticket.customer_id,
                at=now,
            )
            handoff = Handoff(
                ticket_id=ticket.id,
                topic_id=topic.id,
                state=HandoffState.NEW,
                created_at=now,
                updated_at=now,
            )
            self._uow.handoffs.add_handoff(handoff)
            await self._uow.flush()
            self.rename(topic.id, desk.chat_id, desk.locale)
            self.refresh_card(handoff, desk.chat_id, desk.locale)
            await self._post_photo(ticket, handoff, desk)
        else:
            self.refresh_card(handoff, desk.chat_id, desk.locale)
        if live:
            await self._uow.handoffs.set_live_ticket(ticket.telegram_user_id, ticket.id)
        return handoff

    async def close_case(self, ticket: Ticket) -> Handoff | None:
        """The ticket is closed: its case too, the customer is back with the bot, and the
        topic is closed (a later case of theirs reopens it)."""
        now = self._clock.now()
        ticket.status, ticket.closed_at = TicketStatus.CLOSED, now
        await self._uow.handoffs.clear_live_ticket(ticket.id)
        handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
        if handoff is None or handoff.state is HandoffState.CLOSED:
            return handoff
        handoff.state, handoff.closed_at, handoff.updated_at = HandoffState.CLOSED, now, now
        topic = await self._uow.handoffs.topic(handoff.topic_id)
        assert topic is not None  # foreign key
        locale = await desk_locale(self._uow)
        self.refresh_card(handoff, topic.group_chat_id, locale)
        self.rename(topic.id, topic.group_chat_id, locale)
        self._outbox.enqueue(
            chat_id=topic.group_chat_id,
            locale=locale,
            template=NOT_RENDERED,
            context={},
            dedupe_key=f"handoff:{handoff.id}:close-topic",
            kind=DeliveryKind.TOPIC_CLOSE,
            topic_id=topic.id,
        )
        return handoff

    def set_state(
        self, handoff: Handoff, topic: AgentTopic, state: HandoffState, locale: str
    ) -> None:
        """Move an open case to `state`; the topic's name follows (one coalesced edit)."""
        if handoff.state is state or handoff.state is HandoffState.CLOSED:
            return
        handoff.state, handoff.updated_at = state, self._clock.now()
        self.rename(topic.id, topic.group_chat_id, locale)

    def refresh_card(self, handoff: Handoff, group_chat_id: int, locale: str) -> None:
        """Show the case's card as it is when it is sent: posted once, then edited."""
        self._outbox.enqueue(
            chat_id=group_chat_id,
            locale=locale,
            template=CARD_TEMPLATE,
            context={"handoff_id": handoff.id},
            dedupe_key=f"handoff:{handoff.id}:card:{secrets.token_hex(6)}",
            coalesce_key=f"handoff:{handoff.id}:card",
            kind=DeliveryKind.CARD,
            topic_id=handoff.topic_id,
        )

    def rename(self, topic_id: int, group_chat_id: int, locale: str) -> None:
        """Bring the topic's name in line with its case (order, customer, state)."""
        self._outbox.enqueue(
            chat_id=group_chat_id,
            locale=locale,
            template=NAME_TEMPLATE,
            context={},
            dedupe_key=f"topic:{topic_id}:name:{secrets.token_hex(6)}",
            coalesce_key=f"topic:{topic_id}:name",
            kind=DeliveryKind.TOPIC_NAME,
            topic_id=topic_id,
        )

    def notice(
        self,
        topic: AgentTopic,
        locale: str,
        template: str,
        context: dict[str, Any],
        *,
        key: str,
    ) -> None:
        """A message from the bot to the agents in the customer's topic."""
        self._outbox.enqueue(
            chat_id=topic.group_chat_id,
            locale=locale,
            template=template,
            context=context,
            dedupe_key=key,
            topic_id=topic.id,
        )

    async def notice_for_ticket(
        self, ticket: Ticket, template: str, context: dict[str, Any], *, key: str
    ) -> bool:
        """`notice` in the ticket's topic; False when the ticket has none."""
        handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
        if handoff is None:
            return False
        topic = await self._uow.handoffs.topic(handoff.topic_id)
        assert topic is not None
        self.notice(topic, await desk_locale(self._uow), template, context, key=key)
        return True

    async def _post_photo(self, ticket: Ticket, handoff: Handoff, desk: Desk) -> None:
        """The photo the customer sent during their case, right under the card."""
        case = await self._uow.cases.get(ticket.case_id) if ticket.case_id else None
        if case is None or case.photo_file_id is None:
            return
        self._outbox.enqueue(
            chat_id=desk.chat_id,
            locale=desk.locale,
            template=PHOTO_TEMPLATE,
            context={"file_id": case.photo_file_id, "reason_text": case.reason_text},
            dedupe_key=f"handoff:{handoff.id}:photo",
            kind=DeliveryKind.PHOTO,
            topic_id=handoff.topic_id,
        )
