"""The bot's settings for a benchmark: a fixed token and quiet logs.

A module of its own so that a measured child process (`bench.process`) imports only
what the bot itself would, not the harness around it.
"""

from __future__ import annotations

from bot.config import Settings

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"


def bench_settings(database_url: str, schema: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        database_url=database_url,
        database_schema=schema,
        log_level="WARNING",
    )
