"""/stats in the agents' group: the report's figures for the last 7 or 30 days.

The numbers come from `InsightsService.report`, the one `cancelbot report` and the
dashboard call, so an agent reads what the merchant reads. The answer goes to the group
through the outbox like every other message there, so it is spent from the group's
budget; it lands in the topic the command was typed in (a case topic), else in General.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services.domain.clock import Clock
from bot.services.handoff.board import desk_locale
from bot.services.insights import Period, Rate, Report
from bot.services.outbox import Outbox
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.insights.service import InsightsService

STATS_PERIODS = (7, 30)
DEFAULT_STATS_DAYS = 30
"""Like `cancelbot report` without --since: the last 30 days."""
STATS_TEMPLATE = "agent/stats"
USAGE_TEMPLATE = "agent/stats_usage"
MAX_AGENT_LINES = 15
"""Agents listed by name (most cases first), so the message stays under Telegram's 4096."""


def stats_days(argument: str | None) -> int | None:
    """`7d`, `30d` (or nothing: 30); None for anything else."""
    word = (argument or "").strip().lower()
    if not word:
        return DEFAULT_STATS_DAYS
    for days in STATS_PERIODS:
        if word == f"{days}d":
            return days
    return None


class AgentStats:
    def __init__(self, uow: UnitOfWork, clock: Clock, insights: InsightsService) -> None:
        self._uow = uow
        self._clock = clock
        self._insights = insights
        self._outbox = Outbox(uow, clock)

    async def post(self, group_chat_id: int, thread_id: int | None, days: int, *, key: str) -> bool:
        """Queue the figures of the last `days` days for the group; False if `key` (the
        agent's message) was answered already."""
        report = await self._insights.report(Period.last(days, self._clock.now()))
        return await self._queue(
            group_chat_id, thread_id, STATS_TEMPLATE, stats_context(report, days), key=key
        )

    async def usage(self, group_chat_id: int, thread_id: int | None, *, key: str) -> bool:
        """Queue how /stats is typed, for an argument it does not take."""
        context = {"periods": list(STATS_PERIODS), "default": DEFAULT_STATS_DAYS}
        return await self._queue(group_chat_id, thread_id, USAGE_TEMPLATE, context, key=key)

    async def _queue(
        self,
        group_chat_id: int,
        thread_id: int | None,
        template: str,
        context: dict[str, Any],
        *,
        key: str,
    ) -> bool:
        dedupe_key = f"stats:{key}"
        async with self._uow.transaction():
            if await self._uow.outbox.by_dedupe_key(dedupe_key) is not None:
                return False
            handoffs = self._uow.handoffs
            topic = await handoffs.topic_by_thread(group_chat_id, thread_id) if thread_id else None
            self._outbox.enqueue(
                chat_id=group_chat_id,
                locale=await desk_locale(self._uow),
                template=template,
                context=context,
                dedupe_key=dedupe_key,
                topic_id=topic.id if topic is not None else None,
            )
        return True


def stats_context(report: Report, days: int) -> dict[str, Any]:
    """The report's headline and agent figures as plain values for the template.

    Shares are their percent as text ("66.7"), None when the whole is zero (the template
    shows "—"); durations are whole seconds, None when there are none.
    """
    flow, refunds, satisfaction, agents = (
        report.flow,
        report.refunds,
        report.satisfaction,
        report.agents,
    )
    paid = refunds.time_to_refund[-1].timing  # every method together
    return {
        "days": days,
        "since": report.period.since,
        "until": report.period.until,
        "intents": flow.intents,
        "requests": flow.requests,
        "kept": flow.kept,
        "save_rate": _percent(flow.save_rate),
        "refunds_paid": paid.count,
        "refund_p50": paid.p50,
        "refund_p90": paid.p90,
        "answers": satisfaction.answers,
        "average": satisfaction.average,
        "satisfied": _percent(satisfaction.satisfied),
        "cases": agents.cases,
        "by_reason": [{"key": c.key, "count": c.count} for c in agents.by_reason],
        "answered": agents.answered,
        "answer_rate": _percent(agents.answer_rate),
        "untouched": agents.untouched,
        "reply_p50": agents.time_to_first_reply.p50,
        "reply_p90": agents.time_to_first_reply.p90,
        "approvals": agents.approvals,
        "denials": agents.denials,
        "approval_rate": _percent(agents.approval_rate),
        "agents": [
            {
                "name": row.name,
                "cases": row.cases,
                "reply_p50": row.time_to_first_reply.p50,
                "approvals": row.approvals,
                "denials": row.denials,
                "answers": row.answers,
                "satisfied": _percent(row.satisfied_rate),
            }
            for row in agents.per_agent[:MAX_AGENT_LINES]
        ],
        "more_agents": max(0, len(agents.per_agent) - MAX_AGENT_LINES),
    }


def _percent(rate: Rate) -> str | None:
    percent = rate.percent
    return None if percent is None else f"{percent}"
