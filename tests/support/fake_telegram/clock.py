"""Fake time: message dates, callback-query expiry and rate-limit windows read this clock."""

from __future__ import annotations

import asyncio
import time


class FakeClock:
    """Wall-clock time that tests can move forward or freeze, so time rules need no sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Seconds since the epoch as the fake sees them."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. past the 15 s a callback query can be answered in."""
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def freeze(self) -> None:
        """Stop time so that everything happens "in the same second" (rate-limit tests)."""
        self._frozen_at = self.now()

    def unfreeze(self) -> None:
        """Let time run again from where it was frozen."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None


class VirtualTime:
    """Time that passes only when someone sleeps on it: a bot's rate limiter and the
    fake's rate windows can share it, so a test of flood limits runs in no real time.

    Give `now` and `sleep` to the bot's `RateLimiter(clock=…, sleep=…)` and the object to
    `FakeTelegram(rate_clock=…)`: Telegram's windows then slide exactly as far as the
    bot waited. Several sleepers each move it forward, never back.
    """

    def __init__(self, start: float = 1_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
