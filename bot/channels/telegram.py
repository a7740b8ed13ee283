"""Serving Telegram: long polling or a webhook, in one process with the HTTP API.

`BotServer.start()` brings everything up, `stop()` takes it down gracefully:
no new updates are taken, the ones being handled finish (up to a grace period),
the overdue watchdog ends its sweep, the outbox notifier finishes its sends in
flight, then the HTTP server and the Bot session close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.api.app import build_web_app
from bot.services.locales import LOCALES
from bot.wiring import (
    AppDeps,
    build_agent_desk,
    build_dispatcher,
    build_notifier,
    build_watchdog,
    instrument_bot,
)

log = logging.getLogger(__name__)

COMMANDS = ("start", "status", "language", "cancel", "help")
SHUTDOWN_GRACE_SECONDS = 20.0


class BotServer:
    def __init__(self, deps: AppDeps, bot: Bot) -> None:
        self.deps = deps
        self.bot = bot
        instrument_bot(deps, bot)
        self.dispatcher: Dispatcher = build_dispatcher(deps)
        self.web_app = build_web_app(deps)
        self._runner: web.AppRunner | None = None
        self._polling: asyncio.Task[None] | None = None
        self.notifier = build_notifier(deps, bot)
        self._notifying: asyncio.Task[None] | None = None
        self.watchdog = build_watchdog(deps)
        self._watching: asyncio.Task[None] | None = None
        self.agent_desk = build_agent_desk(deps, bot)  # the agents' group (issue 9)
        self._desk: asyncio.Task[None] | None = None
        settings = deps.settings
        if settings.webhook_url:
            # Answer Telegram only once the update is handled: if the process dies
            # half-way, Telegram delivers the update again instead of losing it.
            SimpleRequestHandler(
                dispatcher=self.dispatcher,
                bot=bot,
                handle_in_background=False,
                secret_token=(
                    settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                ),
            ).register(self.web_app, path=settings.webhook_path)

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

    async def start(self) -> None:
        settings = self.deps.settings
        self._runner = web.AppRunner(self.web_app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, settings.api_host, settings.api_port).start()
        log.info("HTTP API listening on %s:%s", settings.api_host, self.port)
        await self._publish_commands()
        await self.agent_desk.check()  # before updates: escalations need its verdict
        allowed = self.dispatcher.resolve_used_update_types()
        if settings.webhook_url:
            url = settings.webhook_url + settings.webhook_path
            await self.bot.set_webhook(
                url,
                secret_token=(
                    settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                ),
                allowed_updates=allowed,
            )
            log.info("webhook set to %s", url)
        else:
            # getUpdates fails with 409 while a webhook is set; keep pending updates.
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._polling = asyncio.create_task(
                self.dispatcher.start_polling(
                    self.bot, handle_signals=False, close_bot_session=False, allowed_updates=allowed
                )
            )
        self._notifying = asyncio.create_task(self.notifier.run(), name="notifier")
        self._watching = asyncio.create_task(self.watchdog.run(), name="watchdog")
        self._desk = asyncio.create_task(self.agent_desk.run(), name="agent-desk")

    async def stop(self) -> None:
        if self._polling is not None and not self._polling.done():
            await self.dispatcher.stop_polling()
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                await self.deps.in_flight.wait_idle()
        except TimeoutError:
            log.warning("stopping with %d updates still in flight", self.deps.in_flight.count)
        if self._desk is not None:
            await self.agent_desk.stop()
            await self._desk
            self._desk = None
        if self._watching is not None:
            await self.watchdog.stop()  # stop queueing before the notifier stops sending
            await self._watching
            self._watching = None
        if self._notifying is not None:
            await self.notifier.stop()  # sends in flight finish, untried rows are handed back
            await self._notifying
            self._notifying = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
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
