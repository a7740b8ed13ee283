"""What several workers share through Redis: the FSM storage, the chat locks, the flood guard.

Imported only when REDIS_URL is set (`bot.wiring`): redis and aiogram's Redis storage
cost ~7 MiB and part of the start-up, and one process without Redis needs neither.
`bot.channels.redis_optional` answers "is it Redis?" without importing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot.channels.flood import FloodLimit, Verdict

log = logging.getLogger(__name__)


def redis_fsm(redis_url: str) -> tuple[RedisStorage, RedisChatLocks]:
    """The FSM in Redis, and chat locks in the same Redis."""
    key_builder = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    storage = RedisStorage.from_url(redis_url, key_builder=key_builder)
    return storage, RedisChatLocks(storage.redis, key_builder)


class RedisChatLocks(BaseEventIsolation):
    """A Redis lock per chat, shared by every worker, kept alive while it is held."""

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder,
        *,
        ttl: float = 6.0,
        poll: float = 0.02,
    ) -> None:
        self.redis = redis
        self._keys = key_builder
        self._ttl = ttl
        self._poll = poll

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock = Lock(
            self.redis,
            self._keys.build(key, "lock"),
            timeout=self._ttl,
            sleep=self._poll,
            thread_local=False,
        )
        await lock.acquire()
        keeper = asyncio.create_task(self._keep(lock), name="chat-lock-keeper")
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await lock.release()
            except (LockError, RedisError) as error:
                # Expired (a stall longer than the TTL) or Redis is gone: it frees itself.
                log.warning("chat lock %s not released: %s", lock.name, error)

    async def _keep(self, lock: Lock) -> None:
        """Renew the lock's expiry every third of it while the update is handled."""
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await lock.reacquire()
            except (LockError, RedisError) as error:
                log.warning("chat lock %s could not be renewed: %s", lock.name, error)
                return

    async def close(self) -> None:
        pass  # the connection pool belongs to the FSM storage, which closes it


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
