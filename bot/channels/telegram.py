"""Serving Telegram: long polling or a webhook, in one process with the HTTP API.

`BotServer.start()` brings everything up, `stop()` takes it down gracefully:
no new updates are taken, the ones being handled finish (up to a grace period),
the overdue watchdog ends its sweep, the outbox notifier finishes its sends in
flight, then the HTTP server and the Bot session close.

Updates reach the dispatcher through `bot.channels.updates.UpdateRunner`: recorded in
the update inbox before they are acknowledged, replayed if a worker dies or the
database is down. Several such servers (`cancelbot run --workers N`, or N processes
behind a reverse proxy) share one webhook on PostgreSQL and Redis; `worker_index`
is this one's number among workers sharing a port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiohttp import web

from bot.api.app import build_web_app
from bot.channels.background import BackgroundJobs
from bot.channels.flood import FloodNotices
from bot.channels.inbox import worker_name
from bot.channels.updates import UpdateRunner
from bot.services.domain.locales import LOCALES
from bot.wiring import AppDeps, build_dispatcher, build_flood_guard, build_inbox, instrument_bot

log = logging.getLogger(__name__)

COMMANDS = ("start", "status", "language", "cancel", "help")
SHUTDOWN_GRACE_SECONDS = 20.0


class BotServer:
    def __init__(self, deps: AppDeps, bot: Bot, *, worker_index: int | None = None) -> None:
        self.deps = deps
        self.bot = bot
        instrument_bot(deps, bot)
        self.worker_index = worker_index
        self.inbox = build_inbox(deps)
        self.dispatcher: Dispatcher = build_dispatcher(deps, self.inbox)
        self.flood = build_flood_guard(deps, bot.id)
        notices = FloodNotices(deps.uow, deps.clock, deps.outbox_signal)
        self.runner = UpdateRunner(
            self.dispatcher, bot, self.inbox, self.flood, notices, deps.renderer
        )
        self.web_app = build_web_app(deps)
        self._runner: web.AppRunner | None = None
        self._polling: asyncio.Task[None] | None = None
        self._replaying: asyncio.Task[None] | None = None
        settings = deps.settings
        # With several workers, only worker 0 runs them (bot.channels.background).
        background = settings.background_jobs and not worker_index
        self.jobs = BackgroundJobs(deps, bot) if background else None
        self.notifier = self.jobs.notifier if self.jobs else None
        self.watchdog = self.jobs.watchdog if self.jobs else None
        self.agent_desk = self.jobs.agent_desk if self.jobs else None
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            self.web_app.router.add_post(
                settings.webhook_path, self.runner.webhook_handler(secret), name="telegram_webhook"
            )

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def port(self) -> int:
        """The HTTP port actually bound (API_PORT=0 picks a free one)."""
        assert self._runner is not None, "start() first"
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        raise RuntimeError("HTTP server is not listening")

    @property
    def primary(self) -> bool:
        """The worker that registers the webhook and the command menu (the only one, or 0)."""
        return not self.worker_index

    async def start(self) -> None:
        settings = self.deps.settings
        self._runner = web.AppRunner(self.web_app, handle_signals=False, access_log=None)
        await self._runner.setup()
        # Workers sharing a port: the kernel spreads connections among them.
        reuse = True if self.worker_index is not None else None
        await web.TCPSite(
            self._runner, settings.api_host, settings.api_port, reuse_port=reuse
        ).start()
        self.inbox.owner = worker_name(settings.worker_name, self.port, self.worker_index)
        log.info(
            "HTTP API listening on %s:%s (worker %s)",
            settings.api_host,
            self.port,
            self.inbox.owner,
        )
        if self.primary:
            await self._publish_commands()
        if self.jobs is not None:
            # Before updates: escalations need the agents' group's verdict (issue 9).
            await self.jobs.agent_desk.check()
        allowed = self.dispatcher.resolve_used_update_types()
        if settings.webhook_url:
            if self.primary:
                url = settings.webhook_url + settings.webhook_path
                await self.bot.set_webhook(
                    url,
                    secret_token=(
                        settings.webhook_secret.get_secret_value()
                        if settings.webhook_secret
                        else None
                    ),
                    allowed_updates=allowed,
                )
                log.info("webhook set to %s", url)
        else:
            # getUpdates fails with 409 while a webhook is set; keep pending updates.
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._polling = asyncio.create_task(self.runner.poll(allowed), name="polling")
        self._replaying = asyncio.create_task(self.runner.replay_forever(), name="inbox")
        if self.jobs is not None:
            self.jobs.start()

    async def stop(self) -> None:
        self.runner.close()  # the webhook answers 503: Telegram or the proxy retries
        if self._polling is not None and not self._polling.done():
            self._polling.cancel()  # a long poll; what it was recording finishes (shielded)
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            await self.runner.accepted()
        if self._replaying is not None:
            try:
                await self._replaying  # returns between transactions, never cut in one
            except Exception as error:
                log.warning("the inbox's sweeps had stopped (%s)", type(error).__name__)
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                await self.runner.wait_idle()
                await self.deps.in_flight.wait_idle()
        except TimeoutError:
            log.warning(
                "stopping with %d updates still queued; the inbox replays them",
                self.runner.queued,
            )
        # Transcript lines and inbox marks of the last updates: written, not replayed.
        await self.deps.group_commit.close()
        if self.jobs is not None:
            await self.jobs.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.flood.close()
        await self.bot.session.close()

    async def run_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT, or until polling fails for good."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
        except BaseException:
            await self.stop()  # what did start (the HTTP server, the session) closes again
            raise
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        if self._polling is not None:
            waiters.append(self._polling)
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            log.info("shutting down")
        finally:
            await self.stop()
            waiters[0].cancel()
        for task in done:
            with contextlib.suppress(asyncio.CancelledError):
                task.result()  # re-raise a polling failure

    async def _publish_commands(self) -> None:
        """The command menu next to the text box, in each language."""
        renderer = self.deps.renderer
        for locale in LOCALES:
            commands = [
                BotCommand(command=name, description=renderer.macro(locale, "plain/commands", name))
                for name in COMMANDS
            ]
            language = None if locale == renderer.default_locale else locale
            await self.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=language
            )
