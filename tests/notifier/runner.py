"""One notifier process, for the multi-process and kill -9 tests.

    python -m tests.notifier.runner

Settings come from the environment as in production (DATABASE_URL, DATABASE_SCHEMA,
TELEGRAM_API_BASE, BOT_TOKEN, NOTIFIER_*). It runs the notifier built by wiring, on
this folder's templates, until no outbox row is pending: its own or anyone else's,
so it also takes over the leases of a notifier that died.
"""

from __future__ import annotations

import asyncio

from bot.config import Settings
from bot.logs import configure_logging
from bot.wiring import AppDeps, build_bot, build_deps
from tests.notifier.support import make_notifier


async def pending(deps: AppDeps) -> int:
    async with deps.uow() as uow:
        return await uow.outbox.count_pending()


async def deliver_until_empty() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    configure_logging(settings.log_format, settings.log_level)
    deps = build_deps(settings)
    bot = build_bot(settings)
    notifier = make_notifier(deps, bot, settings)
    running = asyncio.create_task(notifier.run())
    try:
        while not running.done() and await pending(deps):
            await asyncio.wait([running], timeout=settings.notifier_poll_seconds)
    finally:
        await notifier.stop()
        await running
        await bot.session.close()
        await deps.close()


if __name__ == "__main__":
    asyncio.run(deliver_until_empty())
