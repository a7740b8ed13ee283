"""Fake time: message dates, callback-query expiry and rate-limit windows read this clock."""

from __future__ import annotations

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
