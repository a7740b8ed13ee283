"""The figures, computed from a loaded `History`: pure functions, no I/O.

Definitions (the README's "Insights" section says the same in words):

- A case counts in the period it started; what it became is its outcome
  (`CaseOutcome`), judged at `history.now`.
- Kept: the case was saved (an alternative accepted) and no other cancellation request
  for its order, by the customer or the shop and not declined or withdrawn, was made
  within the window after the save.
- Refunds, tickets and surveys count in the period they were opened, asked or answered;
  agents' approvals and denials in the period they were made.
- An agents' case is a ticket that reached the agents' group; its agent is the first
  agent who took, answered or acted on it, and a customer case's agent is that of its
  first ticket with one. Its first reply is the first agent message copied to the
  customer or the first decision they were told of (`history.REPLIES`).
- A figure filtered by a reason covers only what belongs to a customer's case with that
  reason: the shop's own cancellations and tickets asked for outside a case drop out.
- Percentiles are nearest-rank: p50 of 1, 2, 3, 4 is 2.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.logs import mask
from bot.services.domain.money import Money
from bot.services.insights.figures import (
    MERCHANT,
    NONE,
    TIME_BUCKETS,
    AgentFigures,
    AgentRow,
    CaseOutcome,
    CaseSummary,
    Comment,
    Count,
    DayFigures,
    Dimension,
    FlowFigures,
    HandoffFigures,
    KeptFigures,
    MethodTiming,
    OfferCost,
    OfferFigures,
    RefundFigures,
    RefundTotal,
    Report,
    SatisfactionFigures,
    SplitRow,
    Timing,
    sum_by_currency,
)
from bot.services.insights.history import CaseFact, History
from bot.services.linking.identity import CONVERSATION_IDLE
from bot.services.refunds.service import actor_kind
from storage.enums import (
    AgentActionKind,
    CaseStatus,
    OfferStatus,
    OfferType,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RequestStatus,
    TicketReason,
    TicketStatus,
)
from storage.models import AgentAction, Offer, Refund, Survey, Ticket

RECENT_CASES = 20
LATEST_COMMENTS = 10
_CENTS = Decimal("0.01")
_EXECUTED = frozenset({RequestStatus.APPROVED, RequestStatus.COMPLETED})
_NOT_A_CANCELLATION = frozenset({RequestStatus.DENIED, RequestStatus.WITHDRAWN})
_UNDONE = frozenset({RefundStatus.REJECTED, RefundStatus.CANCELLED})
# A store-credit row the confirmation added for the refund method chosen, not an offer shown.
_VIA_REFUND_METHOD = ("via", "refund_method")


def compute_report(
    history: History,
    *,
    reason: ReasonCode | None,
    window: timedelta,
    timezone: str,
) -> Report:
    select = _selector(reason)
    outcomes = {case.id: outcome(case, history, window) for case in history.cohort}
    cases = [case for case in history.cohort if select(case)]
    refunds = [r for r in history.refunds if select(history.case_of_refund(r))]
    tickets = [t for t in history.tickets if select(history.cases.get(t.case_id or 0))]
    surveys = [s for s in history.surveys if select(_survey_case(history, s))]
    actions = [
        a
        for a in history.agent_actions
        if select(history.cases.get(history.all_tickets[a.ticket_id].case_id or 0))
    ]
    return Report(
        period=history.period,
        reason=reason,
        generated_at=history.now,
        timezone=timezone,
        flow=flow_figures(history, cases, outcomes, merchant=reason is None),
        kept=kept_figures(history, cases, outcomes, window),
        refunds=refund_figures(refunds, history.past_sla),
        handoffs=HandoffFigures(
            tickets=len(tickets),
            by_reason=_counts(t.reason.value for t in tickets),
            still_open=sum(t.status is TicketStatus.OPEN for t in tickets),
        ),
        agents=agent_figures(history, tickets, actions, surveys),
        satisfaction=satisfaction_figures(history, surveys),
        trend=trend(history, cases, outcomes, refunds, surveys, ZoneInfo(timezone)),
        splits={
            dimension: split_rows(history, dimension, cases, outcomes, surveys)
            for dimension in Dimension
        },
        recent_cases=tuple(
            CaseSummary(
                case.id,
                case.created_at,
                case.order_number,
                case.customer_ref,
                case.reason,
                outcomes[case.id],
            )
            for case in sorted(cases, key=lambda c: (c.created_at, c.id), reverse=True)[
                :RECENT_CASES
            ]
        ),
    )


def _selector(reason: ReasonCode | None) -> Callable[[CaseFact | None], bool]:
    if reason is None:
        return lambda case: True
    return lambda case: case is not None and case.reason is reason


def _survey_case(history: History, survey: Survey) -> CaseFact | None:
    case_id = history.survey_case.get(survey.id)
    return history.cases.get(case_id) if case_id is not None else None


# -- one case ------------------------------------------------------------------------------------


def outcome(case: CaseFact, history: History, window: timedelta) -> CaseOutcome:
    if case.status is CaseStatus.SAVED:
        cancelled = cancelled_after_save(case, history, window)
        return CaseOutcome.SAVED_THEN_CANCELLED if cancelled else CaseOutcome.KEPT
    if case.status is CaseStatus.CONFIRMED:
        return CaseOutcome.SUBMITTED
    if case.refused:
        return CaseOutcome.REFUSED
    if case.status is CaseStatus.ABANDONED:
        return CaseOutcome.ABANDONED
    # An open case nobody touched for a day is as good as left: the bot closes such
    # conversations after the same quiet period.
    if history.now - case.updated_at > CONVERSATION_IDLE:
        return CaseOutcome.ABANDONED
    return CaseOutcome.IN_PROGRESS


def saved_at(case: CaseFact) -> datetime:
    return case.closed_at or case.updated_at


def cancelled_after_save(case: CaseFact, history: History, window: timedelta) -> bool:
    """Another cancellation request for the order (not declined or withdrawn) within the
    window after the save: the customer's own later one, or the shop's."""
    start = saved_at(case)
    return any(
        request.case_id != case.id
        and request.status not in _NOT_A_CANCELLATION
        and start < request.created_at <= start + window
        for request in history.later_requests.get(case.order_id or 0, ())
    )


# -- sections ------------------------------------------------------------------------------------


def flow_figures(
    history: History,
    cases: Sequence[CaseFact],
    outcomes: dict[int, CaseOutcome],
    *,
    merchant: bool,
) -> FlowFigures:
    ended = Counter(outcomes[case.id] for case in cases)
    requests = Counter(
        request.status
        for case in cases
        if outcomes[case.id] is CaseOutcome.SUBMITTED
        and (request := history.request_of_case.get(case.id)) is not None
    )
    refused = [case for case in cases if outcomes[case.id] is CaseOutcome.REFUSED]
    return FlowFigures(
        intents=len(cases),
        requests=ended[CaseOutcome.SUBMITTED],
        executed=sum(requests[status] for status in _EXECUTED),
        awaiting_review=requests[RequestStatus.PENDING_REVIEW],
        declined=requests[RequestStatus.DENIED],
        withdrawn=requests[RequestStatus.WITHDRAWN],
        refused=len(refused),
        refused_by_rule=_counts(case.rule for case in refused),
        abandoned=ended[CaseOutcome.ABANDONED],
        in_progress=ended[CaseOutcome.IN_PROGRESS],
        kept=ended[CaseOutcome.KEPT],
        handed_to_person=sum(case.id in history.tickets_of_case for case in cases),
        merchant_cancellations=history.merchant_requests if merchant else None,
    )


def kept_figures(
    history: History,
    cases: Sequence[CaseFact],
    outcomes: dict[int, CaseOutcome],
    window: timedelta,
) -> KeptFigures:
    kept = [case for case in cases if outcomes[case.id] is CaseOutcome.KEPT]
    offers = [offer for case in cases for offer in history.offers_of_case.get(case.id, ())]
    shown = [offer for offer in offers if not _via_refund_method(offer)]
    costs: dict[tuple[OfferType, str], Money] = {}
    for offer in offers:
        if offer.status is not OfferStatus.ACCEPTED:
            continue
        cost = offer_cost(history, offer)
        if cost is not None:
            key = (offer.type, cost.currency)
            costs[key] = costs.get(key, Money.zero(cost.currency)) + cost
    return KeptFigures(
        window_days=window.days,
        saved=sum(case.status is CaseStatus.SAVED for case in cases),
        cancelled_within_window=sum(
            outcomes[case.id] is CaseOutcome.SAVED_THEN_CANCELLED for case in cases
        ),
        kept=len(kept),
        kept_window_open=sum(saved_at(case) + window > history.now for case in kept),
        intents=len(cases),
        offers=tuple(
            OfferFigures(
                offer_type,
                shown=sum(offer.type is offer_type for offer in shown),
                accepted=sum(
                    offer.type is offer_type and offer.status is OfferStatus.ACCEPTED
                    for offer in shown
                ),
            )
            for offer_type in OfferType
        ),
        revenue_kept=sum_by_currency(
            refund for case in kept if (refund := case.policy_refund) is not None
        ),
        offer_costs=tuple(
            OfferCost(offer_type, costs[offer_type, currency])
            for offer_type, currency in sorted(costs)
        ),
    )


def offer_cost(history: History, offer: Offer) -> Money | None:
    """What an accepted offer cost the shop, where the rows record it.

    A partial refund costs its refund, a compensation voucher its voucher, store credit
    the bonus on top of the refund (once that refund was not called off). An exchange
    or an express upgrade records no amount.
    """
    if offer.type is OfferType.PARTIAL_REFUND:
        refund = history.refund_of_offer.get(offer.id)
        if refund is None or refund.status in _UNDONE:
            return None
        return Money(refund.amount, refund.currency)
    if offer.type is OfferType.COMPENSATION_VOUCHER:
        return history.voucher_of_offer.get(offer.id)
    if offer.type is OfferType.STORE_CREDIT:
        case = history.cases.get(offer.case_id)
        request = history.request_of_case.get(offer.case_id)
        refund = history.refund_of_request.get(request.id) if request else None
        if case is None or refund is None or refund.status in _UNDONE:
            return None
        if refund.method is not PaymentMethod.STORE_CREDIT:
            return None
        return case.store_credit_bonus()
    return None


def _via_refund_method(offer: Offer) -> bool:
    key, value = _VIA_REFUND_METHOD
    return offer.params.get(key) == value


def refund_figures(refunds: Sequence[Refund], past_sla: int) -> RefundFigures:
    totals: dict[tuple[str, PaymentMethod], list[Money]] = defaultdict(list)
    for refund in refunds:
        totals[refund.currency, refund.method].append(Money(refund.amount, refund.currency))
    at_once = after_review = 0
    approvers: list[str] = []
    for refund in refunds:
        first = refund.events[0].to_status if refund.events else refund.status
        if first is RefundStatus.APPROVED:
            at_once += 1
            continue
        approval = next((e for e in refund.events if e.to_status is RefundStatus.APPROVED), None)
        if approval is not None:
            after_review += 1
            approvers.append(actor_kind(approval.actor).value)
    durations: dict[PaymentMethod, list[int]] = defaultdict(list)
    for refund in refunds:
        seconds = time_to_refund(refund)
        if seconds is not None:
            durations[refund.method].append(seconds)
    every = [seconds for values in durations.values() for seconds in values]
    status = Counter(refund.status for refund in refunds)
    return RefundFigures(
        opened=len(refunds),
        totals=tuple(
            RefundTotal(method, len(amounts), sum_by_currency(amounts)[0])
            for (_, method), amounts in sorted(totals.items())
        ),
        by_status=tuple(Count(s.value, status[s]) for s in RefundStatus if status[s]),
        approved_at_once=at_once,
        approved_after_review=after_review,
        approved_after_review_by=_counts(approvers),
        awaiting_review=status[RefundStatus.PENDING_REVIEW],
        rejected=status[RefundStatus.REJECTED],
        failed=status[RefundStatus.FAILED],
        refunded=status[RefundStatus.REFUNDED],
        time_to_refund=(
            *(MethodTiming(m, timing(durations[m])) for m in PaymentMethod if durations[m]),
            MethodTiming(None, timing(every)),
        ),
        time_buckets=time_buckets(every),
        past_sla_now=past_sla,
    )


def time_to_refund(refund: Refund) -> int | None:
    """Whole seconds from the request (the refund opens with it) to the money paid out."""
    paid = next((e for e in reversed(refund.events) if e.to_status is RefundStatus.REFUNDED), None)
    if refund.status is not RefundStatus.REFUNDED or paid is None:
        return None
    return max(0, int((paid.occurred_at - refund.created_at).total_seconds()))


def timing(seconds: Sequence[int]) -> Timing:
    if not seconds:
        return Timing(0, None, None, None)
    ordered = sorted(seconds)
    return Timing(len(ordered), percentile(ordered, 50), percentile(ordered, 90), ordered[-1])


def percentile(ordered: Sequence[int], p: int) -> int:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def time_buckets(seconds: Iterable[int]) -> tuple[Count, ...]:
    counts = Counter(_bucket(value) for value in seconds)
    return tuple(Count(key, counts[key]) for key, _ in TIME_BUCKETS)


def _bucket(seconds: int) -> str:
    for key, bound in TIME_BUCKETS:
        if bound is None or seconds < bound:
            return key
    raise AssertionError("the last bucket has no bound")


def agent_figures(
    history: History,
    tickets: Sequence[Ticket],
    actions: Sequence[AgentAction],
    surveys: Sequence[Survey],
) -> AgentFigures:
    """The agents' cases of the period (tickets that reached their group), their first
    replies, their decisions and the satisfaction of the customers they served."""
    trail = history.agents
    handed = [t for t in tickets if t.id in history.handed]
    follow_ups = [t for t in handed if t.reason is TicketReason.AGENT_FOLLOW_UP]
    cases = [t for t in handed if t.reason is not TicketReason.AGENT_FOLLOW_UP]
    waits = {t.id: _first_reply(history, t) for t in cases}
    decided = Counter((a.agent_id, a.action) for a in actions)
    ratings: dict[int, list[int]] = defaultdict(list)
    for survey in surveys:
        if survey.rating is not None and survey.answered_at in history.period:
            group = _survey_group(history, survey, Dimension.AGENT)
            if group not in (NONE, MERCHANT):
                ratings[int(group)].append(survey.rating)
    by_agent: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in cases:
        if (agent := trail.agent_of_ticket.get(ticket.id)) is not None:
            by_agent[agent].append(ticket)
    agent_ids = by_agent.keys() | ratings.keys() | {agent for agent, _ in decided}
    rows = [
        AgentRow(
            agent_id=agent,
            name=trail.name(agent),
            cases=len(by_agent.get(agent, ())),
            time_to_first_reply=timing(
                [w for t in by_agent.get(agent, ()) if (w := waits[t.id]) is not None]
            ),
            approvals=decided[agent, AgentActionKind.APPROVE],
            denials=decided[agent, AgentActionKind.DENY],
            answers=len(ratings.get(agent, ())),
            satisfied=sum(rating >= 4 for rating in ratings.get(agent, ())),
            average=average(ratings.get(agent, [])),
        )
        for agent in agent_ids
    ]
    return AgentFigures(
        cases=len(cases),
        by_reason=_counts(t.reason.value for t in cases),
        follow_ups=len(follow_ups),
        answered=sum(wait is not None for wait in waits.values()),
        untouched=sum(t.id not in trail.agent_of_ticket for t in cases),
        time_to_first_reply=timing([wait for wait in waits.values() if wait is not None]),
        approvals=sum(a.action is AgentActionKind.APPROVE for a in actions),
        denials=sum(a.action is AgentActionKind.DENY for a in actions),
        per_agent=tuple(sorted(rows, key=lambda r: (-r.cases, r.name, r.agent_id))),
    )


def _first_reply(history: History, ticket: Ticket) -> int | None:
    """Whole seconds from the ticket to the first agent message or decision the customer got."""
    replied = history.agents.first_reply.get(ticket.id)
    if replied is None:
        return None
    return max(0, int((replied - ticket.created_at).total_seconds()))


def satisfaction_figures(history: History, surveys: Sequence[Survey]) -> SatisfactionFigures:
    period = history.period
    asked = [s for s in surveys if s.asked_at in period]
    answers = _answers(surveys, history)
    stars = Counter(rating for rating in answers)
    commented = sorted(
        (s for s in surveys if s.comment and s.commented_at in period),
        key=lambda s: (s.commented_at, s.id),
        reverse=True,
    )
    comments = []
    for survey in commented[:LATEST_COMMENTS]:
        case = _survey_case(history, survey)
        assert survey.commented_at is not None
        assert survey.comment is not None
        comments.append(
            Comment(
                at=survey.commented_at,
                rating=survey.rating,
                text=mask(survey.comment),
                order_number=case.order_number if case else None,
                reason=case.reason if case else None,
            )
        )
    return SatisfactionFigures(
        asked=len(asked),
        responded=sum(s.rating is not None for s in asked),
        answers=len(answers),
        stars=(stars[1], stars[2], stars[3], stars[4], stars[5]),
        average=average(answers),
        comments=tuple(comments),
    )


def _answers(surveys: Iterable[Survey], history: History) -> list[int]:
    """The ratings of the surveys first answered in the period."""
    return [s.rating for s in surveys if s.rating is not None and s.answered_at in history.period]


def average(ratings: Sequence[int]) -> Decimal | None:
    """Exact, rounded half-up to cents, as `SurveyRepository.rating_summary` does."""
    if not ratings:
        return None
    return (Decimal(sum(ratings)) / len(ratings)).quantize(_CENTS, rounding=ROUND_HALF_UP)


def trend(
    history: History,
    cases: Sequence[CaseFact],
    outcomes: dict[int, CaseOutcome],
    refunds: Sequence[Refund],
    surveys: Sequence[Survey],
    zone: ZoneInfo,
) -> tuple[DayFigures, ...]:
    """Per calendar day in the shop's time zone; cases count on the day they started."""

    def day(at: datetime) -> date:
        return at.astimezone(zone).date()

    first, last = day(history.period.since), day(history.period.until - timedelta(microseconds=1))
    counters: dict[str, Counter[date]] = defaultdict(Counter)
    for case in cases:
        counters["intents"][day(case.created_at)] += 1
        ended = outcomes[case.id]
        if ended is CaseOutcome.SUBMITTED:
            counters["requests"][day(case.created_at)] += 1
        elif ended is CaseOutcome.KEPT:
            counters["kept"][day(case.created_at)] += 1
    for refund in refunds:
        counters["refunds_opened"][day(refund.created_at)] += 1
        paid = time_to_refund(refund)
        if paid is not None:
            paid_at = refund.created_at + timedelta(seconds=paid)
            if paid_at in history.period:
                counters["refunds_paid"][day(paid_at)] += 1
    for survey in surveys:
        if survey.rating is not None and survey.answered_at in history.period:
            assert survey.answered_at is not None
            counters["answers"][day(survey.answered_at)] += 1
            counters["satisfied"][day(survey.answered_at)] += survey.rating >= 4
    days = []
    current = first
    while current <= last:
        days.append(
            DayFigures(
                day=current,
                intents=counters["intents"][current],
                requests=counters["requests"][current],
                kept=counters["kept"][current],
                refunds_opened=counters["refunds_opened"][current],
                refunds_paid=counters["refunds_paid"][current],
                answers=counters["answers"][current],
                satisfied=counters["satisfied"][current],
            )
        )
        current += timedelta(days=1)
    return tuple(days)


def split_rows(
    history: History,
    dimension: Dimension,
    cases: Sequence[CaseFact],
    outcomes: dict[int, CaseOutcome],
    surveys: Sequence[Survey],
) -> tuple[SplitRow, ...]:
    """One row per group. A survey about an agent's conversation counts for that agent;
    one about no customer case is in `none` if it was an agent's conversation (asked for
    outside a cancellation), else in `merchant`."""
    by_group: dict[str, list[CaseFact]] = defaultdict(list)
    for case in cases:
        by_group[case.groups[dimension]].append(case)
    ratings: dict[str, list[int]] = defaultdict(list)
    for survey in surveys:
        if survey.rating is not None and survey.answered_at in history.period:
            ratings[_survey_group(history, survey, dimension)].append(survey.rating)
    rows = []
    for group in sorted(by_group.keys() | ratings.keys(), key=_group_order(by_group)):
        members = by_group.get(group, [])
        ended = Counter(outcomes[case.id] for case in members)
        offers = [
            offer
            for case in members
            for offer in history.offers_of_case.get(case.id, ())
            if not _via_refund_method(offer)
        ]
        given = ratings.get(group, [])
        rows.append(
            SplitRow(
                group=group,
                intents=len(members),
                requests=ended[CaseOutcome.SUBMITTED],
                executed=sum(_executed(history, case, outcomes) for case in members),
                refused=ended[CaseOutcome.REFUSED],
                abandoned=ended[CaseOutcome.ABANDONED],
                handed_to_person=sum(case.id in history.tickets_of_case for case in members),
                kept=ended[CaseOutcome.KEPT],
                offers_shown=len(offers),
                offers_accepted=sum(o.status is OfferStatus.ACCEPTED for o in offers),
                answers=len(given),
                satisfied=sum(rating >= 4 for rating in given),
                average=average(given),
            )
        )
    return tuple(rows)


def _survey_group(history: History, survey: Survey, dimension: Dimension) -> str:
    ticket_id = history.survey_ticket.get(survey.id)
    if dimension is Dimension.AGENT and ticket_id is not None:
        agent = history.agents.agent_of_ticket.get(ticket_id)
        return str(agent) if agent is not None else NONE
    about = _survey_case(history, survey)
    if about is not None:
        return about.groups[dimension]
    return NONE if ticket_id is not None else MERCHANT


def _executed(history: History, case: CaseFact, outcomes: dict[int, CaseOutcome]) -> bool:
    request = history.request_of_case.get(case.id)
    submitted = outcomes[case.id] is CaseOutcome.SUBMITTED
    return submitted and request is not None and request.status in _EXECUTED


def _group_order(by_group: dict[str, list[CaseFact]]) -> Callable[[str], tuple[int, int, str]]:
    """Most cases first; "none" and the shop's own at the end."""
    return lambda group: (group in (NONE, MERCHANT), -len(by_group.get(group, ())), group)


def _counts(keys: Iterable[str]) -> tuple[Count, ...]:
    """Most frequent first, then by key."""
    counted = Counter(keys)
    return tuple(
        Count(key, count) for key, count in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    )
