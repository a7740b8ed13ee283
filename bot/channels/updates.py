"""From Telegram to the dispatcher: polling, the webhook and the inbox's replays.

Every update takes one path: recorded in the inbox (`UpdateInbox.record`) before it is
acknowledged, past the flood guard, through the dispatcher, and marked or handed back.

- Polling moves the offset only after the batch is recorded: if the database is down,
  the next getUpdates asks for the same updates again.
- The webhook answers 200 once the update is recorded (503 if it cannot be, so Telegram
  retries), then handles it: a slow handler never makes Telegram time out and redeliver.
- Replays: every few seconds each worker renews the leases of what it is handling and
  takes updates whose lease ran out (a worker died, an outage), oldest first.

Within a worker, one chat's updates are handled in the order they arrived (a queue
per chat, dropped once empty); across workers the per-chat lock keeps them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiohttp import web
from pydantic import ValidationError

from bot.channels.flood import FloodGuard, FloodNotices, Verdict
from bot.channels.inbox import (
    DROPPED,
    FAILED,
    HANDLED,
    Delivery,
    UpdateInbox,
    bind_delivery,
    chat_of,
)
from bot.services.domain.locales import locale_from_language_code
from bot.texts import Renderer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
RETRY = BackoffConfig(min_delay=1.0, max_delay=15.0, factor=1.5, jitter=0.1)
PURGE_EVERY = 3600.0  # seconds
REPLAY_BATCH = 100
DROP_BATCH = 100
MAX_QUEUED = 1000
"""Replays are not taken while this many updates are already queued here."""


class UpdateRunner:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        inbox: UpdateInbox,
        flood: FloodGuard,
        notices: FloodNotices,
        renderer: Renderer,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._inbox = inbox
        self._flood = flood
        self._notices = notices
        self._renderer = renderer
        self._queues: dict[int | str, deque[tuple[Update, int, bool]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = asyncio.Event()
        self._accepting: asyncio.Future[None] | None = None

    @property
    def closing(self) -> bool:
        """Stopping: the webhook answers 503, nothing is replayed any more."""
        return self._closed.is_set()

    def close(self) -> None:
        """Stop taking updates in; `replay_forever` returns after the sweep under way."""
        self._closed.set()

    async def accepted(self) -> None:
        """Wait for the batch a cancelled `poll` was still recording (see `poll`)."""
        if self._accepting is not None:
            with contextlib.suppress(Exception):  # poll logged it; Telegram resends it
                await self._accepting

    # -- taking updates in ---------------------------------------------------------------------

    async def accept(self, updates: Sequence[Update]) -> None:
        """Record, then queue for handling; raises (and acknowledges nothing) if recording
        failed."""
        for update in await self._inbox.record(updates):
            self._enqueue(update, attempts=0)

    async def poll(self, allowed_updates: list[str]) -> None:
        """Long polling until cancelled; the offset moves only past recorded updates."""
        offset: int | None = None
        backoff = Backoff(RETRY)
        request_timeout = int((self._bot.session.timeout or 60) + POLL_TIMEOUT)
        while True:
            method = GetUpdates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=allowed_updates
            )
            try:
                updates = await self._bot(method, request_timeout=request_timeout)
            except TelegramUnauthorizedError:
                raise
            except (TelegramAPIError, OSError) as error:
                log.error("getUpdates failed (%s: %s); retrying", type(error).__name__, error)
                await backoff.asleep()
                continue
            if updates:
                try:
                    # Shielded: a stop arriving meanwhile must not cut a transaction in two
                    # (on SQLite, a connection abandoned mid-transaction keeps the write lock).
                    self._accepting = asyncio.ensure_future(self.accept(updates))
                    await asyncio.shield(self._accepting)
                except Exception as error:
                    log.error(
                        "cannot record %d updates (%s: %s); Telegram keeps them, retrying",
                        len(updates),
                        type(error).__name__,
                        str(error).splitlines()[0] if str(error) else "",
                    )
                    await backoff.asleep()
                    continue
                offset = updates[-1].update_id + 1
            backoff.reset()

    def webhook_handler(
        self, secret: str | None
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The aiohttp handler for WEBHOOK_PATH."""

        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if secret is not None and not secrets.compare_digest(given, secret):
                return web.Response(status=401)
            if self.closing:
                return web.Response(status=503)  # Telegram retries, another worker takes it
            try:
                update = Update.model_validate(await request.json(), context={"bot": self._bot})
            except (ValueError, ValidationError):
                return web.Response(status=400)
            try:
                await self.accept([update])
            except Exception as error:
                log.error(
                    "cannot record update %s (%s); answering 503 so that Telegram retries",
                    update.update_id,
                    type(error).__name__,
                )
                return web.Response(status=503)
            return web.json_response({})

        return receive

    async def replay_forever(self) -> None:
        """Renew this worker's leases and take over unfinished updates, until `close()`
        (never cancelled midway: it ends after the sweep under way, between transactions)."""
        await self._inbox.take_back_own()
        interval = self._inbox.lease.total_seconds() / 3
        since_purge = PURGE_EVERY
        while not self.closing:
            try:
                await self._inbox.renew()
                if not self.closing and self.queued < MAX_QUEUED:
                    await self.replay_due()
                if since_purge >= PURGE_EVERY:
                    await self._inbox.purge()
                    since_purge = 0.0
            except Exception as error:
                log.warning("inbox sweep failed (%s); trying again", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._closed.wait()
            since_purge += interval

    async def replay_due(self) -> int:
        claimed = await self._inbox.claim_due(REPLAY_BATCH)
        for payload, attempts in claimed:
            update = Update.model_validate(payload, context={"bot": self._bot})
            log.info("replaying update %s (attempt %d)", update.update_id, attempts + 1)
            self._enqueue(update, attempts, replay=True)
        return len(claimed)

    # -- handling ------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return sum(len(queue) for queue in self._queues.values()) + len(self._queues)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def _enqueue(self, update: Update, attempts: int, *, replay: bool = False) -> None:
        key: int | str = chat_of(update) or f"update:{update.update_id}"
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._spawn(self._drain(key, queue))
        queue.append((update, attempts, replay))

    async def _drain(self, key: int | str, queue: deque[tuple[Update, int, bool]]) -> None:
        dropped: list[int] = []  # marked together: a flood costs a write per hundred
        try:
            while queue:
                update, attempts, replay = queue.popleft()
                delivery = await self._deliver(update, attempts, replay=replay)
                if delivery.dropped:
                    dropped.append(delivery.update_id)
                    if len(dropped) < DROP_BATCH and queue:
                        continue
                    await self._mark_dropped(dropped)
                    dropped = []
                else:
                    await self._settle(delivery)
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]
            for update, _, _ in queue:  # cancelled: their leases run out, they are replayed
                self._inbox.forget(update.update_id)
            for update_id in dropped:
                self._inbox.forget(update_id)

    async def _deliver(self, update: Update, attempts: int, *, replay: bool) -> Delivery:
        delivery = Delivery(update.update_id, attempts)
        bind_delivery(delivery)
        try:
            # A replay passed the flood guard when it first arrived.
            if not replay and await self._flooding(update):
                delivery.dropped = True
            else:
                await self._dispatcher.feed_update(self._bot, update)
        except Exception:
            log.exception("update %s could not be handled", update.update_id)
        return delivery

    async def _mark_dropped(self, update_ids: list[int]) -> None:
        try:
            await self._inbox.mark(update_ids, DROPPED)
        except Exception as error:
            log.warning("inbox: %d dropped updates not marked (%s)", len(update_ids), error)
            for update_id in update_ids:
                self._inbox.forget(update_id)

    async def _settle(self, delivery: Delivery) -> None:
        """Write how the update ended, unless its handler's middleware already did."""
        if delivery.marked:
            return
        outcome = HANDLED if delivery.completed else FAILED
        try:
            if delivery.retry:
                await self._inbox.release(delivery)
            else:
                await self._inbox.mark([delivery.update_id], outcome)
        except Exception as error:
            log.warning(
                "inbox: outcome of update %s not saved (%s); it will be replayed",
                delivery.update_id,
                type(error).__name__,
            )
            self._inbox.forget(delivery.update_id)

    async def _flooding(self, update: Update) -> bool:
        """Ask the flood guard about a person's private update; True when it is dropped."""
        context = UserContextMiddleware.resolve_event_context(update)
        chat, user = context.chat, context.user
        if user is None or chat is None or chat.type != ChatType.PRIVATE:
            return False
        verdict = await self._flood.check(user.id)
        if verdict is Verdict.ADMIT:
            return False
        if verdict is Verdict.DROP_AND_NOTIFY:
            log.info("flood from user %s: dropping updates until it stops", user.id)
            locale = locale_from_language_code(user.language_code, self._renderer.default_locale)
            try:
                # Through the outbox: sent once, within the chat's one message a second,
                # after the replies already on their way.
                await self._notices.queue(chat.id, locale)
            except Exception as error:
                log.warning("flood notice for %s not queued (%s)", chat.id, type(error).__name__)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramAPIError):
                await self._bot.answer_callback_query(update.callback_query.id)  # the spinner
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("update queue failed", exc_info=task.exception())
