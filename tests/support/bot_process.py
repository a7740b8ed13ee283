"""`cancelbot run` as a real process, for tests that kill it, restart it or run several.

Output goes to a file (a pipe nobody reads would fill up and stall the bot); `log()`
reads it. `kill()` is SIGKILL: no handler runs, nothing is flushed or finished.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp

from tests.conftest import TEST_TOKEN


def bot_env(**settings: str) -> dict[str, str]:
    """This environment without the bot's own settings, plus `settings`."""
    own = ("DATABASE_", "REDIS_", "WEBHOOK_", "API_", "BOT_", "TELEGRAM_", "WORKER_", "INBOX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return {"BOT_TOKEN": TEST_TOKEN, "LOG_FORMAT": "json", **env, **settings}


@dataclass
class BotProcess:
    args: tuple[str, ...]
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    async def start(self) -> BotProcess:
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *self.args,
            env=self.env, cwd=self.log_path.parent, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        return self

    async def healthy(self, port: int, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Wait until /healthz answers 200 (the process is up and serving)."""
        async with asyncio.timeout(timeout), aiohttp.ClientSession() as http:
            while True:
                assert self.process is not None
                assert self.process.returncode is None, self.log()
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self._close_log()

    async def stop(self, timeout: float = 60) -> int:  # noqa: ASYNC109
        """SIGTERM, and wait for a graceful exit; returns the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        self._close_log()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
