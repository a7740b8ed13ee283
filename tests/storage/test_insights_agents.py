"""The agents' figures of the merchant's report, checked exactly against a known history.

Three agents: Alex and Sam (profiles with their names) and one the bot never saw a
name for. In the period: an approval Alex gave after two hours, a case Sam took, answered
after half an hour and denied, a conversation Alex answered after five minutes and
closed (asked about: 4 stars), an approval by the nameless agent after three hours, a
case nobody touched, a follow-up Alex opened by writing again, a ticket that never
reached the group. Outside it: an old case Alex approved, and an old case Sam denied
inside the period. Here (not in tests/services) so that CI runs it on PostgreSQL too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D

from bot.services.insights import Dimension, Period, Report
from bot.services.insights.export import report_csv, report_json
from bot.services.insights.figures import AgentRow, Count, SplitRow, Timing
from bot.wiring import AppDeps
from storage.enums import (
    AgentActionKind,
    CaseStatus,
    ItemCategory,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RelayDirection,
    RequestStatus,
    TicketReason,
)
from storage.models import CancellationRequest, Refund, Ticket
from tests.conftest import NOW
from tests.support.history import AgentHistoryBuilder, Person, days, decision

R = RefundStatus
A = AgentActionKind
ALEX, SAM, NAMELESS = 3001, 3002, 3003
PERIOD = Period.last(30, NOW)
HOUR = 3600


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@dataclass
class Known:
    untouched_ticket: int


async def agent_history(deps: AppDeps) -> Known:
    async with deps.uow() as uow:
        b = AgentHistoryBuilder(uow.session)
        start = NOW - days(60)
        await b.agent(ALEX, "Alex Kim", start)
        await b.agent(SAM, "Sam Wu", start)
        ann = await b.person("C1", user_id=101, since=start, name="Ann Lee")
        bo = await b.person("C2", user_id=102, locale="zh", since=start, name="Bo Wang")
        uma = await b.person("C3", user_id=103, since=start, name="Uma Roy")

        async def needs_approval(
            person: Person,
            number: str,
            ago: timedelta,
            reason: ReasonCode,
            amount: str,
            decided: tuple[RefundStatus, timedelta, int],
        ) -> tuple[Ticket, CancellationRequest, Refund]:
            """A confirmed cancellation whose refund waited for an agent in the group, and
            the agent's decision on it (`decided`: status, after how long, which agent)."""
            when = NOW - ago
            status, after, agent = decided
            order = await b.order(
                person,
                number,
                (ItemCategory.ELECTRONICS, amount, 1),
                status=OrderStatus.PAID,
                placed=when - days(1),
                paid=when - days(1),
            )
            case = await b.case(
                person,
                order,
                at=when,
                status=CaseStatus.CONFIRMED,
                reason=reason,
                decided=decision(refund=amount),
                closed=when,
            )
            request = await b.request(
                order,
                case=case,
                at=when,
                status=RequestStatus.APPROVED if status is R.APPROVED else RequestStatus.DENIED,
                reason=reason,
                refund=amount,
                closed=when + after,
            )
            refund = await b.refund(
                order,
                amount,
                PaymentMethod.CARD,
                [(R.PENDING_REVIEW, when, "bot"), (status, when + after, f"agent:{agent}")],
                request=request,
            )
            ticket = await b.ticket(
                person, TicketReason.NEEDS_APPROVAL, at=when, case=case, closed=when + after
            )
            await b.handoff(ticket, when)
            return ticket, request, refund

        # A. Alex approves Ann's refund two hours after it reached the group; 5 stars.
        ta = NOW - days(10)
        ticket_a, request_a, refund_a = await needs_approval(
            ann, "OA", days(10), ReasonCode.CHANGED_MIND, "600.00", (R.APPROVED, hours(2), ALEX)
        )
        await b.act(ticket_a, ALEX, A.APPROVE, ta + hours(2), refund=refund_a)
        await b.survey(ann, request_a, asked=ta + days(1), rating=5, answered=ta + days(1))

        # B. Sam takes Bo's case, writes after 30 minutes, denies after an hour; 2 stars.
        tb = NOW - days(8)
        ticket_b, request_b, refund_b = await needs_approval(
            bo, "OB", days(8), ReasonCode.FOUND_CHEAPER, "800.00", (R.REJECTED, hours(1), SAM)
        )
        await b.act(ticket_b, SAM, A.TAKE, tb + timedelta(minutes=10))
        await b.relay(ticket_b, RelayDirection.TO_AGENTS, tb + timedelta(minutes=20))
        await b.relay(ticket_b, RelayDirection.TO_CUSTOMER, tb + timedelta(minutes=30), SAM)
        await b.relay(ticket_b, RelayDirection.TO_CUSTOMER, tb + timedelta(minutes=40), ALEX)
        await b.act(ticket_b, SAM, A.DENY, tb + hours(1), refund=refund_b, note="used")
        await b.survey(bo, request_b, asked=tb + days(1), rating=2, answered=tb + days(1))

        # C. Ann asks for a person from the menu: Alex answers in five minutes, closes; 4 stars.
        tc = NOW - days(5)
        ticket_c = await b.ticket(
            ann, TicketReason.CUSTOMER_ASKED, at=tc, closed=tc + timedelta(minutes=20)
        )
        await b.handoff(ticket_c, tc)
        await b.relay(ticket_c, RelayDirection.TO_AGENTS, tc + timedelta(minutes=1))
        await b.relay(ticket_c, RelayDirection.TO_CUSTOMER, tc + timedelta(minutes=5), ALEX)
        await b.act(ticket_c, ALEX, A.CLOSE, tc + timedelta(minutes=20))
        await b.ticket_survey(ann, ticket_c, asked=tc + hours(1), rating=4, answered=tc + hours(1))

        # E. Alex writes to Ann again a day later: a follow-up case; 3 stars.
        te = NOW - days(4)
        ticket_e = await b.ticket(
            ann, TicketReason.AGENT_FOLLOW_UP, at=te, closed=te + timedelta(minutes=30)
        )
        await b.handoff(ticket_e, te)
        await b.relay(ticket_e, RelayDirection.TO_CUSTOMER, te, ALEX)
        await b.act(ticket_e, ALEX, A.CLOSE, te + timedelta(minutes=30))
        await b.ticket_survey(ann, ticket_e, asked=te + hours(1), rating=3, answered=te + hours(2))

        # H. An agent without a profile approves Uma's refund after three hours.
        th = NOW - days(6)
        ticket_h, _, refund_h = await needs_approval(
            uma, "OH", days(6), ReasonCode.MISTAKE, "700.00", (R.APPROVED, hours(3), NAMELESS)
        )
        await b.act(ticket_h, NAMELESS, A.APPROVE, th + hours(3), refund=refund_h)

        # D. Refused by the policy, Bo wants a person: nobody has touched it yet.
        td = NOW - days(3)
        order_d = await b.order(
            bo,
            "OD",
            (ItemCategory.FOOD_PERISHABLE, "88.00", 1),
            status=OrderStatus.DELIVERED,
            placed=td - days(2),
            paid=td - days(2),
            delivered=td - days(1),
        )
        case_d = await b.case(
            bo,
            order_d,
            at=td,
            status=CaseStatus.ABANDONED,
            reason=ReasonCode.DEFECTIVE,
            decided=decision(eligible=False, rule="non_returnable"),
            closed=td,
        )
        ticket_d = await b.ticket(bo, TicketReason.NOT_ELIGIBLE, at=td, case=case_d)
        await b.handoff(ticket_d, td)

        # F. Uma asks for a person while no agents' group was ready: a ticket, no case there.
        await b.ticket(uma, TicketReason.CUSTOMER_ASKED, at=NOW - days(2))

        # G. Before the period: Alex approved then; Sam denied an old case inside it.
        tg = NOW - days(40)
        ticket_g = await b.ticket(uma, TicketReason.CUSTOMER_ASKED, at=tg, closed=tg + hours(1))
        await b.handoff(ticket_g, tg)
        await b.act(ticket_g, ALEX, A.APPROVE, tg + hours(1))
        ticket_old = await b.ticket(
            uma, TicketReason.CUSTOMER_ASKED, at=NOW - days(35), closed=NOW - days(29)
        )
        await b.handoff(ticket_old, NOW - days(35))
        await b.act(ticket_old, SAM, A.DENY, NOW - days(29))
        await uow.commit()
        return Known(untouched_ticket=ticket_d.id)


async def report(deps: AppDeps, reason: ReasonCode | None = None) -> Report:
    async with deps.uow() as uow:
        return await deps.insights(uow).report(PERIOD, reason)


async def test_cases_handed_to_agents_and_why(deps: AppDeps) -> None:
    await agent_history(deps)
    result = await report(deps)
    agents = result.agents

    assert agents.cases == 5
    assert agents.by_reason == (
        Count("needs_approval", 3),
        Count("customer_asked", 1),
        Count("not_eligible", 1),
    )
    assert (agents.follow_ups, agents.answered, agents.untouched) == (1, 4, 1)
    assert str(agents.answer_rate) == "80.0%"
    # The ticket that never reached the group is a ticket for a person all the same.
    assert result.handoffs.tickets == 7


async def test_time_to_the_first_agent_reply(deps: AppDeps) -> None:
    """5 min (a message), 30 min (Sam's message, before his denial), 2 h and 3 h (an
    approval is the first thing those customers heard): nearest-rank p50 and p90."""
    await agent_history(deps)
    agents = (await report(deps)).agents

    assert agents.time_to_first_reply == Timing(4, 1800, 3 * HOUR, 3 * HOUR)


async def test_approvals_and_denials_made_in_the_period(deps: AppDeps) -> None:
    await agent_history(deps)
    agents = (await report(deps)).agents

    assert (agents.approvals, agents.denials) == (2, 2)
    assert str(agents.approval_rate) == "50.0%"


async def test_cases_decisions_and_satisfaction_per_agent(deps: AppDeps) -> None:
    await agent_history(deps)
    result = await report(deps)

    assert result.agents.per_agent == (
        AgentRow(ALEX, "Alex Kim", 2, Timing(2, 300, 2 * HOUR, 2 * HOUR), 1, 0, 3, 2, D("4.00")),
        AgentRow(NAMELESS, "3003", 1, Timing(1, 3 * HOUR, 3 * HOUR, 3 * HOUR), 1, 0, 0, 0, None),
        AgentRow(SAM, "Sam Wu", 1, Timing(1, 1800, 1800, 1800), 0, 2, 1, 0, D("2.00")),
    )  # fmt: skip
    alex, nameless, sam = result.agents.per_agent
    assert [str(row.satisfied_rate) for row in (alex, nameless, sam)] == ["66.7%", "—", "0.0%"]
    assert [str(row.approval_rate) for row in (alex, nameless, sam)] == ["100.0%", "100.0%", "0.0%"]
    assert result.satisfaction.answers == 4
    assert result.satisfaction.stars == (0, 1, 1, 1, 1)


async def test_the_split_by_agent(deps: AppDeps) -> None:
    """Customer cases by the agent who handled them; an answer about a conversation with
    an agent counts for that agent even without a cancellation case."""
    await agent_history(deps)
    result = await report(deps)

    assert result.splits[Dimension.AGENT] == (
        SplitRow(str(ALEX), 1, 1, 1, 0, 0, 1, 0, 0, 0, 3, 2, D("4.00")),
        SplitRow(str(SAM), 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, D("2.00")),
        SplitRow(str(NAMELESS), 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, None),
        SplitRow("none", 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, None),
    )  # fmt: skip
    assert result.agents.name_of(str(ALEX)) == "Alex Kim"
    assert result.agents.name_of("none") == "none"
    by_reason = {row.group: row.answers for row in result.splits[Dimension.REASON]}
    assert by_reason["none"] == 2  # the two conversations outside any cancellation


async def test_a_reason_filter_keeps_the_agents_work_on_its_cases(deps: AppDeps) -> None:
    await agent_history(deps)
    agents = (await report(deps, ReasonCode.CHANGED_MIND)).agents

    assert (agents.cases, agents.answered, agents.approvals, agents.denials) == (1, 1, 1, 0)
    two_hours = Timing(1, 2 * HOUR, 2 * HOUR, 2 * HOUR)
    assert agents.per_agent == (AgentRow(ALEX, "Alex Kim", 1, two_hours, 1, 0, 1, 1, D("5.00")),)


async def test_no_agent_work_shows_dashes_not_zero_percent(deps: AppDeps) -> None:
    agents = (await report(deps)).agents

    assert (agents.cases, agents.answered, agents.approvals, agents.denials) == (0, 0, 0, 0)
    assert str(agents.answer_rate) == str(agents.approval_rate) == "—"
    assert agents.answer_rate.percent is None
    assert agents.time_to_first_reply == Timing(0, None, None, None)
    assert agents.per_agent == ()


async def test_json_and_csv_carry_the_agent_figures(deps: AppDeps) -> None:
    await agent_history(deps)
    result = await report(deps)

    data = report_json(result)["agents"]
    assert data["cases"] == 5
    assert data["time_to_first_reply"] == {"count": 4, "p50": 1800, "p90": 10800, "max": 10800}
    assert data["approval_rate"] == {"part": 2, "whole": 4, "percent": "50.0"}
    assert data["per_agent"][0]["name"] == "Alex Kim"
    assert data["per_agent"][1]["satisfied_rate"]["percent"] is None
    lines = report_csv(result).splitlines()
    assert "agents,cases,5," in lines
    assert "agents,time_to_first_reply.p50,1800," in lines
    assert f"agents,per_agent.{ALEX}.approvals,1," in lines
    assert f"splits,agent.{SAM}.answers,1," in lines
    empty = report_json(await report_for_nothing(deps))["agents"]
    assert empty["answer_rate"]["percent"] is None
    assert empty["approval_rate"]["percent"] is None


async def report_for_nothing(deps: AppDeps) -> Report:
    """A period before anything happened."""
    async with deps.uow() as uow:
        return await deps.insights(uow).report(Period.last(1, NOW - days(100)))
