"""Shared fixtures: settings, a fixed clock and a migrated database per test.

Tests run on a SQLite file by default. With TEST_DATABASE_URL pointing at
PostgreSQL (as `.ci/run` does for the storage tests), each test gets its own
schema there, dropped afterwards; TEST_REDIS_URL likewise switches FSM storage.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.services.clock import FixedClock
from bot.wiring import AppDeps, build_deps
from storage.migrate import upgrade

TEST_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


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


@pytest.fixture
async def deps(settings: Settings, clock: FixedClock) -> AsyncIterator[AppDeps]:
    """The application's dependencies on a freshly migrated database."""
    deps = build_deps(settings, clock=clock)
    await upgrade(deps.engine)
    if settings.redis_url:
        await deps.fsm_storage.redis.flushdb()  # type: ignore[attr-defined]
    try:
        yield deps
    finally:
        await deps.close()
