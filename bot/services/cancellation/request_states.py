"""The cancellation request state machine: which moves are legal, in one table.

pending_review ─► approved ─► completed     (refunded, exchanged, or nothing to pay back)
     │               └──────► withdrawn     (its refund was called off)
     ├─► denied                              (its refund was rejected)
     └─► withdrawn

A request is active (it holds the order: at most one active request per order, enforced by
a partial unique index) exactly while it can still move, so `is_active` follows from the
status and is never chosen by hand. `bot.services.cancellation.requests` applies the table.
"""

from __future__ import annotations

from bot.services.refunds.states import IllegalTransition
from storage.enums import RequestStatus as S

TRANSITIONS: dict[S | None, frozenset[S]] = {
    # Born waiting for an agent, or approved at once; a request finished as it is made
    # (store credit, nothing left to pay back) is born approved and completed in the same
    # transaction.
    None: frozenset({S.PENDING_REVIEW, S.APPROVED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.DENIED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.COMPLETED: frozenset(),
    S.DENIED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

FINAL = frozenset(state for state, nexts in TRANSITIONS.items() if state and not nexts)
ACTIVE = frozenset(state for state in S if state not in FINAL)


def is_active(status: S) -> bool:
    """A request holds its order until it can move no more."""
    return status in ACTIVE


class IllegalRequestTransition(IllegalTransition):
    """A subclass of the refund's error on purpose: a request moves with its refund, so the
    merchant API (409 illegal_transition), the CLI and the agents answer it the same way."""

    def __init__(self, current: S | None, wanted: S) -> None:
        super().__init__(current, wanted, subject="a cancellation request")


def may_move(current: S | None, wanted: S) -> bool:
    return wanted in TRANSITIONS[current]


def check_transition(current: S | None, wanted: S) -> None:
    if not may_move(current, wanted):
        raise IllegalRequestTransition(current, wanted)
