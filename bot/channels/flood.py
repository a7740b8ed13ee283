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
Redis's clock), otherwise in this process (bounded: people who could send a full
burst again are forgotten).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

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
# Returns 1 admit, 0 drop, 2 drop and notify. Uses Redis's clock, shared by all workers.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
if arrival - now <= tolerance then
  local next_arrival = arrival + interval
  redis.call('SET', KEYS[1], next_arrival, 'PX', next_arrival - now)
  return 1
end
local noticed = redis.call('EXISTS', KEYS[2])
redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
if noticed == 1 then return 0 end
return 2
"""


class RedisFloodGuard:
    """Shared by every worker; if Redis does not answer, updates are let through."""

    def __init__(self, redis: Redis, limit: FloodLimit, prefix: str) -> None:
        self._redis = redis
        self._limit = limit
        self._prefix = prefix
        self._script = redis.register_script(_GCRA)

    async def check(self, user_id: int) -> Verdict:
        keys = [f"{self._prefix}:{user_id}", f"{self._prefix}:{user_id}:notice"]
        args = [self._limit.interval_ms, self._limit.tolerance_ms, self._limit.quiet_ms]
        try:
            answer = int(await self._script(keys=keys, args=args))
        except RedisError as error:
            # The update itself will meet the same outage (its chat lock is in Redis)
            # and be apologised for and replayed; the guard must not lose it first.
            log.warning("flood guard: Redis unavailable (%s); letting the update through", error)
            return Verdict.ADMIT
        return {1: Verdict.ADMIT, 0: Verdict.DROP}.get(answer, Verdict.DROP_AND_NOTIFY)

    async def close(self) -> None:
        pass  # the connection pool belongs to the FSM storage, which closes it


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
