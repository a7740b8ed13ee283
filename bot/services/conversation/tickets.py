"""Requests for a person: one open ticket per chat, and its case in the agents' group.

A ticket is written whatever happens. When the agents' group is ready (see
`handoff.board.ready_desk`) the same transaction claims the customer's topic and queues
the case card, so agents see it; otherwise it waits for an operator (`cancelbot
tickets`) and nobody is promised a reply.

Tickets whose purpose was a refund step (an approval, a bank transfer to pay, a failed
or overdue refund) are settled by the refund's own path (`follow_refund`, called by
`RefundUpdates`), whoever moved it: an agent, the merchant API or the command line.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.services.conversation.customer_chat import customer_chat
from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.handoff.board import LIVE_REASONS, Board, ready_desk
from bot.services.linking.identity import Identity
from storage.enums import HandoffState, RefundStatus, TicketReason
from storage.models import Customer, Refund, RefundEvent, Ticket
from storage.uow import UnitOfWork

# What settles a ticket of each refund-step reason: the refund reaching one of these.
_SETTLED_BY: dict[TicketReason, frozenset[RefundStatus]] = {
    TicketReason.NEEDS_APPROVAL: frozenset(
        {RefundStatus.APPROVED, RefundStatus.REJECTED, RefundStatus.CANCELLED}
    ),
    TicketReason.COMPLETE_TRANSFER: frozenset({RefundStatus.REFUNDED, RefundStatus.CANCELLED}),
    TicketReason.REFUND_FAILED: frozenset(
        {RefundStatus.PROCESSING, RefundStatus.REFUNDED, RefundStatus.CANCELLED}
    ),
    TicketReason.REFUND_OVERDUE: frozenset(RefundStatus),  # any move ends "stuck"
}


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    reason: TicketReason
    is_new: bool


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """An open ticket as an operator lists it (`cancelbot tickets`)."""

    id: int
    opened_at: datetime
    reason: TicketReason
    customer_id: str | None
    customer_name: str | None
    contact: str | None
    """The customer's phone or e-mail on record: how an operator reaches them."""
    telegram_user_id: int
    telegram_name: str
    username: str | None
    order_number: str | None
    with_agents: HandoffState | None
    """The case's state in the agents' group; None: nobody was given it there."""
    taken_by: str | None


class TicketService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._board = Board(uow, clock)

    async def request_person(
        self,
        identity: Identity,
        reason: TicketReason,
        *,
        case_id: int | None = None,
        note: str | None = None,
    ) -> TicketView:
        """Open a ticket for this chat, or return the one already waiting (never two)."""
        async with self._uow.transaction():
            return await self.stage(identity, reason, case_id=case_id, note=note)

    async def stage(
        self,
        identity: Identity,
        reason: TicketReason,
        *,
        case_id: int | None = None,
        note: str | None = None,
    ) -> TicketView:
        """The same, inside the caller's transaction (a confirmation that needs an agent)."""
        ticket, is_new = await self._open(
            telegram_user_id=identity.user_id,
            chat_id=identity.chat_id,
            conversation_id=identity.conversation_id,
            customer_id=identity.customer_id,
            reason=reason,
            case_id=case_id,
            note=note,
        )
        return TicketView(ticket.id, ticket.reason, is_new=is_new)

    async def stage_for_customer(
        self,
        customer: Customer,
        reason: TicketReason,
        *,
        case_id: int | None = None,
        note: str | None = None,
        default_locale: str = "en",
    ) -> Ticket | None:
        """A ticket about a customer who did not write just now (a refund that failed or is
        stuck); None when they have no Telegram chat with the bot to hang it on."""
        chat = await customer_chat(self._uow, customer, default_locale)
        if chat is None:
            return None
        conversation_id = await self._uow.conversations.latest_id_for_chat(chat.chat_id)
        if conversation_id is None:
            return None
        ticket, _ = await self._open(
            telegram_user_id=chat.user_id,
            chat_id=chat.chat_id,
            conversation_id=conversation_id,
            customer_id=customer.id,
            reason=reason,
            case_id=case_id,
            note=note,
        )
        return ticket

    async def stage_for_chat(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        conversation_id: int,
        customer_id: int | None,
        reason: TicketReason,
        case_id: int | None = None,
    ) -> Ticket:
        """A ticket for a chat known from an earlier one (an agent's follow-up)."""
        ticket, _ = await self._open(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            conversation_id=conversation_id,
            customer_id=customer_id,
            reason=reason,
            case_id=case_id,
            note=None,
        )
        return ticket

    async def follow_refund(self, refund: Refund, event: RefundEvent) -> None:
        """A refund moved (in the caller's transaction): settle the tickets waiting for that
        step, open one when a payment failed, and refresh the customer's open case card."""
        case_id = await self.case_of(refund)
        customer = await self._uow.customers.get(refund.customer_id)
        assert customer is not None  # foreign key
        chat = await customer_chat(self._uow, customer, "en")
        ticket = await self._uow.tickets.open_for_chat(chat.chat_id) if chat else None
        if ticket is not None and _settles(ticket, case_id, refund.status):
            await self._board.close_case(ticket)
            ticket = None
        if event.to_status is RefundStatus.FAILED:
            ticket = await self.stage_for_customer(
                customer, TicketReason.REFUND_FAILED, case_id=case_id
            )
            if ticket is not None:
                await self._board.notice_for_ticket(
                    ticket,
                    "agent/refund_failed",
                    {
                        "refund_id": refund.id,
                        "amount": Money(refund.amount, refund.currency),
                        "method": refund.method.value,
                        "note": event.note,
                        "actor": event.actor,
                    },
                    key=f"refund:{refund.id}:failed-alert:{event.id or 0}",
                )
        if ticket is not None and (
            handoff := await self._uow.handoffs.handoff_for_ticket(ticket.id)
        ):
            topic = await self._uow.handoffs.topic(handoff.topic_id)
            assert topic is not None
            desk = await self._uow.handoffs.desk()
            self._board.refresh_card(handoff, topic.group_chat_id, desk.locale if desk else "en")

    async def open_tickets(self, limit: int = 200) -> list[OpenTicket]:
        """Open tickets, oldest first, with who and what they are about."""
        async with self._uow.transaction():
            rows = await self._uow.handoffs.open_tickets(limit)
            profiles = await self._uow.handoffs.profiles(
                [row.handoff.taken_by for row in rows if row.handoff and row.handoff.taken_by]
            )
            listed = []
            for row in rows:
                order = await self._uow.orders.get(row.order_id) if row.order_id else None
                taken = row.handoff.taken_by if row.handoff else None
                listed.append(
                    OpenTicket(
                        id=row.ticket.id,
                        opened_at=row.ticket.created_at,
                        reason=row.ticket.reason,
                        customer_id=row.customer.external_id if row.customer else None,
                        customer_name=row.customer.name if row.customer else None,
                        contact=(row.customer.phone or row.customer.email)
                        if row.customer
                        else None,
                        telegram_user_id=row.ticket.telegram_user_id,
                        telegram_name=row.account.first_name if row.account else "",
                        username=row.account.username if row.account else None,
                        order_number=order.number if order else None,
                        with_agents=row.handoff.state if row.handoff else None,
                        taken_by=(profiles[taken].name if taken in profiles else str(taken))
                        if taken
                        else None,
                    )
                )
            return listed

    async def close(self, ticket: Ticket) -> None:
        """Close the ticket and its case, in the caller's transaction."""
        await self._board.close_case(ticket)

    async def _open(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        conversation_id: int,
        customer_id: int | None,
        reason: TicketReason,
        case_id: int | None,
        note: str | None,
    ) -> tuple[Ticket, bool]:
        live = reason in LIVE_REASONS
        ticket = await self._uow.tickets.open_for_chat(chat_id)
        is_new = ticket is None
        if ticket is None:
            ticket = Ticket(
                telegram_user_id=telegram_user_id,
                chat_id=chat_id,
                conversation_id=conversation_id,
                customer_id=customer_id,
                case_id=case_id,
                reason=reason,
                note=note,
                created_at=self._clock.now(),
            )
            try:
                async with self._uow.session.begin_nested():
                    self._uow.tickets.add(ticket)
            except IntegrityError:
                # Another transaction opened this chat's ticket first (one open per chat).
                ticket = await self._uow.tickets.open_for_chat(chat_id)
                assert ticket is not None
                is_new = False
        if not is_new:
            if ticket.case_id is None and case_id is not None:
                ticket.case_id = case_id
            if live and ticket.reason not in LIVE_REASONS:
                # The customer now wants to talk about it: a person closes it, not a refund.
                ticket.reason = reason
        desk = await ready_desk(self._uow)
        if desk is not None:
            await self._board.open_case(ticket, desk, live=live)
        return ticket, is_new

    async def case_of(self, refund: Refund) -> int | None:
        """The customer's case a refund came from (its request's, or its offer's)."""
        if refund.request_id is not None:
            request = await self._uow.cases.get_request(refund.request_id)
            return request.case_id if request else None
        if refund.offer_id is not None:
            offer = await self._uow.offers.get(refund.offer_id)
            return offer.case_id if offer else None
        return None


def _settles(ticket: Ticket, case_id: int | None, status: RefundStatus) -> bool:
    """Whether this refund status fulfils what the ticket was opened for."""
    wanted: Collection[RefundStatus] = _SETTLED_BY.get(ticket.reason, ())
    if status not in wanted:
        return False
    return ticket.case_id is None or case_id is None or ticket.case_id == case_id
