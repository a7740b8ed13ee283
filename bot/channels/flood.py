"""The incoming flood guard: one person sending hundreds of updates gets one notice.

Each person may send `burst` updates at once and then `rate` a second (the generic
cell rate algorithm: one "theoretical arrival time" per person). Updates beyond that
are dropped before the dispatcher sees them: no database work, no reply, so a flood
neither slows other people's conversations nor spends the bot's 30 messages a second
on the flooder. The first dropped update of a flood gets one short notice; the next
notice needs a pause in the flood first.

The notice goes through the outbox, so the notifier sends it within the chat's one
message a second, after the replies to the updates that were let through.

The state lives in Redis when REDIS_URL is set (shared by every worker, using
Redis's clock: `bot.channels.redis_shared`), otherwise in this process (bounded:
people who could send a full burst again are forgotten).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.services.domain.clock import Clock
from bot.services.outbox import Outbox, OutboxSignal
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class Verdict(Enum):
    ADMIT = "admit"
    DROP = "drop"
    DROP_AND_NOTIFY = "drop_and_notify"


@dataclass(frozen=True, slots=True)
class FloodLimit:
    burst: int
    rate_per_second: float

    @property
    def interval_ms(self) -> int:
        """Time one update "costs"."""
        return max(1, round(1000 / self.rate_per_second))

    @property
    def tolerance_ms(self) -> int:
        """How far ahead of now a person's arrival time may run: the burst."""
        return self.interval_ms * (self.burst - 1)

    @property
    def quiet_ms(self) -> int:
        """A pause this long ends a flood: the next drop gets a notice again."""
        return self.interval_ms * self.burst


class FloodGuard(Protocol):
    async def check(self, user_id: int) -> Verdict: ...

    async def close(self) -> None: ...


class MemoryFloodGuard:
    """One process's view; enough for a single `cancelbot run`."""

    PRUNE_EVERY = 1024

    def __init__(self, limit: FloodLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._arrival: dict[int, float] = {}
        self._noticed_until: dict[int, float] = {}
        self._calls = 0

    async def check(self, user_id: int) -> Verdict:
        now = self._clock() * 1000
        self._calls += 1
        if self._calls % self.PRUNE_EVERY == 0:
            self._prune(now)
        arrival = max(self._arrival.get(user_id, now), now)
        if arrival - now <= self._limit.tolerance_ms:
            self._arrival[user_id] = arrival + self._limit.interval_ms
            return Verdict.ADMIT
        noticed = self._noticed_until.get(user_id, 0.0) > now
        self._noticed_until[user_id] = now + self._limit.quiet_ms
        return Verdict.DROP if noticed else Verdict.DROP_AND_NOTIFY

    @property
    def tracked(self) -> int:
        return len(self._arrival) + len(self._noticed_until)

    def _prune(self, now: float) -> None:
        """Forget people who could send a whole burst again: they are as good as new."""
        self._arrival = {user: at for user, at in self._arrival.items() if at > now}
        self._noticed_until = {user: at for user, at in self._noticed_until.items() if at > now}

    async def close(self) -> None:
        self._arrival.clear()
        self._noticed_until.clear()


# KEYS: arrival time, notice marker. ARGV: interval, tolerance, quiet period (ms).
NOTICE_TEMPLATE = "flood/slow_down"


class FloodNotices:
    """Queues the one notice of a flood in the outbox."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock, signal: OutboxSignal) -> None:
        self._uow = uow
        self._clock = clock
        self._signal = signal

    async def queue(self, chat_id: int, locale: str) -> None:
        async with self._uow() as uow, uow.transaction():
            Outbox(uow, self._clock).enqueue(
                chat_id=chat_id,
                locale=locale,
                template=NOTICE_TEMPLATE,
                context={},
                dedupe_key=f"flood:{chat_id}:{uuid.uuid4().hex}",
                coalesce_key=f"flood:{chat_id}",
            )
        self._signal.kick()
