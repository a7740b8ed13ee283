"""The benchmark still runs against the real bot: a few scripted cancellations and a
small outbox drain (no timing is asserted; `bench.run` checks what each run did)."""

from __future__ import annotations

from bench.run import bench_database, conversations, notifier_drain


async def test_the_benchmark_conversations_and_drain_run_end_to_end() -> None:
    async with bench_database(None) as deps:
        talked = await conversations(deps, 3, at_once=2, first=0)
        drained = await notifier_drain(deps, 5)
    assert "6 updates" in talked.extra  # contact, /cancel_order and four presses each
    assert drained.per_second > 0
