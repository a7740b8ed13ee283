"""Shared fixtures: settings, a fixed clock and a migrated database per test.

Tests run on a SQLite file by default. With TEST_DATABASE_URL pointing at
PostgreSQL (as `.ci/run` does for the storage tests), each test gets its own
schema there, dropped afterwards; TEST_REDIS_URL likewise switches FSM storage.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.demo_data import seed_demo
from bot.services.domain.clock import FixedClock
from storage.migrate import upgrade

if TYPE_CHECKING:
    from bot.wiring import AppDeps

TEST_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and collection built lives to the end: out of the collector's way,
    a full collection walks only what the tests themselves create (gen-2 passes over the
    imported modules cost ~0.3 s each in a test worker)."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[str, str | None]]:
    """(database_url, schema) for one test, on SQLite or on TEST_DATABASE_URL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    async with admin.begin() as connection:
        await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield url, schema
    finally:
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


def sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None


@pytest.fixture
def settings(database: tuple[str, str | None]) -> Settings:
    url, schema = database
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TEST_TOKEN,
        database_url=url,
        database_schema=schema,
        redis_url=os.environ.get("TEST_REDIS_URL") or None,
        link_secret="test-link-secret-of-32-bytes-long",
        bot_username="cancel_test_bot",
        api_host="127.0.0.1",
        api_port=0,
        default_locale="en",
        log_format="text",
        webhook_url=None,
        # Simulated people tap faster than anyone can; tests/e2e/test_flood.py runs the
        # flood guard with its production defaults.
        flood_burst=1000,
    )


class SqliteTemplates:
    """Migrated (and demo-seeded, with or without the demo history) SQLite files made
    once per test process and copied for each test: migrating a fresh file costs ~0.3 s,
    copying one a few milliseconds."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[str, Path] = {}
        self.copies: set[Path] = set()
        """The files made by copying a template (migrated to head when copied)."""

    def copy_to(self, target: Path, *, seeded_at: datetime | None, history: bool = False) -> None:
        """Copy a migrated file to `target`: with the demo shop as seeded at `seeded_at`,
        and with its past conversations too if `history` (seeding those costs ~1-4 s)."""
        key = "migrated" if seeded_at is None else f"demo-{seeded_at.timestamp():.0f}"
        key += "-history" if history else ""
        template = self._made.get(key)
        if template is None:
            template = self.folder / f"{key}.db"
            _in_a_thread(_make_template(template, seeded_at, history=history))
            self._made[key] = template
        shutil.copyfile(template, target)
        self.copies.add(target)


async def _make_template(path: Path, seeded_at: datetime | None, *, history: bool) -> None:
    from bot.demo_data import seed_demo_history
    from bot.wiring import build_deps  # see `deps`

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TEST_TOKEN,
        database_url=f"sqlite+aiosqlite:///{path}",
        link_secret="test-link-secret-of-32-bytes-long",
    )
    deps = build_deps(settings, clock=FixedClock(seeded_at or NOW))
    try:
        await upgrade(deps.engine)
        if seeded_at is not None:
            await seed_demo(deps.session_factory, deps.clock)
        if history:
            assert seeded_at is not None, "the history is of the demo shop's orders"
            assert await seed_demo_history(deps.session_factory, deps.clock) > 20
    finally:
        await deps.close()  # the last connection's close folds the WAL into the file


def _in_a_thread(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` on its own event loop: a fixture may be set up while a test's loop runs."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work)
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def demo_copy(settings: Settings, clock: FixedClock, sqlite_templates: SqliteTemplates) -> bool:
    """On SQLite, the test's database starts as a copy of a migrated one with the demo shop
    in it (requested before `deps`, see tests/e2e/conftest.py's `shop`). True if so."""
    file = sqlite_file(settings.database_url)
    if file is None or file.exists():
        return False
    sqlite_templates.copy_to(file, seeded_at=clock.now())
    return True


@pytest.fixture
async def deps(
    settings: Settings, clock: FixedClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[AppDeps]:
    """The application's dependencies on a freshly migrated database."""
    # Imported here, not at the top: this file is also loaded by pytest-xdist's controller,
    # which runs no test, and the wiring imports aiogram, whose types take ~10 s to build
    # on a slow 2-core machine, before any worker starts.
    from bot.wiring import build_deps

    file = sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        sqlite_templates.copy_to(file, seeded_at=None)
    deps = build_deps(settings, clock=clock)
    if file is None or file not in sqlite_templates.copies:
        await upgrade(deps.engine)  # a template's copy is migrated already
    if settings.redis_url:
        await deps.fsm_storage.redis.flushdb()  # type: ignore[attr-defined]
    try:
        yield deps
    finally:
        await deps.close()
