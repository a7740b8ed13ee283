"""The case card: everything an agent needs at the top of the customer's topic.

Read when the card is sent (the outbox row names only the case), so it always shows
the case as it is then: the customer (tier, language, how linked, whether they blocked
the bot), the order and its items, the reason in their own words, the policy's decision
with its breakdown, the offers shown and their answers, the refunds, the last messages
and what agents did. Free text is cut short here; the notifier drops old messages
until the card fits Telegram's 4096 characters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.services.conversation.views import OrderView
from bot.services.domain.money import Money
from storage.enums import (
    AgentActionKind,
    Direction,
    HandoffState,
    PaymentMethod,
    RefundStatus,
    TicketStatus,
)
from storage.models import Refund
from storage.uow import UnitOfWork

MESSAGE_CHARS = 200
_TAG = re.compile(r"<[^>]*>")
REASON_CHARS = 500
CARD_MESSAGES = 8


class CardButton(StrEnum):
    """What a card's button does; the same actions exist as commands in the topic."""

    TAKE = "tk"
    APPROVE = "ap"
    DENY = "dn"
    PARTIAL = "pr"
    VOUCHER = "vc"
    TRANSFER_PAID = "tp"
    CLOSE = "cl"


@dataclass(frozen=True, slots=True)
class Button:
    action: CardButton
    refund_id: int = 0


@dataclass(frozen=True, slots=True)
class Card:
    handoff_id: int
    card_message_id: int | None
    context: dict[str, Any]
    buttons: tuple[Button, ...] = ()
    messages: list[dict[str, Any]] = field(default_factory=list)


async def load_card(uow: UnitOfWork, handoff_id: int, locale: str) -> Card | None:
    """The card of case `handoff_id` as it is now, or None when there is no such case."""
    handoff = await uow.handoffs.handoff(handoff_id)
    ticket = await uow.handoffs.ticket(handoff.ticket_id) if handoff else None
    if handoff is None or ticket is None:
        return None
    account = await uow.telegram_users.get(ticket.telegram_user_id)
    customer = await uow.customers.get(ticket.customer_id) if ticket.customer_id else None
    case = await uow.cases.get(ticket.case_id) if ticket.case_id else None
    order = await uow.orders.get(case.order_id) if case and case.order_id else None
    offers = await uow.offers.for_case(case.id) if case else []
    refunds = list(await uow.refunds.for_order(order.id)) if order else []
    actions = await uow.handoffs.actions_for_ticket(ticket.id)
    names = await uow.handoffs.profiles(
        [a.agent_id for a in actions] + ([handoff.taken_by] if handoff.taken_by else [])
    )
    lines = await uow.handoffs.transcript_tail(ticket.conversation_id, CARD_MESSAGES)

    def name(agent_id: int | None) -> str | None:
        if agent_id is None:
            return None
        profile = names.get(agent_id)
        return profile.name if profile and profile.name else str(agent_id)

    is_open = ticket.status is TicketStatus.OPEN
    context: dict[str, Any] = {
        "ticket": {"id": ticket.id, "reason": ticket.reason.value, "created_at": ticket.created_at},
        "state": handoff.state.value,
        "taken_by": name(handoff.taken_by),
        "customer": None
        if customer is None
        else {
            "name": customer.name,
            "external_id": customer.external_id,
            "tier": customer.tier.value,
            "linked_via": customer.linked_via.value if customer.linked_via else None,
        },
        "account": {
            "first_name": account.first_name if account else "",
            "username": account.username if account else None,
            "language": (account.locale or account.language_code) if account else None,
            "blocked": bool(account and account.blocked_at),
        },
        "order": OrderView.of(order, locale) if order else None,
        "case": None
        if case is None
        else {
            "reason_code": case.reason_code.value if case.reason_code else None,
            "reason_text": _cut(case.reason_text, REASON_CHARS),
            "condition": case.item_condition.value if case.item_condition else None,
            "photo": case.photo_file_id is not None,
        },
        "decision": _decision(case.decision if case else None),
        "offers": [
            {"type": o.type.value, "value": Money(o.value, o.currency), "status": o.status.value}
            for o in offers
        ],
        "refunds": [_refund(refund) for refund in refunds],
        "actions": [
            {
                "action": a.action.value,
                "agent": name(a.agent_id),
                "at": a.created_at,
                "amount": Money(a.amount, a.currency)
                if a.amount is not None and a.currency
                else None,
                "note": _cut(a.note, MESSAGE_CHARS),
            }
            for a in actions
            if a.action is not AgentActionKind.TAKE or handoff.state is not HandoffState.NEW
        ],
        "open": is_open,
    }
    messages = [
        {
            "direction": line.direction.value,
            "kind": line.kind,
            "text": _cut(_readable(line.text, line.direction), MESSAGE_CHARS),
            "at": line.created_at,
        }
        for line in lines
        if line.kind not in ("button", "edit_buttons", "alert")
    ]
    buttons = _buttons(is_open, handoff.taken_by is None, customer is not None, order, refunds)
    return Card(handoff.id, handoff.card_message_id, context, buttons, messages)


def _buttons(
    is_open: bool, untaken: bool, linked: bool, order: Any, refunds: list[Refund]
) -> tuple[Button, ...]:
    if not is_open:
        return ()
    buttons: list[Button] = []
    if untaken:
        buttons.append(Button(CardButton.TAKE))
    for refund in refunds:
        if refund.status is RefundStatus.PENDING_REVIEW:
            buttons += [Button(CardButton.APPROVE, refund.id), Button(CardButton.DENY, refund.id)]
        elif refund.method is PaymentMethod.BANK_TRANSFER and refund.status in (
            RefundStatus.APPROVED,
            RefundStatus.PROCESSING,
        ):
            buttons.append(Button(CardButton.TRANSFER_PAID, refund.id))
    if linked and order is not None:
        buttons.append(Button(CardButton.PARTIAL))
    if linked:
        buttons.append(Button(CardButton.VOUCHER))
    buttons.append(Button(CardButton.CLOSE))
    return tuple(buttons)


def _refund(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "amount": Money(refund.amount, refund.currency),
        "method": refund.method.value,
        "status": refund.status.value,
    }


def _decision(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored decision with its amounts as Money, for the money filter."""
    if not stored:
        return None
    currency = stored.get("currency", "CNY")
    return {
        "eligible": stored.get("eligible"),
        "rule": stored.get("rule"),
        "approval": stored.get("approval"),
        "approval_reasons": list(stored.get("approval_reasons", [])),
        "refund": _money(stored.get("refund_amount"), currency),
        "breakdown": [
            {
                "code": line.get("code"),
                "price": _money(line.get("price"), currency),
                "amount": _money(line.get("amount"), currency),
                "percent": Decimal(line["percent"]) if line.get("percent") else None,
                "kept": _money(line["kept"], currency) if line.get("kept") else None,
            }
            for line in stored.get("breakdown", [])
        ],
    }


def _money(amount: Any, currency: str) -> Money:
    return Money(Decimal(str(amount or "0")), currency)


def _readable(text: str | None, direction: Direction) -> str | None:
    """What the customer read: the bot's messages are kept as the Telegram HTML it sent,
    which the card (itself HTML, escaped) would otherwise show with its tags."""
    if text is None or direction is not Direction.OUT:
        return text
    return html.unescape(_TAG.sub("", text))


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
