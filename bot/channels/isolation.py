"""Per-chat event isolation: two updates of one chat never run at once; chats run in parallel.

aiogram takes the lock around each update (`FSMContextMiddleware`), after which the
FSM state is read. Two implementations:

- `LocalChatLocks`, for one process: an asyncio lock per chat that exists only while
  someone holds or waits for it. aiogram's `SimpleEventIsolation` keeps every chat's
  lock forever, one more per chat the bot ever talked to.
- `RedisChatLocks` (in `bot.channels.redis_shared`), for several processes: a Redis
  lock per chat with a short expiry that is extended while the update is handled, so a
  worker killed mid-update holds its chats for seconds, not for aiogram's default minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

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
