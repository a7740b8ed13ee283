"""The outbox notifier: delivers every message the services owe a customer.

Services write `OutboxMessage` rows in the transaction that made them due; this loop
claims due rows, renders them, sends them and records the outcome, each step in its
own short transaction (none stays open while Telegram is called).

Claiming (storage.repositories.outbox.OutboxRepository.claim)
    A row is due when it is pending, `available_at <= now` and its lease is free or
    expired. A chat is claimed only when its oldest pending row is due, and then as a
    whole (up to a cap), so one notifier owns a chat's queue at a time and its messages
    go in id order; a row waiting for a retry holds back the later ones of its chat.
    On PostgreSQL the chats' head rows are taken with `FOR UPDATE SKIP LOCKED`, so
    several notifiers share the queue; on SQLite run one notifier (every transaction
    is BEGIN IMMEDIATE there, so claims are serialised anyway). Each claim sets
    `lease_owner` (unique per notifier) and `lease_until = now + NOTIFIER_LEASE_SECONDS`;
    every later mark is `UPDATE … WHERE id = :id AND lease_owner = :me`, and a row
    whose lease expired (its notifier died) is claimable again. A settled row keeps
    `lease_owner`: the notifier that settled it.

Coalescing
    Pending rows of one chat with the same non-null `coalesce_key` (e.g. the updates
    of one refund) are coalesced into the newest: when an older one is claimed while
    a newer one is pending, the older is marked `sent` with `sent_at` NULL and
    `last_error = "coalesced into <id of the newer>"`, in the claiming transaction.
    Only the newest is sent, so nothing stays pending forever and nothing disappears
    without a trace.

Outcomes
    sent                 `sent_at`, `telegram_message_id`, and a "notice" line in the
                         chat's latest conversation's transcript, in one transaction.
    429 retry_after      back to pending at `now + retry_after`, that chat's sending
                         paused that long (only that chat: a 429 from the agents'
                         group never holds back customers); not counted as an attempt.
    5xx, network errors, retried with exponential backoff and full jitter; after
    timeouts, other API  NOTIFIER_MAX_ATTEMPTS failed attempts, `failed`.
    errors (401, 404…)
    403                  `unreachable` (blocked, deactivated), `TelegramUser.blocked_at`
                         set; never retried.
    400 and rendering    `failed` at once with the description (bad HTML, chat not
    errors               found, missing template or context): retrying cannot help.
    `attempts` counts failed attempts; `last_error` keeps the latest reason. Given-up
    rows are listed by `OutboxRepository.undelivered()` (for a future `cancelbot`
    command) and logged at WARNING.

Rate limits
    Token buckets (bot.channels.rate_limit): NOTIFIER_RATE_PER_SECOND for the process
    and one message per NOTIFIER_PER_CHAT_INTERVAL_SECONDS per chat, and for a group
    (the agents') AGENT_GROUP_MESSAGES_PER_MINUTE; every request a row makes counts
    (creating a topic, editing the case card, copying a message). Different chats are
    sent concurrently, at most `concurrency` requests at a time. The global rate is per
    process: N notifier processes must each get at most 30/N (25/N leaves the same
    headroom as the default). The per-chat spacing is kept in each process: a chat's
    queue belongs to one notifier at a time and passes to another only once emptied,
    so at worst a message queued at that very moment goes out early, meets a 429,
    and waits as Telegram says.

Kinds of rows
    `OutboxMessage.kind` picks a `Delivery`: `message` (a rendered template, here) for
    customers; the agents' group's kinds (a copy, an edit, the case card, the topic's
    name…) are delivered by bot.channels.handoff_delivery. A delivery may make several
    requests for one row (a topic is created before its first message), each waiting
    its turn through the row's `Gate`.

Leases and batches
    A batch is sized to need a quarter of the lease at the configured rates. Sends start
    only during the first half of the lease, each may take at most a quarter, and what
    is left untried is handed back; so every send has ended, and had a quarter of the
    lease to be recorded, before another notifier could take the row over.

Delivery guarantee: at least once
    A row is created once (its `dedupe_key` is unique) and stays pending until an
    outcome is recorded, so a notifier killed at any point loses nothing: its leases
    expire and another notifier (or the restarted one) sends those rows. A message can
    arrive twice only when Telegram accepted it but the notifier never recorded that:
    the process died (or its database write failed) between Telegram's answer and the
    commit of the "sent" mark; the answer was lost (a timeout or a dropped connection
    after Telegram had taken the request) and the row was retried; or the process
    stalled for longer than its lease and another notifier sent the row again. At most
    `concurrency` rows are between send and mark at any moment, which bounds the
    duplicates a crash can cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import random
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardMarkup
from aiohttp import ClientError

from bot.channels.rate_limit import RateLimiter
from bot.config import Settings
from bot.services.domain.clock import Clock
from bot.services.outbox import OutboxSignal, decode_context
from bot.texts import Renderer, Texts
from storage.enums import DeliveryKind, Direction, OutboxStatus
from storage.models import OutboxMessage
from storage.repositories.outbox import Claim
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")

KeyboardFactory = Callable[[dict[str, Any], Texts], InlineKeyboardMarkup | None]
"""Builds a row's inline keyboard from its `keyboard` JSON (the whole dict, "kind" included)."""
KeyboardRegistry = Mapping[str, KeyboardFactory]
"""Keyboard factories by `keyboard["kind"]`."""

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class NotifierConfig:
    """The NOTIFIER_* settings, and the batch sizes that follow from them."""

    rate_per_second: float = 25.0
    chat_interval: float = 1.0
    max_attempts: int = 8
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    group_per_minute: float = 18.0
    concurrency: int = 16
    """Requests in flight at once: enough for 25/s even at 600 ms a request."""

    @classmethod
    def from_settings(cls, settings: Settings) -> NotifierConfig:
        return cls(
            rate_per_second=settings.notifier_rate_per_second,
            chat_interval=settings.notifier_per_chat_interval_seconds,
            max_attempts=settings.notifier_max_attempts,
            lease_seconds=settings.notifier_lease_seconds,
            poll_seconds=settings.notifier_poll_seconds,
            group_per_minute=settings.agent_group_messages_per_minute,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def send_window(self) -> float:
        """Seconds after a claim during which sends may start."""
        return self.lease_seconds / 2

    @property
    def send_timeout(self) -> float:
        return self.lease_seconds / 4

    @property
    def batch_rows(self) -> int:
        return max(1, int(self.rate_per_second * self.lease_seconds / 4))

    @property
    def rows_per_chat(self) -> int:
        return max(1, int(self.lease_seconds / (4 * self.chat_interval)))

    @property
    def rows_per_group(self) -> int:
        """What a group's budget can send in one send window."""
        return max(1, int(self.send_window * self.group_per_minute / 60))


class Lane(StrEnum):
    """Customers and groups are claimed and sent separately: a group's slow budget (a
    message every few seconds) must not hold a batch, and with it every customer's
    messages, for the whole send window."""

    PEOPLE = "people"  # private chats: positive ids
    GROUPS = "groups"  # groups and supergroups: negative ids


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: a uniform delay in [0, min(cap, base·2^(n-1))]."""

    base: float = 2.0
    cap: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap, self.base * 2 ** (attempt - 1)))


class FailureKind(StrEnum):
    RETRY_AFTER = "retry_after"
    TRANSIENT = "transient"
    UNREACHABLE = "unreachable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    reason: str
    retry_after: float = 0.0
    error: BaseException | None = None
    """Set when the traceback is worth logging (rendering errors, unexpected exceptions)."""


def classify(error: Exception) -> Failure:
    """What a failed send means for its row."""
    reason = _describe(error)
    if isinstance(error, TelegramRetryAfter):
        return Failure(FailureKind.RETRY_AFTER, reason, retry_after=float(error.retry_after))
    if isinstance(error, TelegramForbiddenError):
        return Failure(FailureKind.UNREACHABLE, reason)
    if isinstance(error, TelegramBadRequest | TelegramMigrateToChat | TelegramEntityTooLarge):
        return Failure(FailureKind.PERMANENT, reason)
    # 5xx, network errors (aiogram wraps aiohttp's and its timeouts), our own send
    # timeout, undecodable answers and the rarer API errors: worth another try.
    if isinstance(
        error, TelegramAPIError | ClientDecodeError | ClientError | TimeoutError | OSError
    ):
        return Failure(FailureKind.TRANSIENT, reason)
    return Failure(FailureKind.PERMANENT, f"unexpected {reason}", error=error)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    UNTRIED = "untried"
    """Not sent: the lease's send window closed or stop() came first; handed back."""
    LOST = "lost"
    """The outcome could not be recorded (lease taken over, or a database error)."""


_CHAT_GOES_ON = frozenset({Outcome.SENT, Outcome.FAILED, Outcome.UNREACHABLE})


@dataclass
class BatchReport:
    claimed: int = 0
    coalesced: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    untried: list[int] = field(default_factory=list)

    def hand_back(self, rows: list[OutboxMessage]) -> None:
        self.untried.extend(row.id for row in rows)
        self.outcomes[Outcome.UNTRIED] += len(rows)

    @property
    def sent(self) -> int:
        return self.outcomes[Outcome.SENT]

    @property
    def progressed(self) -> bool:
        """Something changed in the outbox, so more may be due now."""
        return self.coalesced > 0 or self.outcomes.total() > self.outcomes[Outcome.UNTRIED]


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None


@dataclass(frozen=True)
class Delivered:
    """A row's delivery succeeded (or had nothing left to do: `message_id` None)."""

    message_id: int | None
    text: str | None = None
    """What the chat's transcript records of it (customer chats only)."""
    kind: str = "notice"
    buttons: list[str] | None = None
    record: Callable[[UnitOfWork], Awaitable[None]] | None = None
    """Writes that belong with the "sent" mark, in its transaction."""


class WindowClosed(Exception):
    """The lease's send window closed (or stop() came) before the row's turn: hand it back."""


class Delivery(Protocol):
    """How the rows of one `DeliveryKind` reach Telegram."""

    async def deliver(self, row: OutboxMessage, gate: Gate) -> Delivered | Failure: ...

    async def settled(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        """The row was given up on (in the transaction recording it); a delivery may react."""


class Gate:
    """The way out for one row: every request waits for its chat's turn and the bot's.

    A 429 pauses only this row's chat. Requests that fail come back as a `Failure`.
    """

    def __init__(self, notifier: Notifier, chat_id: int, window_ends: float) -> None:
        self._notifier = notifier
        self.chat_id = chat_id
        self._window_ends = window_ends

    async def call(self, method: TelegramMethod[T]) -> T | Failure:
        """Send `method` in turn; raises WindowClosed when the send window closes first."""
        notifier = self._notifier
        limiter = notifier._limiter
        if not await notifier._wait_turn(limiter.chat_turn(self.chat_id), self._window_ends):
            raise WindowClosed
        async with notifier._slots:
            if not await notifier._wait_turn(limiter.global_turn(), self._window_ends):
                raise WindowClosed
            try:
                async with asyncio.timeout(notifier._config.send_timeout):
                    return await notifier.bot(method)
            except Exception as error:
                failure = classify(error)
                if failure.kind is FailureKind.RETRY_AFTER:
                    limiter.pause_chat(self.chat_id, failure.retry_after)
                return failure
            finally:
                limiter.chat_done(self.chat_id)


class MessageDelivery:
    """A rendered template with its inline keyboard, by sendMessage."""

    def __init__(self, renderer: Renderer, keyboards: KeyboardRegistry) -> None:
        self._renderer = renderer
        self._keyboards = keyboards

    async def deliver(self, row: OutboxMessage, gate: Gate) -> Delivered | Failure:
        return await self.send(row, gate, thread_id=None)

    async def send(
        self, row: OutboxMessage, gate: Gate, *, thread_id: int | None
    ) -> Delivered | Failure:
        """Also for the agents' group, into a topic (`thread_id`)."""
        rendered = self.render(row)
        if isinstance(rendered, Failure):
            return rendered
        sent = await gate.call(
            SendMessage(
                chat_id=row.chat_id,
                text=rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
                message_thread_id=thread_id,
            )
        )
        if isinstance(sent, Failure):
            return sent
        buttons = None
        if rendered.markup:
            buttons = [b.text for line in rendered.markup.inline_keyboard for b in line]
        return Delivered(sent.message_id, rendered.text, buttons=buttons)

    async def settled(self, uow: UnitOfWork, row: OutboxMessage, outcome: Outcome) -> None:
        return None

    def render(self, row: OutboxMessage) -> Rendered | Failure:
        texts = self._renderer.for_locale(row.locale)
        try:
            text = texts(row.template, **decode_context(row.context))
            markup = self._keyboard(row.keyboard, texts)
        except Exception as error:
            return Failure(FailureKind.PERMANENT, f"cannot render: {_describe(error)}", error=error)
        return Rendered(text, markup)

    def _keyboard(self, spec: dict[str, Any] | None, texts: Texts) -> InlineKeyboardMarkup | None:
        if spec is None:
            return None
        factory = self._keyboards.get(str(spec.get("kind")))
        if factory is None:
            raise LookupError(f"no keyboard factory for kind {spec.get('kind')!r}")
        return factory(spec, texts)


class Notifier:
    """Delivers due outbox rows. `run()` until `stop()`, or `drain()` once."""

    def __init__(
        self,
        bot: Bot,
        uow_factory: Callable[[], UnitOfWork],
        renderer: Renderer,
        clock: Clock,
        *,
        keyboards: KeyboardRegistry,
        config: NotifierConfig,
        signal: OutboxSignal | None = None,
        limiter: RateLimiter | None = None,
        backoff: Backoff | None = None,
        deliveries: Mapping[DeliveryKind, Delivery] | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> None:
        self.bot = bot
        self._on_batch = on_batch  # metrics and the readiness heartbeat (bot.telemetry)
        self._uow = uow_factory
        self._clock = clock
        self._config = config
        self._limiter = limiter or RateLimiter(
            config.rate_per_second,
            config.chat_interval,
            group_per_minute=config.group_per_minute,
        )
        messages = MessageDelivery(renderer, keyboards)
        self._deliveries: Mapping[DeliveryKind, Delivery] = {
            DeliveryKind.MESSAGE: messages,
            **(deliveries or {}),
        }
        self._backoff = backoff or Backoff()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._batch_locks = {lane: asyncio.Lock() for lane in Lane}
        self._signal = signal or OutboxSignal()
        self._stopping = asyncio.Event()
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"

    def kick(self) -> None:
        """Outbox rows were just committed: look now rather than at the next poll.

        Code without the notifier at hand rings the `OutboxSignal` it was built with.
        """
        self._signal.kick()

    async def drain(self, lanes: Collection[Lane] = tuple(Lane)) -> int:
        """Deliver everything due now (in `lanes`); return how many Telegram accepted."""
        sent = 0
        while True:
            progressed = False
            for lane in lanes:
                report = await self._deliver_batch(lane)
                sent += report.sent
                progressed = progressed or report.progressed
            if not progressed:
                return sent

    async def run(self) -> None:
        """Deliver until stop(): at once when kicked, otherwise every poll interval."""
        config = self._config
        log.info(
            "notifier %s: %.1f msg/s, a chat every %.1f s, lease %.0f s",
            self.owner,
            config.rate_per_second,
            config.chat_interval,
            config.lease_seconds,
        )
        async with asyncio.TaskGroup() as lanes:
            for lane in Lane:
                lanes.create_task(self._run_lane(lane), name=f"notifier-{lane}")
        log.info("notifier %s stopped", self.owner)

    async def _run_lane(self, lane: Lane) -> None:
        poll = self._config.poll_seconds
        while not self._stopping.is_set():
            try:
                report = await self._deliver_batch(lane)
            except Exception:
                log.exception("notifier %s batch failed; trying again in %.1f s", lane, poll)
                report = BatchReport()
            # Lanes share one signal: the other lane may already have cleared stop()'s kick.
            if not report.progressed and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll):
                        await self._signal.wait()

    async def stop(self) -> None:
        """Let the sends in flight finish and hand back untried rows; run() then returns."""
        self._stopping.set()
        self._signal.kick()
        for lock in self._batch_locks.values():
            async with lock:
                pass

    # -- one batch -------------------------------------------------------------------------

    async def _deliver_batch(self, lane: Lane = Lane.PEOPLE) -> BatchReport:
        async with self._batch_locks[lane]:
            if self._stopping.is_set():
                return BatchReport()
            started = time.monotonic()
            claim = await self._claim(lane)
            report = BatchReport(claimed=len(claim.rows), coalesced=claim.coalesced)
            window_ends = started + self._config.send_window
            async with asyncio.TaskGroup() as group:
                for rows in _by_chat(claim.rows):
                    # A fresh context: an update's transcript buffer (a ContextVar read by
                    # the session middleware) must not collect the notifier's sends.
                    group.create_task(
                        self._deliver_chat(rows, window_ends, report),
                        context=contextvars.Context(),
                    )
            await self._release(report.untried)
            self._limiter.forget_idle()
        if self._on_batch is not None:
            self._on_batch(report)
        if report.claimed or report.coalesced:
            log.info(
                "notifier %s batch: claimed=%d coalesced=%d %s in %.0f ms",
                lane,
                report.claimed,
                report.coalesced,
                " ".join(f"{outcome}={report.outcomes[outcome]}" for outcome in Outcome),
                (time.monotonic() - started) * 1000,
            )
        return report

    async def _claim(self, lane: Lane) -> Claim:
        now = self._clock.now()
        groups = lane is Lane.GROUPS
        async with self._uow() as uow, uow.transaction():
            return await uow.outbox.claim(
                owner=self.owner,
                now=now,
                lease_until=now + self._config.lease,
                max_rows=self._config.batch_rows,
                max_per_chat=self._config.rows_per_group if groups else self._config.rows_per_chat,
                groups=groups,
            )

    async def _release(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        try:
            async with self._uow() as uow, uow.transaction():
                await uow.outbox.release(message_ids, self.owner)
        except Exception:
            log.exception("could not hand back %d rows; their leases will expire", len(message_ids))

    async def _deliver_chat(
        self, rows: list[OutboxMessage], window_ends: float, report: BatchReport
    ) -> None:
        """One chat's rows in order, until one of them goes back to the queue."""
        for index, row in enumerate(rows):
            try:
                outcome = await self._deliver(row, window_ends)
            except Exception:
                log.exception("outbox %d: outcome not recorded; sent again after its lease", row.id)
                outcome = Outcome.LOST
            if outcome is Outcome.UNTRIED:
                report.hand_back(rows[index:])
                return
            report.outcomes[outcome] += 1
            if outcome not in _CHAT_GOES_ON:
                report.hand_back(rows[index + 1 :])
                return

    # -- one message -----------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage, window_ends: float) -> Outcome:
        delivery = self._deliveries.get(row.kind)
        if delivery is None:
            failure = Failure(FailureKind.PERMANENT, f"no delivery for kind {row.kind!r}")
            return await self._record_failure(row, failure, None)
        try:
            result = await delivery.deliver(row, Gate(self, row.chat_id, window_ends))
        except WindowClosed:
            return Outcome.UNTRIED
        if isinstance(result, Failure):
            return await self._record_failure(row, result, delivery)
        return await self._record_sent(row, result)

    async def _wait_turn(self, turn: Coroutine[Any, Any, None], window_ends: float) -> bool:
        """Wait for a rate-limit turn, unless the send window closes or stop() comes first."""
        waiting = asyncio.ensure_future(turn)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait(
                (waiting, stopping),
                timeout=max(0.0, window_ends - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiting.cancel()
            stopping.cancel()
            await asyncio.gather(waiting, stopping, return_exceptions=True)
        return not waiting.cancelled() and not self._stopping.is_set()

    async def _record_sent(self, row: OutboxMessage, delivered: Delivered) -> Outcome:
        now = self._clock.now()
        async with self._uow() as uow, uow.transaction():
            marked = await uow.outbox.mark_sent(
                row.id, self.owner, at=now, telegram_message_id=delivered.message_id
            )
            if marked and delivered.record is not None:
                await delivered.record(uow)
            conversation_id = (
                await uow.conversations.latest_id_for_chat(row.chat_id)
                if marked and delivered.message_id is not None
                else None
            )
            if conversation_id is not None:
                notice = _notice(conversation_id, row, delivered, now)
                await uow.conversations.add_entries([notice])
        if not marked:
            log.warning("outbox %d: sent, but its lease was taken over; may arrive twice", row.id)
            return Outcome.LOST
        return Outcome.SENT

    async def _record_failure(
        self, row: OutboxMessage, failure: Failure, delivery: Delivery | None
    ) -> Outcome:
        now = self._clock.now()
        reason = self._redact(failure.reason)
        outcome = self._verdict(row, failure)
        counted = failure.kind is not FailureKind.RETRY_AFTER
        async with self._uow() as uow, uow.transaction():
            if outcome is Outcome.RETRY:
                delay = self._backoff.delay(row.attempts + 1) if counted else failure.retry_after
                recorded = await uow.outbox.reschedule(
                    row.id,
                    self.owner,
                    available_at=now + timedelta(seconds=delay),
                    error=reason,
                    count_attempt=counted,
                )
            else:
                unreachable = outcome is Outcome.UNREACHABLE
                status = OutboxStatus.UNREACHABLE if unreachable else OutboxStatus.FAILED
                recorded = await uow.outbox.give_up(row.id, self.owner, status=status, error=reason)
                if recorded and unreachable:
                    await self._mark_blocked(uow, row.chat_id, now)
                if recorded and delivery is not None:
                    await delivery.settled(uow, row, outcome)
        if not recorded:
            log.warning("outbox %d: %s, but its lease was taken over", row.id, outcome)
            return Outcome.LOST
        log.warning(
            "outbox %d to chat %d (%s): %s, %d failed attempts: %s",
            row.id,
            row.chat_id,
            row.template,
            "will retry" if outcome is Outcome.RETRY else f"gave up, {outcome}",
            row.attempts + (1 if counted else 0),
            reason,
            exc_info=failure.error,
        )
        return outcome

    def _verdict(self, row: OutboxMessage, failure: Failure) -> Outcome:
        """RETRY, FAILED or UNREACHABLE, by the table in the module docstring."""
        if failure.kind is FailureKind.RETRY_AFTER:
            return Outcome.RETRY
        if failure.kind is FailureKind.TRANSIENT:
            last = row.attempts + 1 >= self._config.max_attempts
            return Outcome.FAILED if last else Outcome.RETRY
        if failure.kind is FailureKind.UNREACHABLE:
            return Outcome.UNREACHABLE
        return Outcome.FAILED

    @staticmethod
    async def _mark_blocked(uow: UnitOfWork, chat_id: int, now: datetime) -> None:
        user = await uow.telegram_users.get(chat_id)  # a private chat's id is its user's id
        if user is not None and user.blocked_at is None:
            user.blocked_at = now

    def _redact(self, text: str) -> str:
        return text.replace(self.bot.token, "<bot token>")[:MAX_ERROR_CHARS]


def _by_chat(rows: list[OutboxMessage]) -> Iterator[list[OutboxMessage]]:
    """Rows grouped by chat, keeping the claim's order."""
    chats: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        chats.setdefault(row.chat_id, []).append(row)
    return iter(chats.values())


def _notice(
    conversation_id: int, row: OutboxMessage, delivered: Delivered, now: datetime
) -> dict[str, Any]:
    """The transcript line of a sent notice (TranscriptEntry columns)."""
    payload: dict[str, Any] = {"outbox_id": row.id}
    if delivered.buttons:
        payload["buttons"] = delivered.buttons
    return {
        "conversation_id": conversation_id,
        "direction": Direction.OUT,
        "kind": delivered.kind,
        "text": delivered.text,
        "telegram_message_id": delivered.message_id,
        "payload": payload,
        "created_at": now,
    }


def _describe(error: BaseException) -> str:
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
