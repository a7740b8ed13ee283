"""Engine and session factory for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_only

from storage.dialects import partial_indexes_on_postgresql
from storage.models import Base
from storage.sqlite_driver import one_hop_dbapi
from storage.text_safety import strip_nul_characters
from storage.write_gate import DatabaseCounters, Flush, WriteGate

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option for sessions that never write: on SQLite they take no write lock.
READ_ONLY = "cancelbot_read_only"
# Execution option of an update's session (storage.uow.UpdateUnitOfWork): it reads without
# a transaction and opens its one write transaction at its first write.
UPDATE_SCOPE = "cancelbot_update_scope"
_WRITING = "cancelbot_writing"  # connection.info: this transaction has written
_GATED = "cancelbot_gated"  # connection.info: it holds its place in the WriteGate
_READS = ("SELECT", "WITH", "PRAGMA")

# Keyed by pool: an engine with execution options (an update's) shares its parent's pool.
_gates: WeakKeyDictionary[Pool, WriteGate] = WeakKeyDictionary()
_counters: WeakKeyDictionary[Pool, DatabaseCounters] = WeakKeyDictionary()


def write_gate(engine: AsyncEngine | Engine) -> WriteGate | None:
    """The FIFO queue of this process's writers (SQLite only; None on PostgreSQL)."""
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    return _gates.get(sync.pool)


_UPDATE_ENGINE = "_cancelbot_update_engine"


def update_scope_engine(engine: AsyncEngine) -> AsyncEngine:
    """`engine` as an update's session uses it (UPDATE_SCOPE): same pool, lazy writes.

    Kept on the engine itself, not in a weak-keyed map: the scoped engine refers to its
    parent, so a map's value would keep its own key, and every engine, alive.
    """
    sync = engine.sync_engine
    scoped: AsyncEngine | None = sync.__dict__.get(_UPDATE_ENGINE)
    if scoped is None:
        scoped = engine.execution_options(**{UPDATE_SCOPE: True})
        setattr(sync, _UPDATE_ENGINE, scoped)
    return scoped


def counters(engine: AsyncEngine | Engine) -> DatabaseCounters:
    """Transactions and write locks the engine took so far (the benchmark reads them)."""
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    return _counters.setdefault(sync.pool, DatabaseCounters())


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
    if url.startswith("sqlite+aiosqlite"):
        # One call on aiosqlite's thread per statement instead of four (storage.sqlite_driver).
        kwargs.setdefault("module", one_hop_dbapi())
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    else:
        partial_indexes_on_postgresql(Base.metadata)
        _count_transactions(engine)
    strip_nul_characters(engine)
    return engine


def _count_transactions(engine: AsyncEngine) -> None:
    """PostgreSQL: count transactions, and note when an update's transaction wrote.

    On asyncpg an update's session also reads outside any transaction, as on SQLite: its
    connection is in autocommit until its first write, locking read (FOR UPDATE / FOR
    SHARE) or `begin_writing`, which opens its one transaction. Under READ COMMITTED,
    PostgreSQL's default, each statement reads its own snapshot inside a transaction or
    not, so such a read sees what it would have seen inside one; an update that only
    reads (/help, unknown text, /status) is spared the BEGIN and COMMIT round trips.
    """
    tally = counters(engine)
    lazy = engine.dialect.driver == "asyncpg"  # its adapter begins at the first statement

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        driver_connection = connection.connection.dbapi_connection
        update_scope = connection.get_execution_options().get(UPDATE_SCOPE)
        if lazy and update_scope and driver_connection is not None:
            # Counted when _start_writing opens the transaction, if it ever does.
            driver_connection.autocommit = True
            return
        tally.transactions += 1

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_statement(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not connection.get_execution_options().get(UPDATE_SCOPE):
            return
        if connection.info.get(_WRITING) or (_is_read(statement) and not _locks(statement)):
            return
        _start_writing(connection)

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection: Connection) -> None:
        connection.info.pop(_WRITING, None)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_WRITING, None)
        if lazy and dbapi_connection is not None:
            dbapi_connection.autocommit = False  # whoever checks it out next begins as usual


def _locks(statement: str) -> bool:
    """A SELECT whose row locks only a transaction holds (PostgreSQL puts them last)."""
    tail = statement[-80:]
    return " FOR UPDATE" in tail or " FOR SHARE" in tail or " FOR NO KEY UPDATE" in tail


def _start_writing(connection: Connection) -> None:
    """PostgreSQL: an update's transaction starts here (its next statement sends BEGIN)."""
    driver_connection = connection.connection.dbapi_connection
    if driver_connection is not None and driver_connection.autocommit:
        driver_connection.autocommit = False
        counters(connection.engine).transactions += 1
    connection.info[_WRITING] = True


def _is_read(statement: str) -> bool:
    return statement.lstrip()[:6].upper().startswith(_READS)


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

    gate = _gates.setdefault(engine.sync_engine.pool, WriteGate(counters(engine)))
    tally = gate.counters

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" when another writer got there first; the busy timeout
        # does not apply to that upgrade. Taking the write lock up front makes
        # concurrent writers queue instead, which is what exactly-once needs.
        # Work that only reads says so (READ_ONLY) and takes no lock at all.
        # An update's session (UPDATE_SCOPE) begins nothing here: its reads run on
        # their own, and its first write takes the lock (_on_statement).
        options = connection.get_execution_options()
        if options.get(UPDATE_SCOPE):
            return
        tally.transactions += 1
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            _queue(connection, gate, None)
            tally.write_locks += 1
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_statement(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not connection.get_execution_options().get(UPDATE_SCOPE):
            return
        if connection.info.get(_WRITING) or _is_read(statement):
            return
        # The update's first write (or savepoint): queue for the write lock, then take it.
        # Reads before it took no lock; they saw committed data, and this chat's own
        # rows cannot have changed since (its updates run one at a time).
        _take_write_lock(connection, gate)

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection: Connection) -> None:
        connection.info.pop(_WRITING, None)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool: its transaction is over (committed, or rolled back on return).
        record.info.pop(_WRITING, None)
        if record.info.pop(_GATED, False):
            gate.release()


def _take_write_lock(connection: Connection, gate: WriteGate) -> None:
    """Open an update's write transaction on SQLite: its turn in the gate, then
    `BEGIN IMMEDIATE` on the driver's connection (SQLAlchemy's own transaction is
    already under way, lazily, see _on_begin)."""
    if connection.info.get(_WRITING):
        return
    from storage.uow import current_update  # the update being handled, if any

    scope = current_update()
    _queue(connection, gate, scope.commit if scope is not None else None)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
    finally:
        cursor.close()
    gate.counters.transactions += 1
    gate.counters.write_locks += 1
    gate.counters.raw_statements += 1
    connection.info[_WRITING] = True


async def begin_writing(session: AsyncSession) -> None:
    """Within an update, start its write transaction now (on SQLite, queue for the write
    lock): a block that reads, then writes what it read, must not read outside it."""
    connection = await session.connection()
    gate = write_gate(connection.engine)
    if gate is not None:
        await connection.run_sync(_take_write_lock, gate)
    else:
        await connection.run_sync(_start_writing)


def _queue(connection: Connection, gate: WriteGate, flush: Flush | None) -> None:
    """Wait in the gate's queue before taking SQLite's write lock; it is released when
    the connection goes back to the pool, after its commit or rollback."""
    try:
        queued = await_only(gate.acquire(flush))
    except MissingGreenlet:  # a synchronous engine (never the bot's): the busy handler
        return
    if queued:
        connection.info[_GATED] = True


def has_written(connection: Connection) -> bool:
    """Whether an update's transaction on this connection has written yet."""
    return bool(connection.info.get(_WRITING))


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
