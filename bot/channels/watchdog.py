"""Runs the overdue watchdog (bot.services.refunds.watchdog) every WATCHDOG_INTERVAL_SECONDS.

`BotServer` starts it next to the notifier and stops it first. A sweep that queued
messages rings the outbox signal, so they leave now rather than at the notifier's next
poll. Several processes may each run this loop: the sweep escalates a refund once
whoever gets there first.
"""

from __future__ import annotations

import asyncio
import logging

from bot.channels.pauses import pause
from bot.services.domain.clock import Clock
from bot.services.outbox import OutboxSignal
from bot.services.refunds.watchdog import OverdueWatchdog

log = logging.getLogger(__name__)


class WatchdogLoop:
    """Sweeps at start, then every `interval` seconds, until stop()."""

    def __init__(
        self,
        watchdog: OverdueWatchdog,
        clock: Clock,
        *,
        interval: float,
        signal: OutboxSignal,
    ) -> None:
        self.watchdog = watchdog
        self._clock = clock
        self._interval = interval
        self._signal = signal
        self._stopping = asyncio.Event()

    async def sweep_once(self) -> int:
        """One sweep at the clock's now; returns how many refunds were escalated."""
        escalated = await self.watchdog.sweep(self._clock.now())
        if escalated:
            self._signal.kick()
        return escalated

    async def run(self) -> None:
        log.info("watchdog: a sweep every %g s", self._interval)
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception:
                # The database may be away for a moment; the next sweep finds the same refunds.
                log.exception("watchdog sweep failed; trying again in %g s", self._interval)
            await pause(self._stopping, self._interval)
        log.info("watchdog stopped")

    async def stop(self) -> None:
        """run() returns once the sweep under way (short transactions) has ended."""
        self._stopping.set()
