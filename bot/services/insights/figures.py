"""The merchant's figures for one period, as plain values every surface shows alike.

The report, the dashboard and the agents' /stats read these objects; none of
them computes a figure of its own. Money is `Money` per currency and never summed across
currencies; a share whose denominator is zero has no value (`Rate.percent` is None), and
the surfaces show "—" for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.services.domain.money import Money
from storage.enums import OfferType, PaymentMethod, ReasonCode

NONE = "none"
"""The group of a case that lacks the attribute (no order chosen yet, no reason given)."""
MERCHANT = "merchant"
"""The group of what the shop did itself (its own cancellations), which has no customer."""
_TENTHS = Decimal("0.1")


class Dimension(StrEnum):
    """What the figures can be split by."""

    REASON = "reason"
    ORDER_STATUS = "order_status"  # the order's status when the case started
    CATEGORY = "category"  # the category of the case's most valuable item
    TIER = "tier"
    LANGUAGE = "language"
    AGENT = "agent"  # the agent who handled the case (their Telegram id), "none" if nobody


class CaseOutcome(StrEnum):
    """How a cancellation conversation ended, one per case."""

    KEPT = "kept"  # an alternative was accepted and the order was not cancelled later
    SAVED_THEN_CANCELLED = "saved_then_cancelled"  # ... but cancelled within the window
    SUBMITTED = "submitted"  # the customer confirmed a cancellation request
    REFUSED = "refused"  # the policy said no, and nothing was saved
    ABANDONED = "abandoned"  # left without an outcome
    IN_PROGRESS = "in_progress"  # still open and active within the last day


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until), aware UTC."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if self.since >= self.until:
            raise ValueError("a period must end after it starts")

    @classmethod
    def last(cls, days: int, now: datetime) -> Period:
        return cls(now - timedelta(days=days), now)

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.since <= at < self.until


@dataclass(frozen=True, slots=True)
class Rate:
    """`part` of `whole`; no value when `whole` is zero."""

    part: int
    whole: int

    @property
    def percent(self) -> Decimal | None:
        """The share in percent, rounded half-up to one decimal."""
        if self.whole == 0:
            return None
        return (Decimal(100 * self.part) / self.whole).quantize(_TENTHS, rounding=ROUND_HALF_UP)

    def __str__(self) -> str:
        percent = self.percent
        return "—" if percent is None else f"{percent}%"


@dataclass(frozen=True, slots=True)
class Count:
    """How many of something, by its code (a rule id, a ticket reason, a status...)."""

    key: str
    count: int


@dataclass(frozen=True, slots=True)
class Timing:
    """Durations in whole seconds: nearest-rank percentiles, None when there are none."""

    count: int
    p50: int | None
    p90: int | None
    max: int | None


@dataclass(frozen=True, slots=True)
class FlowFigures:
    intents: int
    """Cancellation conversations customers started."""
    requests: int
    """... that ended with a confirmed cancellation request."""
    executed: int
    """Requests approved or completed: the cancellation is happening or done."""
    awaiting_review: int
    declined: int
    withdrawn: int
    refused: int
    refused_by_rule: tuple[Count, ...]
    abandoned: int
    in_progress: int
    kept: int
    handed_to_person: int
    """Conversations with a ticket for a person."""
    merchant_cancellations: int | None
    """Orders the shop cancelled itself; None when the figures are filtered by a reason."""

    @property
    def request_rate(self) -> Rate:
        return Rate(self.requests, self.intents)

    @property
    def save_rate(self) -> Rate:
        return Rate(self.kept, self.intents)

    @property
    def refusal_rate(self) -> Rate:
        return Rate(self.refused, self.intents)

    @property
    def abandon_rate(self) -> Rate:
        return Rate(self.abandoned, self.intents)

    @property
    def handoff_rate(self) -> Rate:
        return Rate(self.handed_to_person, self.intents)


@dataclass(frozen=True, slots=True)
class OfferFigures:
    type: OfferType
    shown: int
    accepted: int

    @property
    def acceptance_rate(self) -> Rate:
        return Rate(self.accepted, self.shown)


@dataclass(frozen=True, slots=True)
class OfferCost:
    type: OfferType
    cost: Money


@dataclass(frozen=True, slots=True)
class KeptFigures:
    window_days: int
    saved: int
    """Conversations that ended with an alternative accepted."""
    cancelled_within_window: int
    kept: int
    """Saved and not cancelled within the window: what the save rate counts."""
    kept_window_open: int
    """Of `kept`, those whose window has not ended yet (they may still be cancelled)."""
    intents: int
    offers: tuple[OfferFigures, ...]
    revenue_kept: tuple[Money, ...]
    """Per currency: what the policy would have refunded for the orders kept."""
    offer_costs: tuple[OfferCost, ...]
    """Per offer type and currency: store-credit bonuses, partial refunds, vouchers."""

    @property
    def save_rate(self) -> Rate:
        return Rate(self.kept, self.intents)

    @property
    def cost_total(self) -> tuple[Money, ...]:
        return sum_by_currency(line.cost for line in self.offer_costs)


@dataclass(frozen=True, slots=True)
class RefundTotal:
    method: PaymentMethod
    count: int
    total: Money


@dataclass(frozen=True, slots=True)
class MethodTiming:
    method: PaymentMethod | None
    """None: every method together."""
    timing: Timing


@dataclass(frozen=True, slots=True)
class RefundFigures:
    opened: int
    totals: tuple[RefundTotal, ...]
    """Per currency and method (a currency's rows are never added to another's)."""
    by_status: tuple[Count, ...]
    approved_at_once: int
    approved_after_review: int
    approved_after_review_by: tuple[Count, ...]
    """Who approved after review: agent, or merchant (the shop's systems, the CLI)."""
    awaiting_review: int
    rejected: int
    failed: int
    refunded: int
    time_to_refund: tuple[MethodTiming, ...]
    """From the request to `refunded`, per method, then for all methods (method None)."""
    time_buckets: tuple[Count, ...]
    """How many refunds took how long (keys from `TIME_BUCKETS`), for the chart."""
    past_sla_now: int
    """Refunds stuck past the policy's `[sla]` right now, whenever they were opened."""

    @property
    def currencies(self) -> tuple[Money, ...]:
        return sum_by_currency(row.total for row in self.totals)


@dataclass(frozen=True, slots=True)
class HandoffFigures:
    tickets: int
    """Tickets for a person opened in the period (asked from a conversation or not)."""
    by_reason: tuple[Count, ...]
    still_open: int


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent's part of the period: their cases, how fast they answered, what they
    decided and how satisfied the customers they served were."""

    agent_id: int
    name: str
    """Their Telegram name as the bot last saw it (`AgentProfile`), else their id."""
    cases: int
    """Cases of the period this agent handled: the first to take, answer or act on them."""
    time_to_first_reply: Timing
    approvals: int
    denials: int
    """Refund approvals and denials this agent made in the period."""
    answers: int
    satisfied: int
    average: Decimal | None
    """Survey answers of the period about cases this agent handled."""

    @property
    def approval_rate(self) -> Rate:
        return Rate(self.approvals, self.approvals + self.denials)

    @property
    def satisfied_rate(self) -> Rate:
        return Rate(self.satisfied, self.answers)


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """The agents' group: cases handed to it, how fast agents answered, what they decided.

    Read from the agents' own records: a ticket's case in the group (`handoffs`), what
    agents did (`agent_actions`) and the messages they wrote to customers
    (`relayed_messages`).
    """

    cases: int
    """Tickets of the period that reached the agents' group (follow-ups not counted)."""
    by_reason: tuple[Count, ...]
    """Why they were handed over (the ticket's reason)."""
    follow_ups: int
    """Cases agents opened themselves, by writing to a customer after closing."""
    answered: int
    """Of `cases`, those where the customer heard from an agent (whenever it came)."""
    untouched: int
    """Of `cases`, those no agent took, answered or acted on (yet)."""
    time_to_first_reply: Timing
    """From the ticket to the first agent message or decision the customer got."""
    approvals: int
    denials: int
    """Refund approvals and denials agents made in the period."""
    per_agent: tuple[AgentRow, ...]
    """Most cases first."""

    @property
    def answer_rate(self) -> Rate:
        return Rate(self.answered, self.cases)

    @property
    def approval_rate(self) -> Rate:
        return Rate(self.approvals, self.approvals + self.denials)

    def name_of(self, group: str) -> str:
        """An agent's name for a split's group (their id), the group itself otherwise."""
        return next((row.name for row in self.per_agent if str(row.agent_id) == group), group)


@dataclass(frozen=True, slots=True)
class Comment:
    at: datetime
    rating: int | None
    text: str
    """Masked like the logs: phone numbers and e-mail addresses do not appear."""
    order_number: str | None
    reason: ReasonCode | None


@dataclass(frozen=True, slots=True)
class SatisfactionFigures:
    asked: int
    """Surveys asked in the period..."""
    responded: int
    """... and how many of them have an answer (whenever it came)."""
    answers: int
    """Surveys first answered in the period: the ones the figures below describe."""
    stars: tuple[int, int, int, int, int]
    """How many answers gave 1, 2, 3, 4 and 5 stars."""
    average: Decimal | None
    comments: tuple[Comment, ...]
    """The latest comments of the period, newest first."""

    @property
    def response_rate(self) -> Rate:
        return Rate(self.responded, self.asked)

    @property
    def satisfied(self) -> Rate:
        """The share of 4 and 5 stars (CSAT)."""
        return Rate(self.stars[3] + self.stars[4], self.answers)


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    """A calendar day in the shop's time zone (TIMEZONE)."""
    intents: int
    requests: int
    kept: int
    refunds_opened: int
    refunds_paid: int
    answers: int
    satisfied: int

    @property
    def satisfied_rate(self) -> Rate:
        return Rate(self.satisfied, self.answers)


@dataclass(frozen=True, slots=True)
class SplitRow:
    """The headline figures of one group of cases (one reason, one tier...)."""

    group: str
    intents: int
    requests: int
    executed: int
    refused: int
    abandoned: int
    handed_to_person: int
    kept: int
    offers_shown: int
    offers_accepted: int
    answers: int
    satisfied: int
    average: Decimal | None

    @property
    def save_rate(self) -> Rate:
        return Rate(self.kept, self.intents)

    @property
    def acceptance_rate(self) -> Rate:
        return Rate(self.offers_accepted, self.offers_shown)

    @property
    def satisfied_rate(self) -> Rate:
        return Rate(self.satisfied, self.answers)


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One conversation in the dashboard's list of recent cases."""

    id: int
    started_at: datetime
    order_number: str | None
    customer_ref: str | None
    reason: ReasonCode | None
    outcome: CaseOutcome


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    reason: ReasonCode | None
    """The reason the figures are filtered to, if any."""
    generated_at: datetime
    timezone: str
    flow: FlowFigures
    kept: KeptFigures
    refunds: RefundFigures
    handoffs: HandoffFigures
    agents: AgentFigures
    satisfaction: SatisfactionFigures
    trend: tuple[DayFigures, ...]
    splits: dict[Dimension, tuple[SplitRow, ...]]
    recent_cases: tuple[CaseSummary, ...]


# Refund-time chart buckets: (key, upper bound in seconds, exclusive; None = no bound).
TIME_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("under_1h", 3600),
    ("1h_24h", 86400),
    ("1d_3d", 3 * 86400),
    ("3d_7d", 7 * 86400),
    ("7d_14d", 14 * 86400),
    ("over_14d", None),
)


def sum_by_currency(amounts: Iterable[Money]) -> tuple[Money, ...]:
    """One total per currency, in alphabetical order of currency; never mixed."""
    totals: dict[str, Money] = {}
    for money in amounts:
        totals[money.currency] = totals.get(money.currency, Money.zero(money.currency)) + money
    return tuple(totals[currency] for currency in sorted(totals))
