"""The database or Redis failing: one clear line at start; while running, a short apology
and the update replayed from the inbox once the database is back."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.channels.outages import is_outage
from bot.channels.telegram import BotServer
from bot.texts import Renderer
from bot.wiring import AppDeps
from tests.conftest import TEST_TOKEN
from tests.e2e.conftest import StartBot
from tests.support.fake_telegram import FakeTelegram

RENDERER = Renderer()


class DatabaseOutage:
    """Every statement fails as if the server were gone, except the inbox's own: the update
    was recorded before the outage began."""

    def __init__(self, deps: AppDeps) -> None:
        self.down = False
        event.listen(deps.engine.sync_engine, "before_cursor_execute", self._check)

    def _check(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        touches_data = (
            statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))
        )
        if self.down and touches_data and "update_inbox" not in statement:
            raise OperationalError(statement, None, ConnectionRefusedError("connection refused"))


@pytest.fixture
async def bot(start_bot: StartBot) -> BotServer:
    return await start_bot(inbox_lease_seconds=3)  # the sweep looks every second


@pytest.fixture
def outage(bot: BotServer) -> DatabaseOutage:
    return DatabaseOutage(bot.deps)


async def test_an_update_caught_by_an_outage_is_apologised_for_then_answered(
    fake: FakeTelegram, bot: BotServer, outage: DatabaseOutage
) -> None:
    person = fake.user(7401, "Ann")
    await person.send("/start")
    await person.expect("let me find your account")
    await bot.runner.wait_idle()  # /start's own work is done before the outage begins
    outage.down = True
    await person.send("/help")
    await person.expect(RENDERER.render("en", "errors/outage"))
    outage.down = False
    await person.expect("What I can do", timeout=15)
    await bot.runner.wait_idle()
    await bot.deps.group_commit.flush()  # the marks of updates with nothing else to commit
    async with bot.deps.uow() as uow:
        inbox = [await uow.inbox.get(update_id) for update_id in (100_000_001, 100_000_002)]
    assert [(row.outcome, row.attempts) for row in inbox if row] == [("handled", 0), ("handled", 1)]
    texts = [m.text for m in fake.sent_messages(chat_id=person.chat_id)]
    assert texts.count(RENDERER.render("en", "errors/outage")) == 1
    assert sum("What I can do" in text for text in texts) == 1


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (OperationalError("SELECT 1", None, ConnectionRefusedError()), True),
        (RedisConnectionError("Error 111 connecting"), True),
        (ConnectionResetError(), True),
        (IntegrityError("INSERT", None, Exception("unique")), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_an_outage(error: BaseException, outage: bool) -> None:
    assert is_outage(error) is outage


async def run_cli(tmp_path: Path, **env: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE": "http://127.0.0.1:9",
            **env,
        },
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.slow  # a whole process of its own
async def test_a_database_that_does_not_answer_at_start_is_one_clear_line(
    tmp_path: Path,
) -> None:
    code, err = await run_cli(tmp_path, DATABASE_URL="postgresql://bot:s3cret@127.0.0.1:9/shop")
    assert code == 1
    assert err.splitlines() == [
        "database unavailable (postgresql+asyncpg://bot:***@127.0.0.1:9/shop): "
        "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 9)"
    ]


@pytest.mark.slow  # a whole process of its own
async def test_redis_that_does_not_answer_at_start_is_one_clear_line(tmp_path: Path) -> None:
    code, err = await run_cli(
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        REDIS_URL="redis://:s3cret@127.0.0.1:9/0",
    )
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith("redis unavailable (redis://:***@127.0.0.1:9/0): ConnectionError: ")
