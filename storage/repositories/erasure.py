"""Erasing a customer's personal data while the books (orders, refunds, amounts) stay.

Each method is one or a few set-based statements. The Telegram accounts the customer
used are re-keyed to a pseudonym (a negative id, which no Telegram user has) in every
table that names them, then deleted, so conversations, cases and surveys keep their
shape and statistics but point at nobody.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.enums import CaseStatus, HandoffState, OutboxStatus, TicketStatus
from storage.models import (
    AgentAction,
    AgentTopic,
    CancellationRequest,
    Conversation,
    Customer,
    Erasure,
    FsmRecord,
    GuestAccess,
    Handoff,
    LinkTokenUse,
    Order,
    OutboxMessage,
    Refund,
    RefundEvent,
    RelayedMessage,
    SupportCase,
    Survey,
    TelegramUser,
    ThrottleEvent,
    Ticket,
    TranscriptEntry,
)

ERASED = "erased"


@dataclass(frozen=True, slots=True)
class ForgottenTopic:
    """A topic of the agents' group that held the customer's messages, to delete there."""

    topic_id: int
    group_chat_id: int
    thread_id: int


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def previous(self, customer_id: int) -> Erasure | None:
        return await self._session.scalar(select(Erasure).where(Erasure.customer_id == customer_id))

    def add(self, erasure: Erasure) -> None:
        self._session.add(erasure)

    async def telegram_accounts(self, customer_id: int) -> set[int]:
        """Every Telegram account that spoke as this customer or for one of their orders,
        except accounts now linked to another customer (those are someone else's)."""
        sources = (
            select(Customer.telegram_user_id).where(Customer.id == customer_id),
            select(Conversation.telegram_user_id).where(Conversation.customer_id == customer_id),
            select(SupportCase.telegram_user_id).where(SupportCase.customer_id == customer_id),
            select(Ticket.telegram_user_id).where(Ticket.customer_id == customer_id),
            select(LinkTokenUse.telegram_user_id).where(LinkTokenUse.customer_id == customer_id),
            select(GuestAccess.telegram_user_id)
            .join(Order, Order.id == GuestAccess.order_id)
            .where(Order.customer_id == customer_id),
        )
        accounts: set[int] = set()
        for query in sources:
            accounts.update(v for v in (await self._session.scalars(query)).all() if v is not None)
        accounts = {account for account in accounts if account > 0}  # pseudonyms are < 0
        if not accounts:
            return accounts
        others = await self._session.scalars(
            select(Customer.telegram_user_id).where(
                Customer.telegram_user_id.in_(accounts), Customer.id != customer_id
            )
        )
        return accounts - set(others.all())

    async def anonymise_customer(self, customer_id: int) -> int:
        return await self._run(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(
                name="",
                phone=None,
                email=None,
                locale=None,
                telegram_user_id=None,
                linked_at=None,
                linked_via=None,
            )
        )

    async def rekey_account(self, account: int, pseudonym: int, first_seen_at: datetime) -> int:
        """Move every row of Telegram account `account` to `pseudonym`, then delete it."""
        self._session.add(TelegramUser(id=pseudonym, first_name="", first_seen_at=first_seen_at))
        await self._session.flush()
        changed = 0
        changed += await self._run(
            update(AgentTopic).where(AgentTopic.chat_id == account).values(chat_id=pseudonym)
        )
        for model in (Conversation, SupportCase, Ticket):
            changed += await self._run(
                update(model)
                .where(model.telegram_user_id == account)
                .values(telegram_user_id=pseudonym, chat_id=pseudonym)
            )
        changed += await self._run(
            update(RelayedMessage)
            .where(RelayedMessage.source_chat_id == account)
            .values(source_chat_id=pseudonym)
        )
        changed += await self._run(
            update(RelayedMessage)
            .where(RelayedMessage.copy_chat_id == account)
            .values(copy_chat_id=pseudonym)
        )
        for chat_model in (Survey, OutboxMessage):
            changed += await self._run(
                update(chat_model).where(chat_model.chat_id == account).values(chat_id=pseudonym)
            )
        changed += await self._run(
            update(LinkTokenUse)
            .where(LinkTokenUse.telegram_user_id == account)
            .values(telegram_user_id=None)
        )
        changed += await self._run(
            delete(GuestAccess).where(GuestAccess.telegram_user_id == account)
        )
        changed += await self._run(
            delete(ThrottleEvent).where(ThrottleEvent.subject == f"tg:{account}")
        )
        # FSM keys name the chat and the user: "fsm:<bot>:<chat>:<user>:<destiny>".
        changed += await self._run(
            delete(FsmRecord).where(FsmRecord.key.like(f"%:{account}:{account}:%"))
        )
        await self._run(update(Customer).where(Customer.telegram_user_id == account).values(
            telegram_user_id=None, linked_at=None, linked_via=None
        ))  # fmt: skip
        changed += await self._run(delete(TelegramUser).where(TelegramUser.id == account))
        return changed

    async def forget_topics(self, accounts: Collection[int]) -> list[ForgottenTopic]:
        """The agents' topics of these accounts lose their name and thread (so nothing is sent
        there again), and their queued group messages are not sent; the topics that exist in
        Telegram are returned, for the caller to delete. Runs before the accounts are re-keyed.
        """
        if not accounts:
            return []
        topics = list(
            await self._session.scalars(select(AgentTopic).where(AgentTopic.chat_id.in_(accounts)))
        )
        if not topics:
            return []
        ids = [topic.id for topic in topics]
        forgotten = [
            ForgottenTopic(topic.id, topic.group_chat_id, topic.thread_id)
            for topic in topics
            if topic.thread_id is not None
        ]
        await self._run(
            update(OutboxMessage)
            .where(OutboxMessage.topic_id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.FAILED, last_error=ERASED)
        )
        await self._run(
            update(OutboxMessage).where(OutboxMessage.topic_id.in_(ids)).values(context={})
        )
        await self._run(
            update(AgentTopic)
            .where(AgentTopic.id.in_(ids))
            .values(name="", thread_id=None, closed=True, needs_digest=False)
        )
        return forgotten

    async def close_open_cases(
        self, customer_id: int, pseudonyms: Collection[int], now: datetime
    ) -> int:
        """Nobody is left to talk to: open drafts, tickets and agents' cases end now."""
        theirs = or_(Ticket.customer_id == customer_id, Ticket.telegram_user_id.in_(pseudonyms))
        tickets = select(Ticket.id).where(theirs).scalar_subquery()
        changed = await self._run(
            update(Handoff)
            .where(Handoff.ticket_id.in_(tickets), Handoff.state != HandoffState.CLOSED)
            .values(state=HandoffState.CLOSED, closed_at=now, updated_at=now)
        )
        changed += await self._run(
            update(Ticket)
            .where(theirs, Ticket.status == TicketStatus.OPEN)
            .values(status=TicketStatus.CLOSED, closed_at=now)
        )
        changed += await self._run(
            update(SupportCase)
            .where(
                or_(
                    SupportCase.customer_id == customer_id,
                    SupportCase.telegram_user_id.in_(pseudonyms),
                ),
                SupportCase.status == CaseStatus.OPEN,
            )
            .values(status=CaseStatus.ABANDONED, closed_at=now, updated_at=now)
        )
        return changed

    async def blank_transcripts(self, customer_id: int, pseudonyms: Collection[int]) -> int:
        conversations = select(Conversation.id).where(
            or_(
                Conversation.customer_id == customer_id,
                Conversation.telegram_user_id.in_(pseudonyms),
            )
        )
        return await self._run(
            update(TranscriptEntry)
            .where(TranscriptEntry.conversation_id.in_(conversations.scalar_subquery()))
            .values(text=None, payload=None)
        )

    async def blank_free_text(self, customer_id: int, pseudonyms: Collection[int]) -> int:
        """The customer's own words and photos, and notes written about them."""
        changed = await self._run(
            update(CancellationRequest)
            .where(CancellationRequest.customer_id == customer_id)
            .values(reason_text=None, photo_file_id=None)
        )
        changed += await self._run(
            update(SupportCase)
            .where(
                or_(
                    SupportCase.customer_id == customer_id,
                    SupportCase.telegram_user_id.in_(pseudonyms),
                )
            )
            .values(reason_text=None, photo_file_id=None)
        )
        changed += await self._run(
            update(Ticket)
            .where(or_(Ticket.customer_id == customer_id, Ticket.telegram_user_id.in_(pseudonyms)))
            .values(note=None)
        )
        changed += await self._run(
            update(Survey)
            .where(or_(Survey.customer_id == customer_id, Survey.chat_id.in_(pseudonyms)))
            .values(comment=None)
        )
        tickets = select(Ticket.id).where(
            or_(Ticket.customer_id == customer_id, Ticket.telegram_user_id.in_(pseudonyms))
        )
        changed += await self._run(
            update(AgentAction)
            .where(AgentAction.ticket_id.in_(tickets.scalar_subquery()))
            .values(note=None)
        )
        refunds = select(Refund.id).where(Refund.customer_id == customer_id).scalar_subquery()
        changed += await self._run(
            update(RefundEvent).where(RefundEvent.refund_id.in_(refunds)).values(note=None)
        )
        return changed

    async def blank_outbox(self, customer_id: int, pseudonyms: Collection[int]) -> int:
        """Messages owed to the customer lose their contents; unsent ones are not sent."""
        mine = or_(OutboxMessage.customer_id == customer_id, OutboxMessage.chat_id.in_(pseudonyms))
        changed = await self._run(
            update(OutboxMessage)
            .where(mine, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.FAILED, last_error=ERASED)
        )
        changed += await self._run(
            update(OutboxMessage).where(mine).values(context={}, keyboard=None)
        )
        return changed

    async def _run(self, statement: Executable) -> int:
        result = await self._session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)
