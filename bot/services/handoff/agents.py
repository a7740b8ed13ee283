"""What agents do on a case: talk to the customer, take it, decide its refund, close it.

Every action goes through the services the rest of the bot uses (RefundUpdates for any
refund step, issue_voucher for vouchers, SurveyService for the survey), so an agent's
approval is the same approval as the merchant API's. Each one is recorded as an
`AgentAction` with the agent's Telegram id and the time, under a unique key: whoever
comes second (another agent, a repeated update) is told who did it, and nothing
happens twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.services.conversation.surveys import SurveyService, ticket_subject
from bot.services.conversation.tickets import TicketService
from bot.services.domain.clock import Clock
from bot.services.domain.locales import pick_locale
from bot.services.domain.money import Money, parse_amount
from bot.services.handoff.board import Board, desk_locale
from bot.services.handoff.people import AgentRef, RelayMessage
from bot.services.handoff.relay import Relay
from bot.services.merchant.errors import InvalidAmount
from bot.services.outbox import Outbox
from bot.services.policy import Policy
from bot.services.refunds.service import ActorKind, actor_kind
from bot.services.refunds.states import IllegalTransition
from bot.services.refunds.updates import RefundUpdates
from bot.services.refunds.vouchers import issue_voucher, voucher_notice
from storage.enums import (
    AgentActionKind,
    HandoffState,
    PaymentMethod,
    RefundStatus,
    RelayDirection,
    TicketReason,
    TicketStatus,
    VoucherKind,
)
from storage.models import AgentAction, AgentTopic, Handoff, Refund, Ticket
from storage.uow import UnitOfWork

MAX_ALIAS = 32
MAX_DENY_REASON = 500
AGENT_MESSAGE_TEMPLATE = "person/agent_message"
# Refund statuses an agent may mark paid by transfer (cash-on-delivery orders).
_TRANSFER_OPEN = frozenset({RefundStatus.APPROVED, RefundStatus.PROCESSING})


class Result(StrEnum):
    DONE = "done"
    ALREADY = "already"  # someone did it first: `by` and `at` say who and when
    REFUSED = "refused"  # not possible now: `problem` names why (agent/refused template)


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: AgentActionKind
    result: Result
    by: str | None = None
    """Who did it first: an agent's name, or the kind of actor ("merchant", "bot")."""
    at: datetime | None = None
    problem: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Sent(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    NOT_A_CASE = "not_a_case"  # a topic the bot does not know


class AgentCases:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy, default_locale: str) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._default_locale = default_locale
        self._board = Board(uow, clock)
        self._relay = Relay(uow, clock)
        self._outbox = Outbox(uow, clock)
        self._tickets = TicketService(uow, clock)
        self._refunds = RefundUpdates(uow, clock, policy, default_locale)
        self._surveys = SurveyService(uow, clock)

    # -- which case ---------------------------------------------------------------------------

    async def case_in_topic(self, group_chat_id: int, thread_id: int) -> int | None:
        """The case (handoff id) a topic of the agents' group shows, newest first."""
        async with self._uow.transaction():
            topic = await self._uow.handoffs.topic_by_thread(group_chat_id, thread_id)
            handoff = await self._uow.handoffs.current_handoff(topic.id) if topic else None
            return handoff.id if handoff else None

    # -- talking ------------------------------------------------------------------------------

    async def relay_to_customer(
        self, agent: AgentRef, group_chat_id: int, thread_id: int, message: RelayMessage
    ) -> Sent:
        """Copy an agent's message in a case topic to the customer, through the outbox.

        An agent who answers a case nobody took takes it; writing in the topic of a closed
        case opens a follow-up case, since the customer will read it and may answer.
        """
        async with self._uow.transaction():
            topic = await self._uow.handoffs.topic_by_thread(group_chat_id, thread_id)
            handoff = await self._uow.handoffs.current_handoff(topic.id) if topic else None
            if topic is None or handoff is None:
                return Sent.NOT_A_CASE
            if await self._uow.handoffs.relay_by_source(message.chat_id, message.message_id):
                return Sent.DUPLICATE
            profile = await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
            ticket = await self._uow.handoffs.ticket(handoff.ticket_id)
            assert ticket is not None
            if ticket.status is TicketStatus.CLOSED:
                ticket, handoff = await self._follow_up(ticket)
            locale = await self._customer_locale(ticket)
            outbox_id = await self._relay.queue_copy(
                message,
                ticket.chat_id,
                None,
                locale,
                customer_id=ticket.customer_id,
                alias=profile.alias,
                template=AGENT_MESSAGE_TEMPLATE,
            )
            self._relay.record(
                ticket,
                RelayDirection.TO_CUSTOMER,
                message,
                ticket.chat_id,
                outbox_id,
                agent_id=agent.user_id,
            )
            await self._uow.handoffs.set_live_ticket(ticket.telegram_user_id, ticket.id)
            if handoff.taken_by is None and await self._uow.handoffs.take(
                handoff.id, agent.user_id, self._now
            ):
                self._record(ticket, agent, AgentActionKind.TAKE, key=f"take:{handoff.id}")
                self._board.refresh_card(handoff, topic.group_chat_id, await desk_locale(self._uow))
            self._board.set_state(
                handoff, topic, HandoffState.WAITING, await desk_locale(self._uow)
            )
            return Sent.SENT

    async def set_alias(
        self, agent: AgentRef, alias: str | None, *, group_chat_id: int, thread_id: int
    ) -> str | None:
        """What customers see above this agent's messages; None: nothing (unsigned). The
        agent is told in the topic they typed it in."""
        cleaned = " ".join((alias or "").split())[:MAX_ALIAS] or None
        async with self._uow.transaction():
            profile = await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
            profile.alias, profile.updated_at = cleaned, self._now
            topic = await self._uow.handoffs.topic_by_thread(group_chat_id, thread_id)
            if topic is not None:
                self._board.notice(
                    topic,
                    await desk_locale(self._uow),
                    "agent/alias_set",
                    {"agent": agent.name, "alias": cleaned},
                    key=f"alias:{agent.user_id}:{secrets.token_hex(6)}",
                )
        return cleaned

    # -- actions ------------------------------------------------------------------------------

    async def take(self, agent: AgentRef, handoff_id: int) -> ActionResult:
        kind = AgentActionKind.TAKE
        async with self._uow.transaction():
            found = await self._open_case(handoff_id)
            if isinstance(found, ActionResult):
                return _refused(kind, found.problem)
            ticket, handoff, topic = found
            await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
            if not await self._uow.handoffs.take(handoff.id, agent.user_id, self._now):
                taken = await self._uow.handoffs.handoff(handoff.id)
                assert taken is not None
                assert taken.taken_by is not None
                return ActionResult(
                    kind, Result.ALREADY, await self._name(taken.taken_by), taken.taken_at
                )
            self._record(ticket, agent, kind, key=f"take:{handoff.id}")
            await self._after(handoff, topic, agent, kind)
            return ActionResult(kind, Result.DONE, agent.name, self._now)

    async def approve(
        self, agent: AgentRef, handoff_id: int, refund_id: int | None = None
    ) -> ActionResult:
        """Approve a refund waiting for an agent: the cancellation waiting for it happens and
        its ticket closes, by the same path as the merchant API's approval."""
        return await self._refund_step(
            agent, handoff_id, refund_id, AgentActionKind.APPROVE, RefundStatus.APPROVED
        )

    async def deny(
        self, agent: AgentRef, handoff_id: int, refund_id: int | None, reason: str
    ) -> ActionResult:
        """Decline a refund waiting for an agent; the customer is told `reason`."""
        reason = reason.strip()[:MAX_DENY_REASON]
        if not reason:
            return _refused(AgentActionKind.DENY, "reason_needed")
        return await self._refund_step(
            agent, handoff_id, refund_id, AgentActionKind.DENY, RefundStatus.REJECTED, reason
        )

    async def transfer_paid(
        self, agent: AgentRef, handoff_id: int, refund_id: int | None = None
    ) -> ActionResult:
        """The agent paid a refund by bank transfer (cash on delivery): it is refunded."""
        return await self._refund_step(
            agent, handoff_id, refund_id, AgentActionKind.TRANSFER_PAID, RefundStatus.REFUNDED
        )

    async def partial_refund(
        self, agent: AgentRef, handoff_id: int, amount: str, *, key: str
    ) -> ActionResult:
        """Refund part of the case's order, at most what was paid and not refunded yet.

        `key` names the agent's input (their message or the prompt they answered), so the
        same input handled twice refunds once.
        """
        kind = AgentActionKind.PARTIAL_REFUND
        try:
            async with self._uow.transaction():
                found = await self._open_case(handoff_id)
                if isinstance(found, ActionResult):
                    return _refused(kind, found.problem)
                ticket, handoff, topic = found
                order = await self._order_of(ticket)
                if order is None:
                    return _refused(kind, "no_order")
                action = self._record(ticket, agent, kind, key=f"partial:{key}")
                try:
                    value = parse_amount(amount, order.currency)
                    update = await self._refunds.stage_grant(
                        order.id,
                        value,
                        actor=agent.actor,
                        event_id=f"agent-partial:{key}",
                        note="partial refund by an agent",
                    )
                except (InvalidAmount, ValueError) as error:
                    await self._uow.rollback()
                    return _refused(kind, "bad_amount", detail=str(error))
                action.refund_id, action.amount, action.currency = (
                    update.refund_id,
                    value,
                    order.currency,
                )
                await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
                await self._after(handoff, topic, agent, kind)
                money = Money(value, order.currency)
                return ActionResult(
                    kind, Result.DONE, agent.name, self._now, details={"amount": money}
                )
        except IntegrityError:
            return await self._already(kind, f"partial:{key}")

    async def voucher(
        self, agent: AgentRef, handoff_id: int, amount: str, *, key: str
    ) -> ActionResult:
        """A compensation voucher for the customer, in their order's currency."""
        kind = AgentActionKind.VOUCHER
        try:
            async with self._uow.transaction():
                found = await self._open_case(handoff_id)
                if isinstance(found, ActionResult):
                    return _refused(kind, found.problem)
                ticket, handoff, topic = found
                order = await self._order_of(ticket)
                if ticket.customer_id is None:
                    return _refused(kind, "not_linked")
                currency = order.currency if order else await self._currency(ticket.customer_id)
                try:
                    value = parse_amount(amount, currency)
                except ValueError as error:
                    return _refused(kind, "bad_amount", detail=str(error))
                if value <= 0:
                    return _refused(kind, "bad_amount", detail="must be above 0")
                action = self._record(ticket, agent, kind, key=f"voucher:{key}")
                money = Money(value, currency)
                voucher = issue_voucher(
                    self._uow,
                    customer_id=ticket.customer_id,
                    kind=VoucherKind.COMPENSATION,
                    value=money,
                    now=self._now,
                )
                await self._uow.flush()
                action.voucher_id, action.amount, action.currency = voucher.id, value, currency
                self._outbox.enqueue(
                    chat_id=ticket.chat_id,
                    customer_id=ticket.customer_id,
                    locale=await self._customer_locale(ticket),
                    template="person/voucher",
                    context=voucher_notice(voucher),
                    dedupe_key=f"voucher:{voucher.id}:issued",
                )
                await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
                await self._after(handoff, topic, agent, kind)
                return ActionResult(
                    kind,
                    Result.DONE,
                    agent.name,
                    self._now,
                    details={"amount": money, "code": voucher.code},
                )
        except IntegrityError:
            return await self._already(kind, f"voucher:{key}")

    async def close(self, agent: AgentRef, handoff_id: int) -> ActionResult:
        """Hand the customer back to the bot; if they talked with us, ask how it went."""
        kind = AgentActionKind.CLOSE
        try:
            async with self._uow.transaction():
                found = await self._open_case(handoff_id)
                if isinstance(found, ActionResult):
                    if found.problem == "closed":
                        return await self._closed_by(kind, handoff_id)
                    return _refused(kind, found.problem)
                ticket, handoff, topic = found
                self._record(ticket, agent, kind, key=f"close:{handoff.id}")
                await self._uow.flush()
                await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
                self._board.notice(
                    topic,
                    await desk_locale(self._uow),
                    "agent/action_done",
                    {"action": kind.value, "agent": agent.name, "details": {}},
                    key=f"handoff:{handoff.id}:closed-notice",
                )
                talked = await self._talked(ticket)
                await self._board.close_case(ticket)
                if talked:
                    locale = await self._customer_locale(ticket)
                    self._outbox.enqueue(
                        chat_id=ticket.chat_id,
                        customer_id=ticket.customer_id,
                        locale=locale,
                        template="person/handed_back",
                        context={},
                        dedupe_key=f"ticket:{ticket.id}:handed-back",
                    )
                    await self._surveys.ask(
                        ticket_subject(ticket.id),
                        ticket.customer_id,
                        chat_id=ticket.chat_id,
                        locale=locale,
                    )
                return ActionResult(
                    kind, Result.DONE, agent.name, self._now, details={"survey": talked}
                )
        except IntegrityError:
            return await self._already(kind, f"close:{handoff_id}")

    async def explain(self, handoff_id: int, result: ActionResult) -> None:
        """Tell the agents in the topic why a typed command did nothing (a button press is
        answered with an alert instead, which costs none of the group's budget)."""
        async with self._uow.transaction():
            handoff = await self._uow.handoffs.handoff(handoff_id)
            topic = await self._uow.handoffs.topic(handoff.topic_id) if handoff else None
            if handoff is None or topic is None:
                return
            self._board.notice(
                topic,
                await desk_locale(self._uow),
                "agent/action_refused",
                {
                    "action": result.action.value,
                    "result": result.result.value,
                    "by": result.by,
                    "at": result.at,
                    "problem": result.problem,
                    "detail": result.details.get("detail"),
                },
                key=f"handoff:{handoff.id}:refused:{secrets.token_hex(6)}",
            )

    # -- helpers ------------------------------------------------------------------------------

    async def _refund_at_step(self, ticket: Ticket, kind: AgentActionKind) -> int | None:
        """The newest refund of the case's order (else the customer's) at this step."""
        order = await self._order_of(ticket)
        refunds = list(await self._uow.refunds.for_order(order.id)) if order else []
        for refund in reversed(refunds):
            if _may(kind, refund):
                return refund.id
        return None

    async def _refund_step(
        self,
        agent: AgentRef,
        handoff_id: int,
        refund_id: int | None,
        kind: AgentActionKind,
        status: RefundStatus,
        note: str | None = None,
    ) -> ActionResult:
        """`refund_id` None: the case's refund at this step (the one its card shows)."""
        key = ""
        try:
            async with self._uow.transaction():
                found = await self._open_case(handoff_id)
                if isinstance(found, ActionResult):
                    return await self._after_close(kind, found, refund_id)
                ticket, handoff, topic = found
                if refund_id is None:
                    refund_id = await self._refund_at_step(ticket, kind)
                    if refund_id is None:
                        return _refused(kind, "no_refund")
                key = f"{kind.value}:{refund_id}"
                refund = await self._uow.refunds.get_for_update(refund_id)
                if refund is None or refund.customer_id != ticket.customer_id:
                    return _refused(kind, "no_refund")
                if not _may(kind, refund):
                    return await self._moved_by(kind, refund)
                action = self._record(ticket, agent, kind, key=key)
                action.refund_id, action.note = refund.id, note
                action.amount, action.currency = refund.amount, refund.currency
                await self._uow.flush()  # a second agent's insert waits here, then fails
                await self._uow.handoffs.seen_agent(agent.user_id, agent.name, self._now)
                # Said in the topic first: the step may close the case (and its topic).
                await self._after(handoff, topic, agent, kind, refund=refund)
                await self._refunds.stage(
                    refund.id,
                    status,
                    actor=agent.actor,
                    event_id=f"agent:{key}",
                    occurred_at=self._now,
                    note=note,
                )
                return ActionResult(kind, Result.DONE, agent.name, self._now)
        except IntegrityError:
            return await self._already(kind, key)
        except IllegalTransition:
            assert refund_id is not None
            async with self._uow.transaction():
                moved = await self._uow.refunds.get(refund_id)
                assert moved is not None
                return await self._moved_by(kind, moved)

    async def _after_close(
        self, kind: AgentActionKind, refused: ActionResult, refund_id: int | None
    ) -> ActionResult:
        """The case closed meanwhile (the refund step it waited for settled it): say who
        took the step, if it was this one."""
        refund = await self._uow.refunds.get(refund_id) if refund_id else None
        if refused.problem == "closed" and refund is not None and not _may(kind, refund):
            return await self._moved_by(kind, refund)
        return _refused(kind, refused.problem)

    async def _after(
        self,
        handoff: Handoff,
        topic: AgentTopic,
        agent: AgentRef,
        kind: AgentActionKind,
        refund: Refund | None = None,
    ) -> None:
        """The card shows what was done; a line in the topic says who did it."""
        locale = await desk_locale(self._uow)
        details: dict[str, Any] = {}
        if refund is not None:
            details = {"refund_id": refund.id, "amount": Money(refund.amount, refund.currency)}
        self._board.refresh_card(handoff, topic.group_chat_id, locale)
        self._board.notice(
            topic,
            locale,
            "agent/action_done",
            {"action": kind.value, "agent": agent.name, "details": details},
            key=f"handoff:{handoff.id}:{kind.value}:{secrets.token_hex(6)}",
        )

    async def _open_case(
        self, handoff_id: int
    ) -> tuple[Ticket, Handoff, AgentTopic] | ActionResult:
        handoff = await self._uow.handoffs.handoff_for_update(handoff_id)
        if handoff is None:
            return _refused(AgentActionKind.TAKE, "no_case")
        ticket = await self._uow.handoffs.ticket(handoff.ticket_id)
        topic = await self._uow.handoffs.topic(handoff.topic_id)
        assert ticket is not None
        assert topic is not None
        if ticket.status is TicketStatus.CLOSED:
            return _refused(AgentActionKind.TAKE, "closed")
        return ticket, handoff, topic

    def _record(
        self, ticket: Ticket, agent: AgentRef, kind: AgentActionKind, *, key: str
    ) -> AgentAction:
        action = AgentAction(
            key=key, ticket_id=ticket.id, agent_id=agent.user_id, action=kind, created_at=self._now
        )
        self._uow.handoffs.add_action(action)
        return action

    async def _already(self, kind: AgentActionKind, key: str) -> ActionResult:
        """Someone recorded this very action first: who, and when."""
        async with self._uow.transaction():
            first = await self._uow.handoffs.action_by_key(key)
            if first is None:
                return _refused(kind, "busy")
            return ActionResult(
                kind, Result.ALREADY, await self._name(first.agent_id), first.created_at
            )

    async def _moved_by(self, kind: AgentActionKind, refund: Refund) -> ActionResult:
        """The refund is past this step: who moved it there, and when."""
        last = refund.events[-1] if refund.events else None
        if last is None:
            return _refused(kind, "no_refund")
        by = actor_kind(last.actor)
        name = (
            await self._name(int(last.actor.split(":", 1)[1]))
            if (by is ActorKind.AGENT and ":" in last.actor)
            else by.value
        )
        return ActionResult(
            kind, Result.ALREADY, name, last.occurred_at, details={"status": refund.status.value}
        )

    async def _closed_by(self, kind: AgentActionKind, handoff_id: int) -> ActionResult:
        handoff = await self._uow.handoffs.handoff(handoff_id)
        ticket = await self._uow.handoffs.ticket(handoff.ticket_id) if handoff else None
        actions = await self._uow.handoffs.actions_for_ticket(ticket.id) if ticket else []
        closer = next((a for a in reversed(actions) if a.action is kind), None)
        if closer is not None:
            return ActionResult(
                kind, Result.ALREADY, await self._name(closer.agent_id), closer.created_at
            )
        return ActionResult(kind, Result.ALREADY, None, ticket.closed_at if ticket else None)

    async def _follow_up(self, closed: Ticket) -> tuple[Ticket, Handoff]:
        """A new case for the customer of a closed one: an agent is writing to them."""
        conversation_id = await self._uow.conversations.latest_id_for_chat(closed.chat_id)
        ticket = await self._tickets.stage_for_chat(
            telegram_user_id=closed.telegram_user_id,
            chat_id=closed.chat_id,
            conversation_id=conversation_id or closed.conversation_id,
            customer_id=closed.customer_id,
            reason=TicketReason.AGENT_FOLLOW_UP,
            case_id=closed.case_id,
        )
        handoff = await self._uow.handoffs.handoff_for_ticket(ticket.id)
        assert handoff is not None  # the desk is ready: an agent wrote in it
        return ticket, handoff

    async def _talked(self, ticket: Ticket) -> bool:
        """The customer talked with agents on this ticket (it was live, or messages went)."""
        if await self._uow.handoffs.live_ticket_id(ticket.telegram_user_id) == ticket.id:
            return True
        return bool(await self._uow.handoffs.relays_for_ticket(ticket.id, 1))

    async def _order_of(self, ticket: Ticket) -> Any:
        case = await self._uow.cases.get(ticket.case_id) if ticket.case_id else None
        return await self._uow.orders.get(case.order_id) if case and case.order_id else None

    async def _currency(self, customer_id: int) -> str:
        orders = await self._uow.orders.for_customer(customer_id, limit=1)
        return orders[0].currency if orders else "CNY"

    async def _customer_locale(self, ticket: Ticket) -> str:
        account = await self._uow.telegram_users.get(ticket.telegram_user_id)
        customer = await self._uow.customers.get(ticket.customer_id) if ticket.customer_id else None
        return pick_locale(
            account.locale if account else None,
            customer.locale if customer else None,
            account.language_code if account else None,
            self._default_locale,
        )

    async def _name(self, agent_id: int) -> str:
        profile = await self._uow.handoffs.profile(agent_id)
        return profile.name if profile and profile.name else str(agent_id)

    @property
    def _now(self) -> datetime:
        return self._clock.now()


def _may(kind: AgentActionKind, refund: Refund) -> bool:
    """Whether the refund is at the step this action takes."""
    if kind in (AgentActionKind.APPROVE, AgentActionKind.DENY):
        return refund.status is RefundStatus.PENDING_REVIEW
    if kind is AgentActionKind.TRANSFER_PAID:
        return refund.status in _TRANSFER_OPEN and refund.method is PaymentMethod.BANK_TRANSFER
    return False


def _refused(
    kind: AgentActionKind, problem: str | None, *, detail: str | None = None
) -> ActionResult:
    details = {"detail": detail} if detail else {}
    return ActionResult(kind, Result.REFUSED, problem=problem or "no_case", details=details)
