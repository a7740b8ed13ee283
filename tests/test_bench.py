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


async def test_the_floors_and_the_engine_tally_count_what_an_update_does() -> None:
    """The ORM floor does one read-and-write transaction per update, and the tally sees it
    (on SQLite: one write lock); the bot's /help goes through the same counting."""
    from bench.floor import EngineTally, orm_dispatcher
    from bench.session import MemorySession
    from bench.updates import text_update
    from bot.wiring import build_bot, build_dispatcher

    async with bench_database(None) as deps:
        bot = build_bot(deps.settings, session=MemorySession())
        with EngineTally(deps.engine) as floor:
            await orm_dispatcher(deps.session_factory).feed_update(bot, text_update(7, "hi"))
        with EngineTally(deps.engine) as product:
            await build_dispatcher(deps).feed_update(bot, text_update(7, "/help"))
    assert (floor.tally.transactions, floor.tally.write_locks) == (1, 1)
    assert product.tally.transactions >= 1
    assert product.tally.round_trips > product.tally.transactions
