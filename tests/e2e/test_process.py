"""`cancelbot run` as a real process: it serves, answers health checks and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import TEST_TOKEN
from tests.e2e.conftest import free_port
from tests.support.fake_telegram import FakeTelegram


@pytest.mark.slow  # a whole process of its own
async def test_run_polls_serves_health_and_stops_gracefully_on_sigterm(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "REDIS_"))},
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": fake.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake.wait_for(lambda: fake.long_poll_waiting, timeout=60)
        person = fake.user(7001, "Ann")
        await person.send("/start")
        await person.expect("let me find your account")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
            assert (await response.json())["database"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert '"logger": "bot.updates"' in log
    assert "outcome=handled" in log
    assert TEST_TOKEN.split(":")[1] not in log
