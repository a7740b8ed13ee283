"""What the figures are computed from: the rows the bot already keeps, read for a period.

Nothing is recorded for the figures' sake. A support case is a cancellation intent; its
status, its decision (stored at the decision step), its offers, its request and that
request's refund and events say how it ended. The few attributes a split needs and no
row holds are derived here from what is stored:

- order status at request: the order's own timestamps at the moment the case started
  (delivered, shipped, else its status now if it is still unpaid, paid or being
  prepared, else paid or unpaid by `paid_at`);
- category: the category of the most valuable item the case is about (the items the
  customer selected, else the whole order);
- language: the reader's language as the bot picks it (`pick_locale`);
- agent: the first agent who took, answered or acted on the case's first ticket that an
  agent touched (`AgentTrail`, from `agent_actions` and `relayed_messages`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.services.domain.locales import pick_locale
from bot.services.domain.money import Money
from bot.services.insights.figures import NONE, Dimension, Period
from bot.services.merchant.cancellation import merchant_request_id
from bot.services.merchant.request_origin import is_merchant_request
from storage.enums import AgentActionKind, CaseStatus, OrderStatus, PaymentMethod, ReasonCode
from storage.models import (
    AgentAction,
    CancellationRequest,
    Customer,
    Offer,
    Order,
    Refund,
    SupportCase,
    Survey,
    TelegramUser,
    Ticket,
)
from storage.uow import UnitOfWork

# What an agent does that the customer hears of: an answer as much as a message is.
REPLIES = frozenset(
    {
        AgentActionKind.APPROVE,
        AgentActionKind.DENY,
        AgentActionKind.PARTIAL_REFUND,
        AgentActionKind.VOUCHER,
        AgentActionKind.TRANSFER_PAID,
    }
)
_NOT_SHIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING})


@dataclass(frozen=True, slots=True)
class CaseFact:
    """One support case and what the splits need to know about it."""

    id: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    status: CaseStatus
    reason: ReasonCode | None
    decision: Mapping[str, Any] | None
    order_id: int | None
    order_number: str | None
    customer_ref: str | None
    """The merchant's customer id, never a name or a phone number."""
    conversation_id: int
    groups: Mapping[Dimension, str]

    @property
    def refused(self) -> bool:
        """The policy said no at the decision step (or, later, an agent denied it)."""
        if self.status is CaseStatus.DENIED:
            return True
        return self.decision is not None and self.decision.get("eligible") is False

    @property
    def rule(self) -> str:
        return str((self.decision or {}).get("rule") or NONE)

    @property
    def policy_refund(self) -> Money | None:
        """What the policy would have refunded, as shown to the customer."""
        decision = self.decision or {}
        amount, currency = decision.get("refund_amount"), decision.get("currency")
        if not decision.get("eligible") or amount is None or not currency:
            return None
        return Money(Decimal(str(amount)), str(currency))

    def store_credit_bonus(self) -> Money | None:
        """The bonus the decision added to a refund taken as store credit."""
        for option in (self.decision or {}).get("refund_methods", []):
            if option.get("method") == PaymentMethod.STORE_CREDIT.value and option.get("bonus"):
                currency = str((self.decision or {}).get("currency"))
                return Money(Decimal(str(option["bonus"])), currency)
        return None


@dataclass
class History:
    """The rows behind one report: loaded once, then only read."""

    period: Period
    now: datetime
    cohort: list[CaseFact]
    """Cases customers started in the period (a merchant's offer-holder case is not one)."""
    cases: dict[int, CaseFact]
    """The cohort and every other case a refund, ticket or survey of the period belongs to."""
    request_of_case: dict[int, CancellationRequest]
    requests: dict[int, CancellationRequest]
    later_requests: dict[int, list[CancellationRequest]]
    """Every request of the orders of saved cases, by order: was it cancelled after all?"""
    offers_of_case: dict[int, list[Offer]]
    offers: dict[int, Offer]
    refund_of_offer: dict[int, Refund]
    refund_of_request: dict[int, Refund]
    voucher_of_offer: dict[int, Money]
    refunds: list[Refund]
    """Refunds opened in the period, with their events."""
    tickets: list[Ticket]
    """Tickets opened in the period."""
    tickets_of_case: dict[int, list[Ticket]]
    surveys: list[Survey]
    """Surveys asked, answered or commented on in the period."""
    merchant_requests: int
    past_sla: int
    survey_case: dict[int, int] = field(default_factory=dict)
    """Survey id -> the case it is about (its request's, or its ticket's)."""
    survey_ticket: dict[int, int] = field(default_factory=dict)
    """Survey id -> the ticket it is about (an agent's conversation)."""
    all_tickets: dict[int, Ticket] = field(default_factory=dict)
    """The period's tickets and every other one the figures mention, by id."""
    handed: set[int] = field(default_factory=set)
    """The period's tickets that reached the agents' group."""
    agent_actions: list[AgentAction] = field(default_factory=list)
    """What agents did in the period."""
    agents: AgentTrail = field(default_factory=lambda: AgentTrail({}, {}, {}))

    def case_of_refund(self, refund: Refund) -> CaseFact | None:
        case_id: int | None = None
        if refund.request_id is not None and refund.request_id in self.requests:
            case_id = self.requests[refund.request_id].case_id
        elif refund.offer_id is not None and refund.offer_id in self.offers:
            case_id = self.offers[refund.offer_id].case_id
        return self.cases.get(case_id) if case_id is not None else None


async def load_history(
    uow: UnitOfWork, period: Period, now: datetime, *, default_locale: str, past_sla: int
) -> History:
    """Read everything one report needs, in a fixed number of queries per kind of row."""
    repo = uow.insights
    started = await repo.cases_started(period.since, period.until)
    refunds = await repo.refunds_opened(period.since, period.until)
    tickets = await repo.tickets_opened(period.since, period.until)
    surveys = await repo.surveys_touched(period.since, period.until)
    actions = await repo.agent_actions_between(period.since, period.until)
    merchant_requests = sum(
        is_merchant_request(r) for r in await repo.requests_made(period.since, period.until)
    )

    cohort_rows = [case for case in started if merchant_request_id(case) is None]
    cohort_ids = {case.id for case in cohort_rows}
    offers = {offer.id: offer for offer in await repo.offers_of_cases(cohort_ids)}
    # Requests: the cohort's, those of the period's refunds and those surveys ask about.
    survey_requests = {
        request_id: survey.id
        for survey in surveys
        if (request_id := surveyed_request(survey.subject_key)) is not None
    }
    requests = {r.id: r for r in await repo.requests_of_cases(cohort_ids)}
    wanted = {r.request_id for r in refunds if r.request_id} | set(survey_requests)
    requests |= {r.id: r for r in await repo.requests(wanted - requests.keys())}
    missing_offers = {r.offer_id for r in refunds if r.offer_id} - offers.keys()
    offers |= {offer.id: offer for offer in await repo.offers(missing_offers)}
    # Tickets: the period's, those surveys ask about and those agents acted on.
    survey_tickets = {
        ticket_id: survey.id
        for survey in surveys
        if (ticket_id := surveyed_ticket(survey.subject_key)) is not None
    }
    ticket_rows = {t.id: t for t in tickets}
    more_tickets = (set(survey_tickets) | {a.ticket_id for a in actions}) - ticket_rows.keys()
    ticket_rows |= {t.id: t for t in await repo.tickets(more_tickets)}

    # The cases all these belong to, beyond the cohort.
    other_ids = (
        {r.case_id for r in requests.values() if r.case_id}
        | {o.case_id for o in offers.values()}
        | {t.case_id for t in ticket_rows.values() if t.case_id}
    ) - cohort_ids
    rows = cohort_rows + [c for c in await repo.cases(other_ids) if c.id not in cohort_ids]
    tickets_of_case: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in await repo.tickets_of_cases([case.id for case in rows]):
        ticket_rows.setdefault(ticket.id, ticket)
        if ticket.case_id is not None:
            tickets_of_case[ticket.case_id].append(ticket)
    agents = await _agent_trail(uow, ticket_rows.keys(), actions)
    agent_of_case = {
        case_id: agent
        for case_id, case_tickets in tickets_of_case.items()
        if (agent := agents.first_agent(case_tickets)) is not None
    }
    facts = await _case_facts(uow, rows, default_locale, agent_of_case)

    saved_orders = {c.order_id for c in cohort_rows if c.status is CaseStatus.SAVED and c.order_id}
    later: dict[int, list[CancellationRequest]] = defaultdict(list)
    for request in await repo.requests_of_orders(saved_orders):
        later[request.order_id].append(request)

    offers_of_case: dict[int, list[Offer]] = defaultdict(list)
    for offer in sorted(offers.values(), key=lambda o: o.id):
        if offer.case_id in cohort_ids:
            offers_of_case[offer.case_id].append(offer)
    cohort_offers = [o.id for o in offers.values() if o.case_id in cohort_ids]
    cohort_requests = [r.id for r in requests.values() if r.case_id in cohort_ids]
    survey_case = {
        survey_id: case_id
        for request_id, survey_id in survey_requests.items()
        if request_id in requests and (case_id := requests[request_id].case_id) in facts
    } | {
        survey_id: case_id
        for ticket_id, survey_id in survey_tickets.items()
        if ticket_id in ticket_rows and (case_id := ticket_rows[ticket_id].case_id) in facts
    }
    handoffs = await repo.handoffs_of_tickets([t.id for t in tickets])
    return History(
        period=period,
        now=now,
        cohort=[facts[case.id] for case in cohort_rows],
        cases=facts,
        request_of_case={r.case_id: r for r in requests.values() if r.case_id is not None},
        requests=requests,
        later_requests=dict(later),
        offers_of_case=dict(offers_of_case),
        offers=offers,
        refund_of_offer={
            r.offer_id: r for r in await repo.refunds_of_offers(cohort_offers) if r.offer_id
        },
        refund_of_request={
            r.request_id: r for r in await repo.refunds_of_requests(cohort_requests) if r.request_id
        },
        voucher_of_offer={
            v.offer_id: Money(v.amount, v.currency)
            for v in await repo.vouchers_of_offers(cohort_offers)
            if v.offer_id
        },
        refunds=refunds,
        tickets=tickets,
        tickets_of_case=dict(tickets_of_case),
        surveys=surveys,
        merchant_requests=merchant_requests,
        past_sla=past_sla,
        survey_case=survey_case,
        survey_ticket={survey_id: ticket_id for ticket_id, survey_id in survey_tickets.items()},
        all_tickets=ticket_rows,
        handed={h.ticket_id for h in handoffs},
        agent_actions=actions,
        agents=agents,
    )


@dataclass(frozen=True, slots=True)
class AgentTrail:
    """Who handled each ticket and when its customer first heard from an agent, from the
    agents' own records: their actions and the messages they wrote to the customer."""

    agent_of_ticket: Mapping[int, int]
    """The first agent who took, answered or acted on the ticket."""
    first_reply: Mapping[int, datetime]
    """The first agent message copied to the customer, or the first decision they were
    told of (approve, deny, partial refund, voucher, transfer paid), whichever came first."""
    names: Mapping[int, str]

    def first_agent(self, tickets: Iterable[Ticket]) -> int | None:
        """The agent of the first of these tickets that has one."""
        return next(
            (
                self.agent_of_ticket[t.id]
                for t in sorted(tickets, key=lambda t: t.id)
                if t.id in self.agent_of_ticket
            ),
            None,
        )

    def name(self, agent_id: int) -> str:
        return self.names.get(agent_id) or str(agent_id)


async def _agent_trail(
    uow: UnitOfWork, ticket_ids: Iterable[int], period_actions: Iterable[AgentAction]
) -> AgentTrail:
    repo = uow.insights
    wanted = set(ticket_ids)
    touches: dict[int, tuple[datetime, int, int]] = {}  # ticket -> (when, order, agent)
    replies: dict[int, datetime] = {}

    def saw(ticket_id: int, at: datetime, order: int, agent_id: int, reply: bool) -> None:
        if ticket_id not in touches or (at, order) < touches[ticket_id][:2]:
            touches[ticket_id] = (at, order, agent_id)
        if reply and (ticket_id not in replies or at < replies[ticket_id]):
            replies[ticket_id] = at

    for action in await repo.agent_actions_of_tickets(wanted):
        saw(action.ticket_id, action.created_at, 0, action.agent_id, action.action in REPLIES)
    for message in await repo.first_agent_messages(wanted):
        if message.agent_id is not None:
            saw(message.ticket_id, message.created_at, 1, message.agent_id, True)
    agent_of_ticket = {ticket_id: agent for ticket_id, (_, _, agent) in touches.items()}
    agent_ids = set(agent_of_ticket.values()) | {a.agent_id for a in period_actions}
    profiles = await repo.agent_profiles(agent_ids)
    return AgentTrail(
        agent_of_ticket=agent_of_ticket,
        first_reply=replies,
        names={p.agent_id: p.name for p in profiles if p.name},
    )


async def _case_facts(
    uow: UnitOfWork,
    cases: list[SupportCase],
    default_locale: str,
    agent_of_case: Mapping[int, int],
) -> dict[int, CaseFact]:
    repo = uow.insights
    orders = {o.id: o for o in await repo.orders({c.order_id for c in cases if c.order_id})}
    customers = {
        c.id: c for c in await repo.customers({c.customer_id for c in cases if c.customer_id})
    }
    users = {u.id: u for u in await repo.telegram_users({c.telegram_user_id for c in cases})}
    facts = {}
    for case in cases:
        order = orders.get(case.order_id) if case.order_id else None
        customer = customers.get(case.customer_id) if case.customer_id else None
        facts[case.id] = CaseFact(
            id=case.id,
            created_at=case.created_at,
            updated_at=case.updated_at,
            closed_at=case.closed_at,
            status=case.status,
            reason=case.reason_code,
            decision=case.decision,
            order_id=case.order_id,
            order_number=order.number if order else None,
            customer_ref=customer.external_id if customer else None,
            conversation_id=case.conversation_id,
            groups=case_groups(
                case,
                order,
                customer,
                users.get(case.telegram_user_id),
                default_locale,
                agent_of_case.get(case.id),
            ),
        )
    return facts


def case_groups(
    case: SupportCase,
    order: Order | None,
    customer: Customer | None,
    user: TelegramUser | None,
    default_locale: str,
    agent: int | None = None,
) -> dict[Dimension, str]:
    """The group of the case in every split; `agent` is the one who handled it, if any."""
    return {
        Dimension.REASON: case.reason_code.value if case.reason_code else NONE,
        Dimension.ORDER_STATUS: status_at(order, case.created_at) if order else NONE,
        Dimension.CATEGORY: main_category(case, order) if order else NONE,
        Dimension.TIER: customer.tier.value if customer else NONE,
        Dimension.LANGUAGE: pick_locale(
            user.locale if user else None,
            customer.locale if customer else None,
            user.language_code if user else None,
            default_locale,
        ),
        Dimension.AGENT: str(agent) if agent is not None else NONE,
    }


def status_at(order: Order, at: datetime) -> str:
    """The order's status at `at`, from its own timestamps (see the module docstring)."""
    if order.delivered_at is not None and order.delivered_at <= at:
        return OrderStatus.DELIVERED.value
    if order.shipped_at is not None and order.shipped_at <= at:
        return OrderStatus.SHIPPED.value
    paid = order.paid_at is not None and order.paid_at <= at
    if order.status in _NOT_SHIPPED and (paid or order.status is OrderStatus.PENDING_PAYMENT):
        return order.status.value
    if order.status in _NOT_SHIPPED and order.payment_method is PaymentMethod.CASH_ON_DELIVERY:
        return order.status.value  # cash on delivery is paid at the door
    return (OrderStatus.PAID if paid else OrderStatus.PENDING_PAYMENT).value


def main_category(case: SupportCase, order: Order) -> str:
    """The category of the most valuable line the case is about (ties: the first line)."""
    chosen = {int(key): qty for key, qty in (case.selection or {}).items() if qty}
    lines = [
        (item.unit_price * (chosen.get(item.id, 0) if chosen else item.quantity), item)
        for item in order.items
    ]
    lines = [(value, item) for value, item in lines if not chosen or chosen.get(item.id)]
    if not lines:
        return NONE
    best = max(lines, key=lambda line: (line[0], -line[1].line_no))
    return best[1].category.value


def surveyed_request(subject_key: str) -> int | None:
    """The request a survey asks about ("request:<id>"); other subjects name none."""
    kind, _, raw_id = subject_key.partition(":")
    return int(raw_id) if kind == "request" and raw_id.isdigit() else None


def surveyed_ticket(subject_key: str) -> int | None:
    """The ticket a survey asks about ("ticket:<id>", an agent's conversation)."""
    kind, _, raw_id = subject_key.partition(":")
    return int(raw_id) if kind == "ticket" and raw_id.isdigit() else None
