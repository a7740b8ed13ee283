"""Engine and session factory for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.text_safety import strip_nul_characters

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option for sessions that never write: on SQLite they take no write lock.
READ_ONLY = "cancelbot_read_only"
# `Session.info` key: True when MERCHANT_WEBHOOK_URL is set, so units of work queue
# webhook events (storage.repositories.webhooks). Set once on the factory, it holds for
# every unit of work the process opens, whoever opens it.
WEBHOOK_EVENTS = "cancelbot_webhook_events"


def create_engine(url: str, *, schema: str | None = None, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; on SQLite also set WAL, a busy timeout and foreign keys.

    `schema` (PostgreSQL only) puts every table in that schema via the search path,
    so several deployments, or test runs, can share one database.
    """
    if schema is not None:
        if not url.startswith("postgresql"):
            raise ValueError("a database schema can only be chosen on PostgreSQL")
        kwargs.setdefault("connect_args", {})["server_settings"] = {"search_path": schema}
    # Customer text and phone numbers stay out of exception messages (storage.text_safety).
    kwargs.setdefault("hide_parameters", True)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    strip_nul_characters(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" when another writer got there first; the busy timeout
        # does not apply to that upgrade. Taking the write lock up front makes
        # concurrent writers queue instead, which is what exactly-once needs.
        # Work that only reads says so (READ_ONLY) and takes no lock at all.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(
    engine: AsyncEngine, *, webhook_events: bool = False
) -> async_sessionmaker[AsyncSession]:
    """`webhook_events`: queue events for the merchant's webhook (MERCHANT_WEBHOOK_URL set)."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=True, info={WEBHOOK_EVENTS: webhook_events}
    )


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query (used by /healthz)."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
