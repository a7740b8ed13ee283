"""The watchdog's loop: a sweep at start and every interval, a kick when something was
escalated, a failed sweep logged and retried, a prompt stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest

from bot.channels.watchdog import WatchdogLoop
from bot.services.domain.clock import FixedClock
from bot.services.outbox import OutboxSignal
from bot.services.refunds.watchdog import OverdueWatchdog
from tests.conftest import NOW


class ScriptedWatchdog(OverdueWatchdog):
    """Answers each sweep from a script (a count, or an exception to raise), then 0."""

    def __init__(self, *script: int | Exception) -> None:
        self.script = list(script)
        self.sweeps: list[datetime] = []

    async def sweep(self, now: datetime) -> int:
        self.sweeps.append(now)
        step = self.script.pop(0) if self.script else 0
        if isinstance(step, Exception):
            raise step
        return step


async def _kicked(signal: OutboxSignal, within: float = 1.0) -> bool:
    try:
        async with asyncio.timeout(within):
            await signal.wait()
    except TimeoutError:
        return False
    return True


async def test_sweeps_at_start_and_kicks_the_notifier_only_when_it_escalated() -> None:
    signal = OutboxSignal()
    watchdog = ScriptedWatchdog(0, 2)
    loop = WatchdogLoop(watchdog, FixedClock(NOW), interval=0.01, signal=signal)
    running = asyncio.create_task(loop.run())

    assert await _kicked(signal)
    assert len(watchdog.sweeps) == 2  # the first sweep found nothing and rang nothing
    assert watchdog.sweeps[0] == NOW
    assert not await _kicked(signal, within=0.05)  # the script has run out: 0 from now on
    await loop.stop()
    await asyncio.wait_for(running, 1.0)


async def test_a_failed_sweep_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = OutboxSignal()
    watchdog = ScriptedWatchdog(ConnectionError("database away"), 1)
    loop = WatchdogLoop(watchdog, FixedClock(NOW), interval=0.01, signal=signal)

    with caplog.at_level(logging.ERROR, logger="bot.channels.watchdog"):
        running = asyncio.create_task(loop.run())
        assert await _kicked(signal)
        await loop.stop()
        await asyncio.wait_for(running, 1.0)

    assert [r.getMessage() for r in caplog.records] == [
        "watchdog sweep failed; trying again in 0.01 s"
    ]


async def test_stop_does_not_wait_for_the_interval() -> None:
    signal = OutboxSignal()
    watchdog = ScriptedWatchdog(1)
    loop = WatchdogLoop(watchdog, FixedClock(NOW), interval=3600, signal=signal)
    running = asyncio.create_task(loop.run())
    assert await _kicked(signal)  # the sweep at start is done

    await loop.stop()
    await asyncio.wait_for(running, 1.0)
    assert len(watchdog.sweeps) == 1
