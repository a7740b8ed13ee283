"""Requests for a person. Until the agent group is wired in, they wait as tickets."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.clock import Clock
from bot.services.identity import Identity
from storage.enums import TicketReason
from storage.models import Ticket
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    reason: TicketReason
    is_new: bool


class TicketService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

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
        existing = await self._uow.tickets.open_for_chat(identity.chat_id)
        if existing is not None:
            if existing.case_id is None and case_id is not None:
                existing.case_id = case_id
            return TicketView(existing.id, existing.reason, is_new=False)
        ticket = Ticket(
            telegram_user_id=identity.user_id,
            chat_id=identity.chat_id,
            conversation_id=identity.conversation_id,
            customer_id=identity.customer_id,
            case_id=case_id,
            reason=reason,
            note=note,
            created_at=self._clock.now(),
        )
        self._uow.tickets.add(ticket)
        await self._uow.flush()
        return TicketView(ticket.id, ticket.reason, is_new=True)
