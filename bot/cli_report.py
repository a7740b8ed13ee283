"""`cancelbot report` in a terminal: the merchant's figures as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bot.services.insights import Dimension, Report
from bot.services.insights.export import format_amounts, format_duration
from bot.services.insights.figures import Count

_SPLIT_TITLES = {
    Dimension.REASON: "By reason",
    Dimension.ORDER_STATUS: "By order status at request",
    Dimension.CATEGORY: "By category",
    Dimension.TIER: "By customer tier",
    Dimension.LANGUAGE: "By language",
    Dimension.AGENT: "By agent",
}


def print_report(report: Report, console: Console) -> None:
    period = report.period
    filtered = f", reason {report.reason}" if report.reason else ""
    console.print(
        f"[bold]cancelbot report[/bold]  {period.since:%Y-%m-%d %H:%M} → "
        f"{period.until:%Y-%m-%d %H:%M} UTC{filtered}"
    )
    for table in (
        _flow(report),
        _kept(report),
        _offers(report),
        _refunds(report),
        _refund_totals(report),
        _refund_times(report),
        _handoffs(report),
        _agents(report),
        _per_agent(report),
        _satisfaction(report),
        *(_split(report, dimension) for dimension in Dimension),
    ):
        console.print(table)


def _pairs(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def _counts(counts: tuple[Count, ...]) -> str:
    return ", ".join(f"{c.key} {c.count}" for c in counts) or "—"


def _flow(report: Report) -> Table:
    flow = report.flow
    merchant = flow.merchant_cancellations
    return _pairs(
        "Conversations",
        [
            ("Cancellation intents (flows started)", str(flow.intents)),
            ("Requests submitted", f"{flow.requests}  ({flow.request_rate})"),
            ("  cancellations executed", str(flow.executed)),
            ("  awaiting review", str(flow.awaiting_review)),
            ("  declined by an agent or the shop", str(flow.declined)),
            ("  withdrawn", str(flow.withdrawn)),
            ("Refused by the policy", f"{flow.refused}  ({flow.refusal_rate})"),
            ("  deciding rule", _counts(flow.refused_by_rule)),
            ("Abandoned", f"{flow.abandoned}  ({flow.abandon_rate})"),
            ("In progress", str(flow.in_progress)),
            ("Kept", f"{flow.kept}  ({flow.save_rate})"),
            ("Handed to a person", f"{flow.handed_to_person}  ({flow.handoff_rate})"),
            ("Orders the shop cancelled itself", "—" if merchant is None else str(merchant)),
        ],
    )


def _kept(report: Report) -> Table:
    kept = report.kept
    return _pairs(
        f"Orders kept (not cancelled within {kept.window_days} days)",
        [
            ("Saved by an alternative", str(kept.saved)),
            ("  then cancelled within the window", str(kept.cancelled_within_window)),
            ("Kept", str(kept.kept)),
            ("  window still open", str(kept.kept_window_open)),
            ("Save rate", str(kept.save_rate)),
            ("Revenue kept", format_amounts(kept.revenue_kept)),
            ("Cost of the offers", format_amounts(kept.cost_total)),
        ],
    )


def _offers(report: Report) -> Table:
    table = Table(title="Offers", title_justify="left")
    for column in ("offer", "shown", "accepted", "rate", "cost"):
        table.add_column(column, justify="left" if column == "offer" else "right")
    for offer in report.kept.offers:
        costs = [line.cost for line in report.kept.offer_costs if line.type is offer.type]
        table.add_row(
            offer.type.value,
            str(offer.shown),
            str(offer.accepted),
            str(offer.acceptance_rate),
            format_amounts(costs),
        )
    return table


def _refunds(report: Report) -> Table:
    refunds = report.refunds
    return _pairs(
        "Refunds",
        [
            ("Opened", str(refunds.opened)),
            ("Total", format_amounts(refunds.currencies)),
            ("By status now", _counts(refunds.by_status)),
            ("Approved automatically", str(refunds.approved_at_once)),
            ("Approved after review", str(refunds.approved_after_review)),
            ("  by", _counts(refunds.approved_after_review_by)),
            ("Awaiting review", str(refunds.awaiting_review)),
            ("Rejected", str(refunds.rejected)),
            ("Failed", str(refunds.failed)),
            ("Past their SLA now (all refunds)", str(refunds.past_sla_now)),
        ],
    )


def _refund_totals(report: Report) -> Table:
    table = Table(title="Refunds by currency and method", title_justify="left")
    for column in ("currency", "method", "count", "total"):
        table.add_column(column, justify="right" if column in ("count", "total") else "left")
    for row in report.refunds.totals:
        table.add_row(row.total.currency, row.method.value, str(row.count), row.total.format())
    return table


def _refund_times(report: Report) -> Table:
    table = Table(title="Time from request to money back", title_justify="left")
    for column in ("method", "refunded", "p50", "p90", "max"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for row in report.refunds.time_to_refund:
        timing = row.timing
        table.add_row(
            row.method.value if row.method else "all methods",
            str(timing.count),
            format_duration(timing.p50),
            format_duration(timing.p90),
            format_duration(timing.max),
        )
    return table


def _handoffs(report: Report) -> Table:
    handoffs = report.handoffs
    return _pairs(
        "Tickets for a person",
        [
            ("Opened", str(handoffs.tickets)),
            ("  why", _counts(handoffs.by_reason)),
            ("  still open", str(handoffs.still_open)),
        ],
    )


def _agents(report: Report) -> Table:
    agents = report.agents
    reply = agents.time_to_first_reply
    return _pairs(
        "The agents' group",
        [
            ("Cases handed to agents", str(agents.cases)),
            ("  why", _counts(agents.by_reason)),
            ("  answered by an agent", f"{agents.answered}  ({agents.answer_rate})"),
            ("  nobody took, answered or acted", str(agents.untouched)),
            ("Time to first agent reply, p50", format_duration(reply.p50)),
            ("  p90", format_duration(reply.p90)),
            ("Approvals / denials", f"{agents.approvals} / {agents.denials}"),
            ("  approval rate", str(agents.approval_rate)),
            ("Follow-ups agents opened", str(agents.follow_ups)),
        ],
    )


def _per_agent(report: Report) -> Table:
    table = Table(title="Per agent", title_justify="left")
    columns = ("agent", "cases", "first reply p50", "p90", "approved", "denied")
    for column in (*columns, "answers", "avg", "4–5★"):
        table.add_column(column, justify="left" if column == "agent" else "right")
    for row in report.agents.per_agent:
        table.add_row(
            row.name,
            str(row.cases),
            format_duration(row.time_to_first_reply.p50),
            format_duration(row.time_to_first_reply.p90),
            str(row.approvals),
            str(row.denials),
            str(row.answers),
            "—" if row.average is None else str(row.average),
            str(row.satisfied_rate),
        )
    return table


def _satisfaction(report: Report) -> Table:
    s = report.satisfaction
    stars = "  ".join(f"{n}★ {count}" for n, count in enumerate(s.stars, start=1))
    return _pairs(
        "Satisfaction",
        [
            ("Surveys asked", str(s.asked)),
            ("Response rate", str(s.response_rate)),
            ("Answers", str(s.answers)),
            ("Average", "—" if s.average is None else f"{s.average} / 5"),
            ("4–5 stars", str(s.satisfied)),
            ("Distribution", stars),
            *((f"“{c.text}”", f"{c.rating or '—'}★ {c.order_number or ''}") for c in s.comments),
        ],
    )


def _split(report: Report, dimension: Dimension) -> Table:
    table = Table(title=_SPLIT_TITLES[dimension], title_justify="left")
    columns = ("group", "intents", "requests", "kept", "save rate", "refused", "abandoned")
    for column in (*columns, "to a person", "answers", "avg", "4–5★"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in report.splits[dimension]:
        table.add_row(
            report.agents.name_of(row.group) if dimension is Dimension.AGENT else row.group,
            str(row.intents),
            str(row.requests),
            str(row.kept),
            str(row.save_rate),
            str(row.refused),
            str(row.abandoned),
            str(row.handed_to_person),
            str(row.answers),
            "—" if row.average is None else str(row.average),
            str(row.satisfied_rate),
        )
    return table
