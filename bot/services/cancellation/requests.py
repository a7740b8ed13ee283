"""Making a cancellation request and moving it on: the only code that writes its status.

Every caller (the customer's confirmation, an accepted alternative, the merchant's own
cancellation, refund events from the merchant, the CLI and the agents, the demo data)
builds requests with `new_request` and changes them with `move_request`, so the table in
`request_states` holds for all of them and `is_active` always agrees with the status.
Both only stage changes in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.services.cancellation.request_states import check_transition, is_active
from storage.enums import ReasonCode, RequestKind, RequestStatus
from storage.models import (
    CancellationItem,
    CancellationRequest,
    Order,
    SupportCase,
)


def case_key(case_id: int) -> str:
    """A customer's request is keyed by its case: confirming twice makes one request."""
    return f"case:{case_id}"


def whole_order(order: Order) -> dict[int, int]:
    """Every item of the order, in full."""
    return {item.id: item.quantity for item in order.items}


def new_request(
    order: Order,
    *,
    kind: RequestKind,
    status: RequestStatus,
    lines: Mapping[int, int],
    refund_amount: Decimal,
    now: datetime,
    case: SupportCase | None = None,
    idempotency_key: str | None = None,
    reason_code: ReasonCode | None = None,
    reason_text: str | None = None,
    rule: str | None = None,
    decision: dict[str, Any] | None = None,
) -> CancellationRequest:
    """A request for `lines` (order item id → quantity; zeros left out) of `order`.

    From a customer's `case` it carries what they told the bot (reason, words, condition,
    photo) and is keyed by the case; without one (the shop's own cancellation) the caller
    names the reason and the key. The row is returned, not added: the caller adds it.
    """
    check_transition(None, status)
    if case is not None:
        reason_code = reason_code or case.reason_code
        reason_text = case.reason_text
        idempotency_key = case_key(case.id)
    if reason_code is None or idempotency_key is None:
        raise ValueError("a request needs a reason and an idempotency key (or a case)")
    return CancellationRequest(
        order_id=order.id,
        customer_id=order.customer_id,
        case_id=case.id if case else None,
        conversation_id=case.conversation_id if case else None,
        kind=kind,
        status=status,
        is_active=is_active(status),
        reason_code=reason_code,
        reason_text=reason_text,
        item_condition=case.item_condition if case else None,
        photo_file_id=case.photo_file_id if case else None,
        rule=rule,
        decision=decision,
        refund_amount=refund_amount,
        currency=order.currency,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
        items=[
            CancellationItem(order_item_id=item_id, quantity=quantity)
            for item_id, quantity in lines.items()
            if quantity
        ],
    )


def move_request(request: CancellationRequest, status: RequestStatus, now: datetime) -> None:
    """Apply one legal transition, or raise IllegalRequestTransition and change nothing.

    A final status releases the order (`is_active` false) and records when it ended.
    """
    check_transition(request.status, status)
    request.status = status
    request.is_active = is_active(status)
    request.updated_at = now
    if not request.is_active:
        request.closed_at = now
