"""Opening refunds and moving them along, always with an event that says who and when.

Every change of a refund goes through `RefundLedger`, whoever asks for it: the
cancellation flow, an agent, the merchant's API or the command line; so does every
`refund.state_changed` event for the merchant's webhook.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.merchant.webhook_events import refund_changed
from bot.services.refunds.states import check_transition
from storage.enums import PaymentMethod, RefundStatus
from storage.models import CancellationRequest, Refund, RefundEvent
from storage.uow import UnitOfWork

BOT_ACTOR = "bot"
CUSTOMER_ACTOR = "customer"
# An agent is "agent" or "agent:<their id>"; other actors are the merchant's systems or
# operators ("merchant", "cli", …).
AGENT_ACTOR = "agent"


class ActorKind(StrEnum):
    """Who moved a refund, as a customer may be told: never the internal actor id."""

    BOT = "bot"
    MERCHANT = "merchant"
    AGENT = "agent"
    CUSTOMER = "customer"


def actor_kind(actor: str) -> ActorKind:
    """The kind behind a stored actor; anything not ours or the customer's is the shop's."""
    if actor == BOT_ACTOR:
        return ActorKind.BOT
    if actor == CUSTOMER_ACTOR:
        return ActorKind.CUSTOMER
    if actor == AGENT_ACTOR or actor.startswith(f"{AGENT_ACTOR}:"):
        return ActorKind.AGENT
    return ActorKind.MERCHANT


def awaits_goods(request: CancellationRequest | None) -> bool:
    """The request's refund waits for goods to come back (a return the policy wants sent
    back); until the merchant moves the refund on, nothing is paid."""
    return request is not None and bool((request.decision or {}).get("return_required"))


class RefundLedger:
    """Stages refund rows and their events in the caller's transaction."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def open(
        self,
        *,
        order_id: int,
        customer_id: int,
        amount: Money,
        method: PaymentMethod,
        status: RefundStatus,
        request_id: int | None = None,
        offer_id: int | None = None,
        expected_by: datetime | None = None,
        actor: str = BOT_ACTOR,
        note: str | None = None,
    ) -> Refund:
        check_transition(None, status)
        now = self._clock.now()
        refund = Refund(
            order_id=order_id,
            customer_id=customer_id,
            request_id=request_id,
            offer_id=offer_id,
            amount=amount.amount,
            currency=amount.currency,
            method=method,
            status=status,
            expected_by=expected_by,
            created_at=now,
            updated_at=now,
        )
        event = RefundEvent(
            from_status=None,
            to_status=status,
            actor=actor,
            note=note,
            occurred_at=now,
            recorded_at=now,
        )
        refund.events.append(event)
        self._uow.refunds.add(refund)
        refund_changed(self._uow, refund, event, actor_kind(actor).value)
        return refund

    def move(
        self,
        refund: Refund,
        status: RefundStatus,
        *,
        actor: str,
        note: str | None = None,
        occurred_at: datetime | None = None,
        external_event_id: str | None = None,
    ) -> RefundEvent:
        """Apply one legal transition, or raise IllegalTransition and change nothing."""
        check_transition(refund.status, status)
        now = self._clock.now()
        event = RefundEvent(
            from_status=refund.status,
            to_status=status,
            actor=actor,
            note=note,
            external_event_id=external_event_id,
            occurred_at=occurred_at or now,
            recorded_at=now,
        )
        refund.events.append(event)
        refund.status = status
        refund.updated_at = now
        refund_changed(self._uow, refund, event, actor_kind(actor).value)
        return event
