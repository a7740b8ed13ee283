"""Per-chat event isolation: two updates of one chat never run at once; chats run in parallel.

aiogram takes the lock around each update (`FSMContextMiddleware`), after which the
FSM state is read. Two implementations:

- `LocalChatLocks`, for one process: an asyncio lock per chat that exists only while
  someone holds or waits for it. aiogram's `SimpleEventIsolation` keeps every chat's
  lock forever, one more per chat the bot ever talked to.
- `RedisChatLocks`, for several processes: a Redis lock per chat with a short expiry
  that is extended while the update is handled, so a worker killed mid-update holds
  its chats for seconds, not for aiogram's default minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    lock: asyncio.Lock
    users: int = 0


class LocalChatLocks(BaseEventIsolation):
    """In-process locks, forgotten when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(asyncio.Lock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]

    @property
    def held(self) -> int:
        """Chats with a lock in memory right now: only those being handled."""
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()


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
