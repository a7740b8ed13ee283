"""No statement of a conversation reads a whole table: each lookup has an index, so its
cost does not grow with the shop's history (every request, offer and conversation ever
made). The statements are those a real conversation sends, planned by the database.

On SQLite the plan names each table read in full (`SCAN <table>`, with or without an
index to walk). On PostgreSQL a small table is read in full whether or not an index
exists, so sequential scans are priced out first (`enable_seqscan = off`): a table it
still reads in full has no index the statement can use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.conversation import cancel_one, load_bench_shop
from bench.session import MemorySession
from bench.updates import contact_update, text_update
from bot.services.erasure import ErasureService
from bot.wiring import AppDeps, build_bot, build_dispatcher
from storage.models import Base

TABLES = frozenset(Base.metadata.tables)
_SQLITE_SCAN = re.compile(r"^SCAN (\w+)")


async def conversation_statements(deps: AppDeps) -> dict[str, Any]:
    """Each distinct statement two customers' cancellations send, with its parameters,
    and those of /status, /help, a message the bot does not understand and a third
    customer's typed guesses of their order (a number, then a description)."""
    *people, typist = await load_bench_shop(deps, 3, first=700)
    dp = build_dispatcher(deps)
    session = MemorySession()
    bot = build_bot(deps.settings, session=session)
    with sent_statements(deps) as sent:
        for person in people:
            await cancel_one(dp, bot, session, person)
            for text in ("/status", "/help", "what is this"):
                await dp.feed_update(bot, text_update(person.user_id, text))
        # A third customer types their order: by number, then by what they bought.
        await dp.feed_update(bot, contact_update(typist.user_id, typist.phone))
        for text in ("/cancel_order", "SO-1234567", "the blue headphones"):
            await dp.feed_update(bot, text_update(typist.user_id, text))
        await deps.group_commit.flush()
    return sent


async def tables_read_in_full(connection: AsyncConnection, statement: str, params: Any) -> set[str]:
    if connection.dialect.name == "sqlite":
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        found = (_SQLITE_SCAN.match(row[3]) for row in rows)
        return {match.group(1) for match in found if match} & TABLES
    result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params)
    plan = result.scalar_one()  # asyncpg decodes the JSON itself
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return {
        node["Relation Name"] for node in _nodes(root) if node.get("Node Type") == "Seq Scan"
    } & TABLES


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(found for child in node.get("Plans", []) for found in _nodes(child))]


async def test_no_statement_of_a_conversation_reads_a_whole_table(deps: AppDeps) -> None:
    statements = await conversation_statements(deps)
    assert len(statements) > 20  # the whole conversation was there to look at
    assert any("FROM order_items JOIN orders" in statement for statement in statements)
    assert await full_reads(deps, statements) == {}


async def test_an_erasure_reads_no_whole_table_but_the_conversation_states(
    deps: AppDeps,
) -> None:
    """Erasing a customer finds their rows by customer and by Telegram account, in one
    transaction that holds the write lock: none of it grows with the shop's history, but
    for aiogram's conversation-state keys ("fsm:<bot>:<chat>:<user>:<destiny>"), matched
    on the chat and the user inside the key (one row per chat, read once per erasure)."""
    (person,) = await load_bench_shop(deps, 1, first=800)
    dp = build_dispatcher(deps)
    session = MemorySession()
    await cancel_one(dp, build_bot(deps.settings, session=session), session, person)
    await deps.group_commit.flush()
    async with deps.uow() as uow:
        customer = await uow.customers.by_telegram_user(person.user_id)
    assert customer is not None
    with sent_statements(deps) as statements:
        async with deps.uow() as uow:
            erased = await ErasureService(uow, deps.clock).forget(
                customer.external_id, requested_by="cli"
            )
            await uow.commit()
    assert (erased.telegram_accounts, len(statements) > 20) == (1, True)
    assert set((await full_reads(deps, statements)).values()) == {("fsm_states",)}


@contextmanager
def sent_statements(deps: AppDeps) -> Iterator[dict[str, Any]]:
    """Each distinct statement sent meanwhile, with its parameters."""
    sent: dict[str, Any] = {}

    def record(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not many and statement.lstrip()[:6].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT"):
            sent.setdefault(statement, params)

    event.listen(deps.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(deps.engine.sync_engine, "before_cursor_execute", record)


async def full_reads(deps: AppDeps, statements: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The tables each statement reads in full, by its first words."""
    found = {}
    async with deps.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in statements.items():
            tables = await tables_read_in_full(connection, statement, params)
            if tables:
                found[" ".join(statement.split())[:120]] = tuple(sorted(tables))
        await connection.rollback()  # EXPLAIN of a write plans it without running it
    return found
