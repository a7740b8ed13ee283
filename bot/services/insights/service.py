"""`InsightsService`: the merchant's figures for a period, and one case's whole story.

The command line (`cancelbot report`), the web dashboard and the agents' /stats
(`bot.services.handoff.stats`) all call this service, so they show the same numbers. It
only reads: its unit of work never takes the write lock (`InsightsRepository.read_only`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.services.domain.clock import Clock
from bot.services.insights.compute import compute_report
from bot.services.insights.figures import Period, Report
from bot.services.insights.history import load_history
from bot.services.insights.timeline import CaseTimeline, build_timeline
from bot.services.policy import Policy
from bot.services.refunds.watchdog import sla_limits
from storage.enums import ReasonCode
from storage.uow import UnitOfWork

_SLA_PAGE = 1000


@dataclass(frozen=True, slots=True)
class InsightsConfig:
    default_locale: str
    timezone: str
    """The shop's time zone (TIMEZONE): the trend's days are its calendar days."""
    kept_window: timedelta
    """How long a saved order must stay uncancelled to count as kept."""


class InsightsService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, policy: Policy, config: InsightsConfig
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._config = config

    async def report(self, period: Period, reason: ReasonCode | None = None) -> Report:
        """Every figure of the period, optionally only for cases with one reason."""
        now = self._clock.now()
        async with self._uow.transaction():
            await self._uow.insights.read_only()
            history = await load_history(
                self._uow,
                period,
                now,
                default_locale=self._config.default_locale,
                past_sla=await self.past_sla_count(),
            )
        return compute_report(
            history,
            reason=reason,
            window=self._config.kept_window,
            timezone=self._config.timezone,
        )

    async def past_sla_count(self) -> int:
        """Refunds stuck past the policy's `[sla]` now, escalated or not (the watchdog's rule)."""
        limits = sla_limits(self._policy, self._clock.now())
        count, after_id = 0, 0
        while True:
            page = await self._uow.refunds.stuck(
                limits, after_id=after_id, limit=_SLA_PAGE, include_escalated=True
            )
            count += len(page)
            if len(page) < _SLA_PAGE:
                return count
            after_id = page[-1].refund_id

    async def timeline(self, case_id: int) -> CaseTimeline | None:
        """A case's story for the dashboard: transcript, decision, offers, request, refund
        events, tickets and survey, in time order; personal data masked. None if unknown."""
        async with self._uow.transaction():
            await self._uow.insights.read_only()
            return await build_timeline(self._uow, case_id, now=self._clock.now())
