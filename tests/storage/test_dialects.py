"""SQLite and PostgreSQL get the same schema, and a bot on SQLite never loads PostgreSQL's
dialect (its package imports all its driver modules: ~2 MiB that SQLite does not need)."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from storage.db import create_engine
from storage.dialects import conflict_insert, partial_indexes_on_postgresql
from storage.migrate import upgrade
from storage.models import Base, FsmRecord


def _partial_indexes() -> dict[str, str]:
    return {
        index.name: str(index.dialect_options["sqlite"]["where"])
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.name and index.dialect_options["sqlite"]["where"] is not None
    }


def test_every_partial_index_is_partial_on_postgresql_too() -> None:
    partial = _partial_indexes()
    assert "uq_cancellation_requests_active_order" in partial
    partial_indexes_on_postgresql(Base.metadata)
    partial_indexes_on_postgresql(Base.metadata)  # a second engine: the same outcome
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name in partial:
                ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
                assert ddl.endswith(f"WHERE {partial[index.name]}"), ddl


def test_the_conflict_insert_is_the_databases_own() -> None:
    on_sqlite = conflict_insert("sqlite", FsmRecord).on_conflict_do_nothing()
    on_postgresql = conflict_insert("postgresql", FsmRecord).on_conflict_do_nothing()
    assert "ON CONFLICT DO NOTHING" in str(on_sqlite.compile(dialect=sqlite.dialect()))
    assert "ON CONFLICT DO NOTHING" in str(on_postgresql.compile(dialect=postgresql.dialect()))
    assert isinstance(on_postgresql, postgresql.Insert)


@pytest.mark.slow
async def test_a_bot_on_sqlite_does_not_import_postgresqls_dialect(tmp_path: Path) -> None:
    """The bot's modules and its dispatcher answering an update, on a database migrated
    beforehand (migrating loads Alembic, whose scripts name PostgreSQL's options), in a
    fresh interpreter: this one has loaded the dialect for the tests above."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    script = (
        "import asyncio, sys\n"
        "from bench.settings import bench_settings\n"
        "from bench.session import MemorySession\n"
        "from bench.updates import text_update\n"
        "from bot.wiring import build_bot, build_deps, build_dispatcher\n"
        "from storage.migrate import upgrade\n"
        "async def main():\n"
        "    deps = build_deps(bench_settings(sys.argv[1], None))\n"
        "    await upgrade(deps.engine)\n"
        "    bot = build_bot(deps.settings, session=MemorySession())\n"
        "    update = text_update(1_000_001, '/cancel_order')\n"
        "    await build_dispatcher(deps).feed_update(bot, update)\n"
        "    await deps.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))\n"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, url, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=300)
    assert child.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip().splitlines()[-1] == "[]"
