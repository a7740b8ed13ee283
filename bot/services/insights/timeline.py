"""One case's story, in time order, for the dashboard: what was said and what happened.

Personal data is masked as in the logs (`bot.logs.mask`: phone numbers keep their last
four digits, e-mail addresses their first letter and domain) and, since messages greet
people by name, the customer's and the Telegram account's names are cut to an initial.
Telegram HTML is reduced to its text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.logs import mask
from bot.services.conversation.surveys import request_subject
from bot.services.domain.money import Money
from bot.services.refunds.service import actor_kind
from storage.enums import CaseStatus, Direction, ReasonCode
from storage.uow import UnitOfWork

MAX_TRANSCRIPT_LINES = 500
_TAG = re.compile(r"<[^>]+>")


class EntryKind(StrEnum):
    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    NOTICE = "notice"  # a message the outbox notifier delivered
    CASE_STARTED = "case_started"
    OFFER_SHOWN = "offer_shown"
    OFFER_ANSWERED = "offer_answered"
    REQUEST_MADE = "request_made"
    REFUND_EVENT = "refund_event"
    TICKET_OPENED = "ticket_opened"
    TICKET_CLOSED = "ticket_closed"
    SURVEY_ASKED = "survey_asked"
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_COMMENTED = "survey_commented"
    CASE_ENDED = "case_ended"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: EntryKind
    text: str | None = None
    """Masked text: a message, a note, a comment."""
    details: dict[str, str] = field(default_factory=dict)
    """Codes and amounts, e.g. {"type": "exchange", "status": "accepted"}."""


@dataclass(frozen=True, slots=True)
class DecisionView:
    eligible: bool
    rule: str
    kind: str | None
    refund: Money | None
    approval: str | None


@dataclass(frozen=True, slots=True)
class CaseTimeline:
    case_id: int
    started_at: datetime
    status: CaseStatus
    order_number: str | None
    customer_ref: str | None
    reason: ReasonCode | None
    reason_text: str | None
    decision: DecisionView | None
    entries: tuple[TimelineEntry, ...]
    transcript_cut: bool
    """True when the conversation was longer than MAX_TRANSCRIPT_LINES (the latest kept)."""


async def build_timeline(uow: UnitOfWork, case_id: int, *, now: datetime) -> CaseTimeline | None:
    case = await uow.cases.get(case_id)
    if case is None:
        return None
    order = await uow.orders.get(case.order_id) if case.order_id else None
    customer = await uow.customers.get(case.customer_id) if case.customer_id else None
    user = await uow.telegram_users.get(case.telegram_user_id)
    names = _names(
        customer.name if customer else None,
        user.first_name if user else None,
        user.username if user else None,
    )

    def clean(text: str | None) -> str | None:
        return _masked(text, names) if text else text

    entries = [TimelineEntry(case.created_at, EntryKind.CASE_STARTED)]
    transcript = list(await uow.conversations.transcript(case.conversation_id))
    cut = len(transcript) > MAX_TRANSCRIPT_LINES
    for line in transcript[-MAX_TRANSCRIPT_LINES:]:
        kind = (
            EntryKind.MESSAGE_IN
            if line.direction is Direction.IN
            else EntryKind.NOTICE
            if line.kind == "notice"
            else EntryKind.MESSAGE_OUT
        )
        buttons = (line.payload or {}).get("buttons") or []
        details = {"kind": line.kind}
        if buttons:
            details["buttons"] = " · ".join(clean(str(b)) or "" for b in buttons)
        entries.append(TimelineEntry(line.created_at, kind, clean(line.text), details))
    offers = list(await uow.offers.for_case(case.id))
    for offer in offers:
        value = Money(offer.value, offer.currency)
        details = {"type": offer.type.value, "value": value.format()}
        entries.append(TimelineEntry(offer.shown_at, EntryKind.OFFER_SHOWN, details=details))
        if offer.answered_at is not None:
            entries.append(
                TimelineEntry(
                    offer.answered_at,
                    EntryKind.OFFER_ANSWERED,
                    details={**details, "status": offer.status.value},
                )
            )
    request = await uow.cases.request_for_case(case.id)
    refunds = list(await uow.insights.refunds_of_order(order.id)) if order else []
    offer_ids = {offer.id for offer in offers}
    mine = [
        refund
        for refund in refunds
        if (request is not None and refund.request_id == request.id) or refund.offer_id in offer_ids
    ]
    if request is not None:
        amount = Money(request.refund_amount or Decimal(0), request.currency)
        entries.append(
            TimelineEntry(
                request.created_at,
                EntryKind.REQUEST_MADE,
                details={
                    "id": str(request.id),
                    "kind": request.kind.value,
                    "status": request.status.value,
                    "rule": request.rule or "",
                    "refund": amount.format(),
                },
            )
        )
    for refund in mine:
        for event in refund.events:
            entries.append(
                TimelineEntry(
                    event.occurred_at,
                    EntryKind.REFUND_EVENT,
                    clean(event.note),
                    {
                        "refund": str(refund.id),
                        "from": event.from_status.value if event.from_status else "",
                        "to": event.to_status.value,
                        "actor": actor_kind(event.actor).value,
                        "amount": Money(refund.amount, refund.currency).format(),
                        "method": refund.method.value,
                    },
                )
            )
    for ticket in await uow.insights.tickets_of_cases([case.id]):
        details = {"reason": ticket.reason.value, "status": ticket.status.value}
        entries.append(TimelineEntry(ticket.created_at, EntryKind.TICKET_OPENED, details=details))
        if ticket.closed_at is not None:
            entries.append(
                TimelineEntry(ticket.closed_at, EntryKind.TICKET_CLOSED, details=details)
            )
    if request is not None:
        survey = await uow.insights.survey_by_subject(request_subject(request.id))
        if survey is not None:
            entries.append(TimelineEntry(survey.asked_at, EntryKind.SURVEY_ASKED))
            if survey.answered_at is not None:
                stars = {"rating": str(survey.rating)}
                entries.append(
                    TimelineEntry(survey.answered_at, EntryKind.SURVEY_ANSWERED, details=stars)
                )
            if survey.commented_at is not None:
                entries.append(
                    TimelineEntry(
                        survey.commented_at, EntryKind.SURVEY_COMMENTED, clean(survey.comment)
                    )
                )
    if case.closed_at is not None:
        entries.append(
            TimelineEntry(
                case.closed_at, EntryKind.CASE_ENDED, details={"status": case.status.value}
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return CaseTimeline(
        case_id=case.id,
        started_at=case.created_at,
        status=case.status,
        order_number=order.number if order else None,
        customer_ref=customer.external_id if customer else None,
        reason=case.reason_code,
        reason_text=clean(case.reason_text),
        decision=_decision(case.decision),
        entries=tuple(entries),
        transcript_cut=cut,
    )


def _decision(stored: dict[str, object] | None) -> DecisionView | None:
    if not stored or "eligible" not in stored:
        return None
    amount, currency = stored.get("refund_amount"), stored.get("currency")
    refund = Money(Decimal(str(amount)), str(currency)) if amount and currency else None
    kind = stored.get("kind")
    approval = stored.get("approval")
    return DecisionView(
        eligible=bool(stored["eligible"]),
        rule=str(stored.get("rule") or ""),
        kind=str(kind) if kind else None,
        refund=refund,
        approval=str(approval) if approval else None,
    )


def _names(*raw: str | None) -> list[str]:
    """The name strings to hide: each whole name, and each word of two letters or more."""
    found: set[str] = set()
    for name in raw:
        if not name or not name.strip():
            continue
        found.add(name.strip())
        found.update(word for word in name.split() if len(word) >= 2)
    return sorted(found, key=len, reverse=True)


def _masked(text: str, names: Iterable[str]) -> str:
    plain = html.unescape(_TAG.sub("", text))
    for name in names:
        plain = plain.replace(name, name[0] + "…")
    return mask(plain)
