"""The overdue watchdog: a refund stuck past the policy's `[sla]` is reported, once.

`OverdueWatchdog.sweep(now)` finds refunds that have stayed too long in their current
status (one repository query) and escalates each in its own transaction: a marker row
(`RefundEscalation`, unique per stay in a status), a "still working on it, here is why"
message to the customer and an alert to the agents (in the customer's case topic when
the agents' group is ready, a case opened for it; else a message to AGENT_CHAT_ID), both
through the outbox. The customer's message says the team was asked only when an alert
was actually staged (no agents' chat configured: it says the refund is late, no more).
The marker and the messages commit together, so a refund is told about exactly once
per stay even when two processes sweep at the same moment: the refund row is locked
(PostgreSQL) and checked again, and the unique marker settles whatever slips past.

How long is too long (`SlaSettings`), measured from when the current status began:
    pending_review  pending_review_hours
    approved        approved_hours          (approved, but the payment has not started;
                                             not while a return waits for the parcel:
                                             the merchant moves it on when it is back,
                                             and the new status has its own clock)
                    return_days             (approved, the parcel not back: the customer
                                             is asked to send it, the agents to check)
    failed          failed_hours            (not retried)
    processing      processing_grace_days after the expected arrival (`expected_by`,
                    which already allows the method's `[arrival]` max)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.services.conversation.customer_chat import customer_chat
from bot.services.conversation.tickets import TicketService
from bot.services.domain.clock import FixedClock
from bot.services.domain.money import Money
from bot.services.handoff.board import Board, ready_desk
from bot.services.outbox import Outbox
from bot.services.policy import Policy
from bot.services.refunds.service import awaits_goods
from storage.enums import PaymentMethod, RefundStatus, TicketReason
from storage.models import Customer, Refund, RefundEscalation, RefundEvent
from storage.repositories.refunds import StageLimit, StuckStage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SWEEP_BATCH = 100
CUSTOMER_TEMPLATE = "notify/refund_overdue"
AGENT_TEMPLATE = "agent/refund_overdue"


@dataclass
class SweepReport:
    """What one sweep did, for its log line."""

    found: int = 0
    escalated: int = 0
    skipped: int = 0
    """Found stuck, but another sweeper escalated it first or it moved on meanwhile."""
    errors: int = 0
    messages: int = 0


def sla_limits(policy: Policy, now: datetime) -> list[StageLimit]:
    """The SLA as cut-offs at `now`: stuck means strictly more than the allowed time."""
    sla = policy.sla
    return [
        StageLimit(RefundStatus.PENDING_REVIEW, now - sla.pending_review),
        StageLimit(RefundStatus.APPROVED, now - sla.approved, awaiting_goods=False),
        StageLimit(RefundStatus.APPROVED, now - sla.awaiting_return, awaiting_goods=True),
        StageLimit(RefundStatus.FAILED, now - sla.failed),
        StageLimit(RefundStatus.PROCESSING, now - sla.processing_grace, from_expected_by=True),
    ]


class OverdueWatchdog:
    """Finds stuck refunds and escalates each once; safe to run in several processes.

    It takes a unit-of-work factory rather than one unit: every refund is escalated in
    its own short transaction on a fresh session, so one failure or lost race undoes
    nothing else, and no stale object from an earlier transaction is trusted.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        policy: Policy,
        *,
        default_locale: str,
        agent_chat_id: int | None,
    ) -> None:
        self._uow = uow_factory
        self._policy = policy
        self._default_locale = default_locale
        self._agent_chat_id = agent_chat_id

    def limits(self, now: datetime) -> list[StageLimit]:
        return sla_limits(self._policy, now)

    async def sweep(self, now: datetime) -> int:
        """Escalate every refund stuck at `now` and not yet escalated for its current stay.

        Returns how many were escalated by this call; the caller kicks the notifier.
        """
        report = SweepReport()
        limits = self.limits(now)
        after_id = 0
        while True:
            async with self._uow() as uow, uow.transaction():
                batch = await uow.refunds.stuck(limits, after_id=after_id, limit=SWEEP_BATCH)
            report.found += len(batch)
            for stage in batch:
                await self._escalate_one(stage, now, report)
            if len(batch) < SWEEP_BATCH:
                break
            after_id = batch[-1].refund_id
        log.info(
            "watchdog sweep: stuck=%d escalated=%d skipped=%d errors=%d messages=%d",
            report.found,
            report.escalated,
            report.skipped,
            report.errors,
            report.messages,
        )
        return report.escalated

    async def _escalate_one(self, stage: StuckStage, now: datetime, report: SweepReport) -> None:
        try:
            messages = await self._escalate(stage, now)
        except IntegrityError:
            # Another sweeper's marker for this very stay committed first.
            messages = None
        except Exception:
            log.exception("watchdog: refund %d could not be escalated", stage.refund_id)
            report.errors += 1
            return
        if messages is None:
            report.skipped += 1
        else:
            report.escalated += 1
            report.messages += messages

    async def _escalate(self, stage: StuckStage, now: datetime) -> int | None:
        """One refund in one transaction; None when it is no longer ours to escalate."""
        async with self._uow() as uow, uow.transaction():
            refund = await uow.refunds.get_for_update(stage.refund_id)
            if refund is None or not refund.events or refund.events[-1].id != stage.event_id:
                return None  # it moved on since the search: the next sweep judges its new stay
            if await uow.refunds.escalation_for(stage.event_id) is not None:
                return None  # another sweeper was first (it held the lock meanwhile)
            event = refund.events[-1]
            escalation = RefundEscalation(
                refund_id=refund.id,
                event_id=event.id,
                status=refund.status,
                stuck_since=event.occurred_at,
                escalated_at=now,
                customer_notified=False,
                agents_notified=False,
            )
            uow.refunds.add_escalation(escalation)
            await uow.flush()  # a lost race fails here, before any message is staged
            return await self._notify(uow, refund, event, escalation, now)

    async def _notify(
        self,
        uow: UnitOfWork,
        refund: Refund,
        event: RefundEvent,
        escalation: RefundEscalation,
        now: datetime,
    ) -> int:
        """Stage the customer's message and the agents' alert; returns how many."""
        customer = await uow.customers.get(refund.customer_id)
        order = await uow.orders.get(refund.order_id)
        assert customer is not None  # foreign keys
        assert order is not None
        outbox = Outbox(uow, FixedClock(now))
        request = (
            None if refund.request_id is None else await uow.cases.get_request(refund.request_id)
        )
        arrival = (
            None
            if refund.method is PaymentMethod.CASH_ON_DELIVERY
            else self._policy.arrival.for_method(refund.method)
        )
        facts: dict[str, Any] = {
            "order_number": order.number,
            "status": refund.status.value,
            "amount": Money(refund.amount, refund.currency),
            "method": refund.method.value,
            "since": event.occurred_at,
            "expected_by": refund.expected_by,
            "arrival": arrival.model_dump(mode="json") if arrival else None,
            # Approved, but the goods are still to come back: the parcel is what is late.
            "awaiting_return": refund.status is RefundStatus.APPROVED and awaits_goods(request),
        }
        key = f"refund:{refund.id}:overdue:{event.id}"
        chat = await customer_chat(uow, customer, self._default_locale)
        escalation.customer_notified = chat is not None
        alert = {
            **facts,
            "refund_id": refund.id,
            "customer_name": customer.name,
            "customer_id": customer.external_id,
            # Agents are staff: they see who moved it last and the internal note.
            "actor": event.actor,
            "note": event.note,
            "customer_notified": escalation.customer_notified,
        }
        # The agents first: the customer is told "I have asked the team" only if they were.
        escalation.agents_notified = await self._alert_agents(
            uow, refund, customer, alert, key, now
        )
        if chat is not None:
            outbox.enqueue(
                chat_id=chat.chat_id,
                customer_id=customer.id,
                locale=chat.locale,
                template=CUSTOMER_TEMPLATE,
                context={**facts, "team_told": escalation.agents_notified},
                dedupe_key=key,
                # As the refund's status notices: a newer one queued replaces this one.
                coalesce_key=f"refund:{refund.id}",
            )
        return int(escalation.customer_notified) + int(escalation.agents_notified)

    async def _alert_agents(
        self,
        uow: UnitOfWork,
        refund: Refund,
        customer: Customer,
        alert: dict[str, Any],
        key: str,
        now: datetime,
    ) -> bool:
        """Into the customer's case topic when the agents' group is ready (the case is opened
        for it), else as a plain message to AGENT_CHAT_ID; False when neither exists."""
        tickets = TicketService(uow, FixedClock(now))
        if await ready_desk(uow) is not None:
            ticket = await tickets.stage_for_customer(
                customer,
                TicketReason.REFUND_OVERDUE,
                case_id=await tickets.case_of(refund),
                default_locale=self._default_locale,
            )
            if ticket is not None and await Board(uow, FixedClock(now)).notice_for_ticket(
                ticket, AGENT_TEMPLATE, alert, key=f"agents:{key}"
            ):
                return True
        if self._agent_chat_id is None:
            return False
        Outbox(uow, FixedClock(now)).enqueue(
            chat_id=self._agent_chat_id,
            locale=self._default_locale,
            template=AGENT_TEMPLATE,
            context=alert,
            dedupe_key=f"agents:{key}",
        )
        return True
