"""Terminal output of the command line: progress bars and reports, through rich."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.services.conversation.tickets import OpenTicket
from bot.services.imports.importer import ImportReport
from bot.services.merchant.webhook_operations import FailedEvent
from bot.services.policy import ExplainRow
from bot.services.policy.check import PolicyCheck
from storage.enums import ItemCondition

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A `progress(done, total)` callback drawing a bar on a terminal, silent in a pipe."""
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def print_import_report(report: ImportReport) -> None:
    """Every error on its own line (record and field first), then the counts."""
    for error in report.errors:
        stderr.print(f"[red]error[/red] {error}", markup=True, soft_wrap=True)
    stdout.print(report.summary(), markup=False)


def print_policy_check(check: PolicyCheck) -> None:
    """The decision as a merchant reads it: verdict and rule; for a grant, the money line
    by line, the approval and the ways to pay it back; then the offers.

    A decision that waits for the item's condition says so, and a refusal has no money
    or approval lines: nothing would be paid, so nothing would be approved.
    """
    decision = check.decision
    if decision.needs_condition:
        conditions = ", ".join(condition.value for condition in ItemCondition)
        stdout.print(
            f"{check.order_number}: the item's condition decides (rule {decision.rule}); "
            f"give --condition ({conditions})",
            markup=False,
            soft_wrap=True,
        )
        return
    verdict = "eligible" if decision.eligible else "not eligible"
    stdout.print(f"{check.order_number}: {verdict} (rule {decision.rule})", markup=False)
    if decision.excluded is not None:
        left = ", ".join(f"{item.sku} ×{item.quantity}" for item in decision.excluded.items)
        stdout.print(f"left out (rule {decision.excluded.rule}): {left}", markup=False)
    if decision.eligible:
        lines = Table("part", "price", "refunded", "kept", box=None)
        for line in decision.breakdown:
            kept = line.kept.format() if line.kept is not None else ""
            lines.add_row(line.code, line.price.format(), line.amount.format(), kept)
        lines.add_row("refund", "", decision.refund.format(), "")
        stdout.print(lines)
        reasons = ", ".join(reason.value for reason in decision.approval_reasons)
        stdout.print(
            f"approval: {decision.approval.value}" + (f" ({reasons})" if reasons else ""),
            markup=False,
        )
        if decision.needs_photo:
            stdout.print("photo: required; the bot asks the customer for one", markup=False)
    for option in decision.refund_options:
        extra = " (completed by an agent)" if option.completed_by_agent else ""
        stdout.print(
            f"refund method: {option.method.value} {option.amount.format()}, "
            f"{option.arrival.label()}{extra}",
            markup=False,
        )
    for offer in check.offers:
        stdout.print(f"offer: {offer.type.value} {offer.value.format()}", markup=False)


def print_policy_explain(rows: list[ExplainRow]) -> None:
    table = Table("section", "name", "when", "then", show_lines=True)
    for row in rows:
        table.add_row(row.section, row.name, row.when, row.then)
    stdout.print(table)


def print_tickets(tickets: list[OpenTicket], *, agents: bool, problem: str | None) -> None:
    """Open tickets for an operator, oldest first, and whether agents see them in Telegram."""
    if not tickets:
        stdout.print("no open tickets", markup=False)
    else:
        table = Table(
            "#", "opened (UTC)", "reason", "customer", "contact", "telegram", "order", "agents"
        )
        for ticket in tickets:
            customer = (
                f"{ticket.customer_name} ({ticket.customer_id})" if ticket.customer_id else "—"
            )
            telegram = ticket.telegram_name + (f" @{ticket.username}" if ticket.username else "")
            state = ticket.with_agents.value if ticket.with_agents else "not sent"
            if ticket.taken_by:
                state += f" ({ticket.taken_by})"
            table.add_row(
                str(ticket.id),
                ticket.opened_at.strftime("%Y-%m-%d %H:%M"),
                ticket.reason.value,
                customer,
                ticket.contact or "—",
                f"{telegram} [{ticket.telegram_user_id}]",
                ticket.order_number or "—",
                state,
            )
        stdout.print(table)
    if not agents:
        why = f" ({problem})" if problem else " (no AGENT_CHAT_ID)"
        stdout.print(
            f"The agents' group is not connected{why}: nobody was promised a reply in Telegram. "
            "Contact these customers yourself.",
            markup=False,
        )


def print_failed_webhook_events(events: list[FailedEvent], *, configured: bool) -> None:
    """What the merchant's webhook gave up on, with the last error of each."""
    if not events:
        stdout.print("no failed webhook events", markup=False)
    else:
        table = Table("event id", "type", "created (UTC)", "attempts", "last error")
        for event in events:
            table.add_row(
                event.event_id,
                event.type,
                event.created_at.strftime("%Y-%m-%d %H:%M"),
                str(event.attempts),
                event.last_error or "—",
            )
        stdout.print(table)
        stdout.print(
            "`cancelbot webhooks retry EVENT_ID…` (or --all) sends them again.", markup=False
        )
    if not configured:
        stdout.print("MERCHANT_WEBHOOK_URL is not set: nothing is being sent.", markup=False)
