"""The jobs that run beside the conversations: the outbox notifier, the overdue watchdog,
the agents' desk (the group's check and re-announcing untaken cases) and, when
MERCHANT_WEBHOOK_URL is set, the merchant's webhook sender (its own task and claims, so
a merchant endpoint that is down never holds back a customer's message).

`cancelbot run` runs them in its process (with `--workers N`, in worker 0 only);
`cancelbot worker` runs only them, for deployments that serve Telegram from several
`cancelbot run` processes with BACKGROUND_JOBS=false. Running them in more than one
process is safe, not wasteful-free: notifiers claim messages with leases (`FOR UPDATE
SKIP LOCKED` on PostgreSQL) and the watchdog's escalations are unique rows, but each
notifier sends up to NOTIFIER_RATE_PER_SECOND, so the rates add up; webhook senders
claim events with leases too.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram import Bot

from bot.wiring import (
    AppDeps,
    build_agent_desk,
    build_notifier,
    build_watchdog,
    build_webhook_sender,
)

log = logging.getLogger(__name__)


class BackgroundJobs:
    def __init__(self, deps: AppDeps, bot: Bot) -> None:
        self.notifier = build_notifier(deps, bot)
        self.watchdog = build_watchdog(deps)
        self.agent_desk = build_agent_desk(deps, bot)
        self.webhook = build_webhook_sender(deps)
        self._notifying: asyncio.Task[None] | None = None
        self._posting: asyncio.Task[None] | None = None
        self._watching: asyncio.Task[None] | None = None
        self._desk: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._notifying = asyncio.create_task(self.notifier.run(), name="notifier")
        self._watching = asyncio.create_task(self.watchdog.run(), name="watchdog")
        self._desk = asyncio.create_task(self.agent_desk.run(), name="agent-desk")
        if self.webhook is not None:
            self._posting = asyncio.create_task(self.webhook.run(), name="merchant-webhook")

    async def stop(self) -> None:
        """The watchdog stops queueing first; then the notifier finishes its sends in flight
        and hands untried messages back."""
        if self._desk is not None:
            await self.agent_desk.stop()
            await self._desk
            self._desk = None
        if self._watching is not None:
            await self.watchdog.stop()
            await self._watching
            self._watching = None
        if self._notifying is not None:
            await self.notifier.stop()
            await self._notifying
            self._notifying = None
        if self._posting is not None and self.webhook is not None:
            await self.webhook.stop()
            await self._posting
            self._posting = None


async def run_background_jobs(deps: AppDeps, bot: Bot) -> None:
    """`cancelbot worker`: the jobs alone, until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    jobs = BackgroundJobs(deps, bot)
    await jobs.agent_desk.check()
    jobs.start()
    log.info(
        "outbox notifier, overdue watchdog, agents' desk%s running",
        "" if jobs.webhook is None else " and merchant webhook",
    )
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await jobs.stop()
        await bot.session.close()
