"""The refund state machine: which transitions are legal, in one table.

pending_review ─► approved ─► processing ─► refunded
     │               │  └──────────────────► refunded   (store credit: at once)
     ├─► rejected    ├─► cancelled             ▲
     └─► cancelled   └─► failed ─► processing ─┘ (retried)
                               └─► cancelled
"""

from __future__ import annotations

from enum import StrEnum

from storage.enums import RefundStatus as S

TRANSITIONS: dict[S | None, frozenset[S]] = {
    None: frozenset({S.PENDING_REVIEW, S.APPROVED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PROCESSING, S.REFUNDED, S.FAILED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.REFUNDED, S.FAILED}),
    S.FAILED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.REFUNDED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

FINAL = frozenset(state for state, nexts in TRANSITIONS.items() if state and not nexts)
# Money that is on its way: these statuses carry an expected arrival (`Refund.expected_by`).
ON_ITS_WAY = frozenset({S.APPROVED, S.PROCESSING})
# Statuses whose event note is the customer's explanation (why it was declined or
# withdrawn); every other note is internal. bot.services.refunds.updates applies the same.
NOTE_SHOWN = frozenset({S.REJECTED, S.CANCELLED})


class IllegalTransition(ValueError):
    """A move the table forbids. Cancellation requests raise a subclass (request_states), so
    every caller that answers this one (merchant API, CLI, agents) answers both."""

    def __init__(self, current: StrEnum | None, wanted: StrEnum, subject: str = "a refund") -> None:
        super().__init__(f"{subject} cannot go from {current or 'nothing'} to {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: S | None, wanted: S) -> None:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(current, wanted)
