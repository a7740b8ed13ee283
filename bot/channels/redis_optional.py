"""Questions about Redis that do not import it: without REDIS_URL it is never loaded.

Nothing can have raised a Redis error, or be a Redis storage, while the module that
defines it was never imported; so `sys.modules` is asked, not the module imported.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from aiogram.fsm.storage.base import BaseStorage

if TYPE_CHECKING:
    from redis.asyncio import Redis


def redis_of(storage: BaseStorage) -> Redis | None:
    """The Redis client behind the FSM storage, when the storage is aiogram's Redis one."""
    module = sys.modules.get("aiogram.fsm.storage.redis")
    if module is not None and isinstance(storage, module.RedisStorage):
        client: Redis = storage.redis
        return client
    return None


def redis_outages() -> tuple[type[BaseException], ...]:
    """Redis's errors for "it did not answer" (connection lost, timed out), once loaded."""
    exceptions = sys.modules.get("redis.exceptions")
    if exceptions is None:
        return ()
    return (exceptions.ConnectionError, exceptions.TimeoutError)
