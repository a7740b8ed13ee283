"""The customer's side of a case with agents: asking for a person, talking, leaving.

While a ticket is live (`TelegramUser.handoff_ticket_id`), the customer's messages are
copied into their topic instead of reaching the bot's flows. Every copy goes through
the outbox, so it is restart-safe and inside the group's send budget; the source →
copy pair (`RelayedMessage`) is what edits are mirrored through.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.services.conversation.tickets import TicketService
from bot.services.domain.clock import Clock
from bot.services.handoff.board import NOT_RENDERED, Board, desk_locale, ready_desk
from bot.services.handoff.people import RelayMessage
from bot.services.handoff.relay import Relay
from bot.services.linking.identity import Identity
from bot.services.outbox import Outbox
from bot.services.policy import Policy
from storage.db import READ_ONLY
from storage.enums import DeliveryKind, HandoffState, RelayDirection, TicketReason, TicketStatus
from storage.models import AgentTopic, Handoff, Ticket
from storage.uow import UnitOfWork

EDIT_TEMPLATE = NOT_RENDERED  # the edited text comes with the row


@dataclass(frozen=True, slots=True)
class Escalation:
    """What the customer is told after asking for a person."""

    ticket_id: int
    is_new: bool
    with_agents: bool
    """The agents' group is ready: someone will reply in this chat."""
    position: int | None = None
    """Their place among the cases nobody took yet (None once an agent took it)."""
    opens_at: datetime | None = None
    """Outside working hours: when the agents are next at work."""


class Relayed(StrEnum):
    RELAYED = "relayed"
    DUPLICATE = "duplicate"  # the same update again: copied once already
    NO_CASE = "no_case"  # the case was closed meanwhile: the bot takes the message


class HandoffService:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._tickets = TicketService(uow, clock)
        self._board = Board(uow, clock)
        self._outbox = Outbox(uow, clock)
        self._relay = Relay(uow, clock)

    async def escalate(
        self, identity: Identity, reason: TicketReason, *, case_id: int | None = None
    ) -> Escalation:
        """The customer asked for a person (and confirmed): a ticket, and with a ready
        agents' group their case in a topic, their place in the queue and the hours."""
        async with self._uow.transaction():
            ticket = await self._tickets.stage(identity, reason, case_id=case_id)
            if await ready_desk(self._uow) is None:
                return Escalation(ticket.id, ticket.is_new, with_agents=False)
            handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
            assert handoff is not None  # opened by stage() with a ready desk
            position = (
                await self._uow.handoffs.queue_position(handoff)
                if handoff.taken_by is None
                else None
            )
            opens_at = self._policy.agents.next_opening(self._clock.now(), self._policy.agent_zone)
            return Escalation(ticket.id, ticket.is_new, True, position, opens_at)

    async def live_ticket(self, user_id: int) -> int | None:
        """The ticket this account is talking to agents about, if any: one indexed read.

        Runs for every message a customer sends, so on SQLite it reads without taking the
        write lock (unless the update's own transaction is already open).
        """
        session = self._uow.session
        if session.in_transaction():
            return await self._uow.handoffs.live_ticket_id(user_id)
        await session.connection(execution_options={READ_ONLY: True})
        try:
            return await self._uow.handoffs.live_ticket_id(user_id)
        finally:
            await session.rollback()

    async def relay_to_agents(self, identity: Identity, message: RelayMessage) -> Relayed:
        """Copy the customer's message into their topic (an album's parts into one copy)."""
        async with self._uow.transaction():
            found = await self._live_case(identity.user_id)
            if found is None:
                return Relayed.NO_CASE
            ticket, handoff, topic = found
            if await self._uow.handoffs.relay_by_source(message.chat_id, message.message_id):
                return Relayed.DUPLICATE
            locale = await desk_locale(self._uow)
            outbox_id = await self._relay.queue_copy(
                message, topic.group_chat_id, topic.id, locale, customer_id=None
            )
            self._relay.record(
                ticket, RelayDirection.TO_AGENTS, message, topic.group_chat_id, outbox_id
            )
            if handoff.state is HandoffState.WAITING:
                state = HandoffState.TAKEN if handoff.taken_by else HandoffState.NEW
                self._board.set_state(handoff, topic, state, locale)
            return Relayed.RELAYED

    async def leave(self, identity: Identity) -> bool:
        """The customer goes back to the bot (/cancel): the case is closed and the agents
        told. False when there was no case to leave."""
        async with self._uow.transaction():
            found = await self._live_case(identity.user_id)
            if found is None:
                return False
            ticket, handoff, topic = found
            self._board.notice(  # before the topic closes with the case
                topic,
                await desk_locale(self._uow),
                "agent/customer_left",
                {},
                key=f"handoff:{handoff.id}:customer-left",
            )
            await self._board.close_case(ticket)
            return True

    async def mirror_edit(self, chat_id: int, message_id: int, html: str, *, caption: bool) -> bool:
        """The sender edited a message that was copied: edit the copy the same way.

        Telegram lets a bot edit the text of its text messages and the caption of its media
        messages, so that is what follows; False when the message was never relayed.
        """
        async with self._uow.transaction():
            relay = await self._uow.handoffs.relay_by_source(chat_id, message_id)
            if relay is None:
                return False
            ticket = await self._uow.handoffs.ticket(relay.ticket_id)
            assert ticket is not None
            topic_id, alias = None, None
            if relay.direction is RelayDirection.TO_AGENTS:
                handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
                topic_id = handoff.topic_id if handoff else None
            elif relay.outbox_id is not None:
                copy = await self._uow.handoffs.outbox_row(relay.outbox_id)
                alias = copy.context.get("alias") if copy else None
            self._outbox.enqueue(
                chat_id=relay.copy_chat_id,
                customer_id=ticket.customer_id,
                locale=await desk_locale(self._uow),
                template=EDIT_TEMPLATE,
                context={"relay_id": relay.id, "html": html, "caption": caption, "alias": alias},
                dedupe_key=f"edit:{relay.id}:{secrets.token_hex(6)}",
                coalesce_key=f"edit:{relay.id}",
                kind=DeliveryKind.EDIT,
                topic_id=topic_id,
            )
            return True

    async def customer_unreachable(self, chat_id: int, at: datetime, *, key: str) -> None:
        """The customer blocked the bot: tell the agents in their topic (in the caller's
        transaction, e.g. the notifier's, which recorded the failed delivery). `key` names
        what failed, so it is told once."""
        ticket = await self._uow.tickets.open_for_chat(chat_id)
        if ticket is not None:
            await self._board.notice_for_ticket(
                ticket, "agent/customer_blocked", {"at": at}, key=f"blocked:{key}"
            )

    async def _live_case(self, user_id: int) -> tuple[Ticket, Handoff, AgentTopic] | None:
        ticket_id = await self._uow.handoffs.live_ticket_id(user_id)
        ticket = await self._uow.handoffs.ticket(ticket_id) if ticket_id else None
        handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id) if ticket else None
        if ticket is None or handoff is None or ticket.status is not TicketStatus.OPEN:
            if ticket_id is not None:
                await self._uow.handoffs.set_live_ticket(user_id, None)
            return None
        topic = await self._uow.handoffs.topic(handoff.topic_id)
        assert topic is not None
        return ticket, handoff, topic
