"""Per-chat isolation: one chat's updates never run at once, different chats run in parallel;
in one process the locks exist only while used, across processes they live in Redis (CI runs
this with TEST_REDIS_URL) and a holder that stops renewing frees its chat."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.channels.isolation import LocalChatLocks
from bot.channels.redis_shared import RedisChatLocks
from bot.config import Settings
from bot.wiring import AppDeps, build_deps

ANN = StorageKey(bot_id=42, chat_id=1, user_id=1)
BOB = StorageKey(bot_id=42, chat_id=2, user_id=2)


async def _overlaps(locks_a: object, locks_b: object, key_a: StorageKey, key_b: StorageKey) -> bool:
    """Whether two holders of these locks were ever inside at the same time."""
    inside: list[str] = []
    overlapped = False

    async def hold(locks: object, key: StorageKey, name: str) -> None:
        nonlocal overlapped
        async with locks.lock(key):  # type: ignore[attr-defined]
            inside.append(name)
            overlapped = overlapped or len(inside) > 1
            await asyncio.sleep(0.05)
            inside.remove(name)

    await asyncio.gather(hold(locks_a, key_a, "a"), hold(locks_b, key_b, "b"))
    return overlapped


async def test_one_chat_waits_other_chats_do_not_and_nothing_is_kept(deps: AppDeps) -> None:
    locks = deps.events_isolation
    assert not await _overlaps(locks, locks, ANN, ANN)
    assert await _overlaps(locks, locks, ANN, BOB)
    if isinstance(locks, LocalChatLocks):
        for n in range(1000):
            async with locks.lock(StorageKey(bot_id=42, chat_id=n, user_id=n)):
                pass
        assert locks.held == 0  # aiogram's SimpleEventIsolation would keep 1000 locks


async def test_two_processes_share_the_chat_locks_through_redis(
    deps: AppDeps, settings: Settings
) -> None:
    other = build_deps(settings)
    try:
        shared = isinstance(deps.events_isolation, RedisChatLocks)
        assert (
            await _overlaps(deps.events_isolation, other.events_isolation, ANN, ANN) is not shared
        )
    finally:
        await other.close()


async def test_a_lock_held_longer_than_its_expiry_is_renewed_and_a_dead_one_expires(
    deps: AppDeps,
) -> None:
    storage = deps.fsm_storage
    if not isinstance(storage, RedisStorage):
        assert isinstance(deps.events_isolation, LocalChatLocks)  # in-process: nothing expires
        return
    keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    quick = RedisChatLocks(storage.redis, keys, ttl=0.3, poll=0.01)
    async with quick.lock(ANN):
        await asyncio.sleep(0.8)  # well past the expiry: renewed meanwhile
        assert await storage.redis.exists(keys.build(ANN, "lock"))
    # A holder that died (no renewal): its lock frees itself after the expiry.
    await storage.redis.set(keys.build(BOB, "lock"), "dead-worker", px=300)
    async with asyncio.timeout(5):
        async with quick.lock(BOB):
            pass
