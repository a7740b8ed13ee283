"""The agents' side: the verified group, one topic per customer, cases, actions and relays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import conflict_insert
from storage.enums import HandoffState, OutboxStatus, TicketStatus
from storage.models import (
    AgentAction,
    AgentDesk,
    AgentProfile,
    AgentTopic,
    Customer,
    Handoff,
    OutboxMessage,
    RelayedMessage,
    SupportCase,
    TelegramUser,
    Ticket,
    TranscriptEntry,
)

DESK_ID = 1


@dataclass(frozen=True, slots=True)
class OpenTicketRow:
    """One open ticket with what an operator needs to act on it (`cancelbot tickets`)."""

    ticket: Ticket
    customer: Customer | None
    account: TelegramUser | None
    handoff: Handoff | None
    order_id: int | None


class HandoffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- the agents' group ---------------------------------------------------------------------

    async def desk(self) -> AgentDesk | None:
        return await self._session.get(AgentDesk, DESK_ID)

    async def save_desk(
        self,
        *,
        chat_id: int | None,
        title: str | None,
        locale: str,
        ready: bool,
        problem: str | None,
        at: datetime,
    ) -> None:
        """Write the verdict: one row, whichever of several starting workers writes first.

        INSERT … ON CONFLICT (id) DO UPDATE: workers starting together each insert the row
        (a read-then-insert let the second fail on the primary key and its process exit).
        """
        values = {
            "chat_id": chat_id,
            "title": title,
            "locale": locale,
            "ready": ready,
            "problem": problem,
            "checked_at": at,
        }
        dialect = self._session.get_bind().dialect.name
        await self._session.execute(
            conflict_insert(dialect, AgentDesk)
            .values(id=DESK_ID, **values)
            .on_conflict_do_update(index_elements=[AgentDesk.id], set_=values)
        )
        loaded = self._session.identity_map.get(self._session.identity_key(AgentDesk, DESK_ID))
        if loaded is not None:  # read earlier in this session: let the next read see the write
            self._session.expire(loaded)

    # -- topics ------------------------------------------------------------------------------

    async def claim_topic(
        self, *, group_chat_id: int, chat_id: int, customer_id: int | None, at: datetime
    ) -> AgentTopic:
        """The chat's topic in the group, claimed now if it has none: one row, whoever races.

        INSERT … ON CONFLICT DO NOTHING on (group, chat): a concurrent claim waits for the
        first transaction and then finds its row (PostgreSQL); SQLite serialises writers.
        """
        dialect = self._session.get_bind().dialect.name
        await self._session.execute(
            conflict_insert(dialect, AgentTopic)
            .values(
                group_chat_id=group_chat_id,
                chat_id=chat_id,
                customer_id=customer_id,
                name="",
                closed=False,
                needs_digest=False,
                created_count=0,
                created_at=at,
                updated_at=at,
            )
            .on_conflict_do_nothing(index_elements=[AgentTopic.group_chat_id, AgentTopic.chat_id])
        )
        topic = await self._session.scalar(
            select(AgentTopic)
            .where(AgentTopic.group_chat_id == group_chat_id, AgentTopic.chat_id == chat_id)
            .execution_options(populate_existing=True)
        )
        assert topic is not None  # inserted above, or by the claim we waited for
        if topic.customer_id is None and customer_id is not None:
            topic.customer_id = customer_id
        return topic

    async def topic(self, topic_id: int) -> AgentTopic | None:
        return await self._session.get(AgentTopic, topic_id, populate_existing=True)

    async def topic_for_update(self, topic_id: int) -> AgentTopic | None:
        return await self._session.scalar(
            select(AgentTopic)
            .where(AgentTopic.id == topic_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def topic_by_thread(self, group_chat_id: int, thread_id: int) -> AgentTopic | None:
        return await self._session.scalar(
            select(AgentTopic).where(
                AgentTopic.group_chat_id == group_chat_id, AgentTopic.thread_id == thread_id
            )
        )

    async def topic_of_chat(self, group_chat_id: int, chat_id: int) -> AgentTopic | None:
        return await self._session.scalar(
            select(AgentTopic).where(
                AgentTopic.group_chat_id == group_chat_id, AgentTopic.chat_id == chat_id
            )
        )

    # -- cases -------------------------------------------------------------------------------

    def add_handoff(self, handoff: Handoff) -> None:
        self._session.add(handoff)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        return await self._session.get(Handoff, handoff_id, populate_existing=True)

    async def handoff_for_ticket(self, ticket_id: int) -> Handoff | None:
        return await self._session.scalar(select(Handoff).where(Handoff.ticket_id == ticket_id))

    async def handoff_for_update(self, handoff_id: int) -> Handoff | None:
        return await self._session.scalar(
            select(Handoff)
            .where(Handoff.id == handoff_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def current_handoff(self, topic_id: int) -> Handoff | None:
        """The topic's newest case, open or closed (what its name and card show)."""
        return await self._session.scalar(
            select(Handoff).where(Handoff.topic_id == topic_id).order_by(Handoff.id.desc()).limit(1)
        )

    async def take(self, handoff_id: int, agent_id: int, at: datetime) -> bool:
        """Give an open case nobody took to `agent_id`; False when someone was first."""
        result = await self._session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff_id,
                Handoff.taken_by.is_(None),
                Handoff.state != HandoffState.CLOSED,
            )
            .values(taken_by=agent_id, taken_at=at, state=HandoffState.TAKEN, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount == 1

    async def queue_position(self, handoff: Handoff) -> int:
        """1 + the open cases nobody took that came before this one."""
        ahead = await self._session.scalar(
            select(func.count()).where(
                Handoff.state == HandoffState.NEW,
                Handoff.taken_by.is_(None),
                Handoff.id < handoff.id,
            )
        )
        return (ahead or 0) + 1

    async def untaken_since(self, cutoff: datetime, limit: int = 100) -> Sequence[Handoff]:
        """Open cases nobody took since before `cutoff` and not re-announced yet."""
        return (
            await self._session.scalars(
                select(Handoff)
                .where(
                    Handoff.state == HandoffState.NEW,
                    Handoff.taken_by.is_(None),
                    Handoff.reannounced_at.is_(None),
                    Handoff.created_at <= cutoff,
                )
                .order_by(Handoff.id)
                .limit(limit)
            )
        ).all()

    # -- tickets and the account's pointer ---------------------------------------------------

    async def ticket(self, ticket_id: int) -> Ticket | None:
        return await self._session.get(Ticket, ticket_id, populate_existing=True)

    async def ticket_for_update(self, ticket_id: int) -> Ticket | None:
        return await self._session.scalar(
            select(Ticket)
            .where(Ticket.id == ticket_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def open_ticket_for_case(self, case_id: int) -> Ticket | None:
        return await self._session.scalar(
            select(Ticket).where(Ticket.case_id == case_id, Ticket.status == TicketStatus.OPEN)
        )

    async def live_ticket_id(self, user_id: int) -> int | None:
        """The open ticket this account talks to agents about: one primary-key read."""
        return await self._session.scalar(
            select(TelegramUser.handoff_ticket_id).where(TelegramUser.id == user_id)
        )

    async def set_live_ticket(self, user_id: int, ticket_id: int | None) -> None:
        await self._session.execute(
            update(TelegramUser)
            .where(TelegramUser.id == user_id)
            .values(handoff_ticket_id=ticket_id)
            .execution_options(synchronize_session=False)
        )

    async def clear_live_ticket(self, ticket_id: int) -> None:
        """Whoever talks about `ticket_id` (it is closing) goes back to the bot."""
        await self._session.execute(
            update(TelegramUser)
            .where(TelegramUser.handoff_ticket_id == ticket_id)
            .values(handoff_ticket_id=None)
            .execution_options(synchronize_session=False)
        )

    async def open_tickets(self, limit: int = 200) -> list[OpenTicketRow]:
        """Open tickets, oldest first, with their customer, account, case and order."""
        rows = await self._session.execute(
            select(Ticket, Customer, TelegramUser, Handoff, SupportCase.order_id)
            .outerjoin(Customer, Customer.id == Ticket.customer_id)
            .outerjoin(TelegramUser, TelegramUser.id == Ticket.telegram_user_id)
            .outerjoin(Handoff, Handoff.ticket_id == Ticket.id)
            .outerjoin(SupportCase, SupportCase.id == Ticket.case_id)
            .where(Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.id)
            .limit(limit)
        )
        return [OpenTicketRow(*row) for row in rows.all()]

    # -- actions and relays ------------------------------------------------------------------

    def add_action(self, action: AgentAction) -> None:
        self._session.add(action)

    async def action_by_key(self, key: str) -> AgentAction | None:
        return await self._session.scalar(select(AgentAction).where(AgentAction.key == key))

    async def actions_for_ticket(self, ticket_id: int) -> Sequence[AgentAction]:
        return (
            await self._session.scalars(
                select(AgentAction)
                .where(AgentAction.ticket_id == ticket_id)
                .order_by(AgentAction.id)
            )
        ).all()

    def add_relay(self, relay: RelayedMessage) -> None:
        self._session.add(relay)

    async def relay_by_source(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        return await self._session.scalar(
            select(RelayedMessage).where(
                RelayedMessage.source_chat_id == chat_id,
                RelayedMessage.source_message_id == message_id,
            )
        )

    async def relay(self, relay_id: int) -> RelayedMessage | None:
        return await self._session.get(RelayedMessage, relay_id, populate_existing=True)

    async def outbox_row(self, outbox_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, outbox_id)

    async def relays_of_outbox(self, outbox_id: int) -> Sequence[RelayedMessage]:
        return (
            await self._session.scalars(
                select(RelayedMessage)
                .where(RelayedMessage.outbox_id == outbox_id)
                .order_by(RelayedMessage.source_message_id)
            )
        ).all()

    async def relays_for_ticket(self, ticket_id: int, limit: int) -> Sequence[RelayedMessage]:
        """The ticket's newest relayed messages, oldest first."""
        rows = (
            await self._session.scalars(
                select(RelayedMessage)
                .where(RelayedMessage.ticket_id == ticket_id)
                .order_by(RelayedMessage.id.desc())
                .limit(limit)
            )
        ).all()
        return list(reversed(rows))

    async def open_album_row(
        self, chat_id: int, topic_id: int | None, media_group_id: str, now: datetime
    ) -> OutboxMessage | None:
        """A queued copy of this album that no notifier holds, to add one more message to.

        Locked (PostgreSQL) so a notifier cannot claim it between this read and the write;
        a row already leased is left alone and the message gets a row of its own.
        """
        return await self._session.scalar(
            select(OutboxMessage)
            .join(RelayedMessage, RelayedMessage.outbox_id == OutboxMessage.id)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.topic_id == topic_id
                if topic_id is not None
                else OutboxMessage.topic_id.is_(None),
                OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                RelayedMessage.media_group_id == media_group_id,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
            .with_for_update(of=OutboxMessage)
        )

    async def transcript_tail(self, conversation_id: int, limit: int) -> list[TranscriptEntry]:
        """The conversation's newest lines, oldest first (the card's "last messages")."""
        rows = (
            await self._session.scalars(
                select(TranscriptEntry)
                .where(TranscriptEntry.conversation_id == conversation_id)
                .order_by(TranscriptEntry.id.desc())
                .limit(limit)
            )
        ).all()
        return list(reversed(rows))

    # -- agents ------------------------------------------------------------------------------

    async def profile(self, agent_id: int) -> AgentProfile | None:
        return await self._session.get(AgentProfile, agent_id)

    async def profiles(self, agent_ids: Sequence[int]) -> dict[int, AgentProfile]:
        if not agent_ids:
            return {}
        rows = await self._session.scalars(
            select(AgentProfile).where(AgentProfile.agent_id.in_(set(agent_ids)))
        )
        return {profile.agent_id: profile for profile in rows}

    async def seen_agent(self, agent_id: int, name: str, at: datetime) -> AgentProfile:
        """The agent's profile, created on first sight, with their current Telegram name.

        A new agent's first updates can arrive at once (a message and a button): on
        PostgreSQL each reads no profile, and a plain INSERT of the second failed on the
        primary key once the first committed. INSERT … ON CONFLICT DO NOTHING waits for
        the first instead and then reads its row (SQLite's write lock serialises them)."""
        profile = await self._session.get(AgentProfile, agent_id)
        if profile is None:
            dialect = self._session.get_bind().dialect.name
            await self._session.execute(
                conflict_insert(dialect, AgentProfile)
                .values(agent_id=agent_id, name=name, alias=None, updated_at=at)
                .on_conflict_do_nothing(index_elements=[AgentProfile.agent_id])
            )
            profile = await self._session.get(AgentProfile, agent_id)
            assert profile is not None, "inserted, or committed by whoever inserted first"
        if profile.name != name:
            profile.name, profile.updated_at = name, at
        return profile
