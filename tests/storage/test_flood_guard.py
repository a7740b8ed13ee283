"""The incoming flood guard: a burst, then a steady rate, one notice per flood; shared by
every worker through Redis (CI runs this with TEST_REDIS_URL), per process without it."""

from __future__ import annotations

from dataclasses import replace

from bot.channels.flood import FloodGuard, FloodLimit, MemoryFloodGuard, Verdict
from bot.channels.redis_shared import RedisFloodGuard
from bot.config import Settings
from bot.wiring import AppDeps, build_deps, build_flood_guard

ADMIT, DROP, NOTIFY = Verdict.ADMIT, Verdict.DROP, Verdict.DROP_AND_NOTIFY


def slow_guard(deps: AppDeps) -> FloodGuard:
    """Three at once, then practically nothing: no refill during a test."""
    slow = deps.settings.model_copy(update={"flood_burst": 3, "flood_rate_per_second": 0.001})
    return build_flood_guard(replace(deps, settings=slow), bot_id=42)


async def test_a_burst_is_let_through_then_one_notice_then_silence(deps: AppDeps) -> None:
    guard = slow_guard(deps)
    verdicts = [await guard.check(501) for _ in range(8)]
    assert verdicts == [ADMIT, ADMIT, ADMIT, NOTIFY, DROP, DROP, DROP, DROP]
    assert [await guard.check(502) for _ in range(3)] == [ADMIT] * 3  # others are not touched


async def test_workers_share_one_budget_when_redis_is_configured(
    deps: AppDeps, settings: Settings
) -> None:
    other_deps = build_deps(settings)
    try:
        first, second = slow_guard(deps), slow_guard(other_deps)
        verdicts = [await guard.check(601) for guard in (first, second, first, second)]
    finally:
        await other_deps.close()
    if isinstance(first, RedisFloodGuard):
        assert verdicts == [ADMIT, ADMIT, ADMIT, NOTIFY]
    else:  # one process each, each with its own budget
        assert isinstance(first, MemoryFloodGuard)
        assert verdicts == [ADMIT] * 4


async def test_the_rate_refills_and_a_pause_ends_the_flood() -> None:
    now = [0.0]
    guard = MemoryFloodGuard(FloodLimit(burst=2, rate_per_second=1.0), clock=lambda: now[0])
    assert [await guard.check(1) for _ in range(4)] == [ADMIT, ADMIT, NOTIFY, DROP]
    now[0] += 1.0  # one more a second
    assert [await guard.check(1) for _ in range(2)] == [ADMIT, DROP]
    now[0] += 10.0  # quiet for a while: a new flood is told again
    assert [await guard.check(1) for _ in range(4)] == [ADMIT, ADMIT, NOTIFY, DROP]


async def test_memory_stays_bounded_by_the_people_writing_now() -> None:
    now = [0.0]
    guard = MemoryFloodGuard(FloodLimit(burst=5, rate_per_second=1.0), clock=lambda: now[0])
    for user in range(5000):
        await guard.check(user)
    now[0] += 60.0
    for _ in range(MemoryFloodGuard.PRUNE_EVERY):
        await guard.check(1)
    assert guard.tracked <= 2
