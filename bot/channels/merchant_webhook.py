"""The merchant's webhook sender: POSTs the events the services staged to MERCHANT_WEBHOOK_URL.

Events (`webhook_events` rows, bot.services.merchant.webhook_events) are written in the
transaction of their change; this loop claims due ones, POSTs each signed like the
merchant's own requests to us (bot.services.merchant.signing, keyed with MERCHANT_API_SECRET,
a fresh timestamp per attempt), and records the outcome, each step in its own short
transaction (none stays open during a POST). It has its own table, claims and task,
so an endpoint that is down never holds back the customers' Telegram messages.

Claiming (storage.repositories.webhooks.WebhookRepository.claim)
    Due = pending, `available_at <= now`, lease free or expired, and the oldest pending
    event of its customer (so one customer's events arrive in order; a failing one holds
    back only that customer's). Claims set `lease_owner` (unique per sender) and
    `lease_until = now + lease`, with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
    senders share the table without sending an event twice; every mark is
    `UPDATE … WHERE id = :id AND lease_owner = :me`. The lease (twice the timeout plus
    30 s) outlasts the POSTs of a batch, which run concurrently, each within the timeout.

Outcomes
    2xx          `delivered`.
    anything     (3xx, 4xx, 5xx, timeouts, refused connections) back to pending after a
    else         backoff: 5 s doubling up to an hour, jittered to between half and all of
                 it (a `Retry-After` the merchant sends is waited at least, up to the cap);
                 after MERCHANT_WEBHOOK_MAX_ATTEMPTS attempts `failed`, with the reason,
                 logged at WARNING and kept for operators.

Delivery guarantee: at least once. An event stays pending until an outcome is recorded,
so a sender killed at any point loses nothing (its leases expire). The merchant may get
an event twice when their 2xx is not recorded (the process died or the database failed
before the mark, the answer was lost to the timeout, or the sender stalled past its
lease); the event's `id` is the same every time, so they deduplicate on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp

from bot.channels.pauses import pause
from bot.config import Settings
from bot.services.domain.clock import Clock
from bot.services.merchant.signing import signed_headers
from bot.services.merchant.webhook_payloads import EVENT_ID_HEADER, EVENT_TYPE_HEADER
from storage.models import WebhookEvent
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

USER_AGENT = "cancelbot-webhook/1"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class WebhookConfig:
    """The MERCHANT_WEBHOOK_* settings, and what follows from them."""

    url: str
    secret: bytes
    timeout: float = 10.0
    max_attempts: int = 24
    poll_seconds: float = 1.0
    batch: int = 8
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig | None:
        """None when MERCHANT_WEBHOOK_URL is unset: no webhook, nothing queued."""
        if settings.merchant_webhook_url is None:
            return None
        assert settings.merchant_api_secret is not None  # Settings insists on it
        return cls(
            url=settings.merchant_webhook_url,
            secret=settings.merchant_api_secret.get_secret_value().encode(),
            timeout=settings.merchant_webhook_timeout_seconds,
            max_attempts=settings.merchant_webhook_max_attempts,
            poll_seconds=settings.notifier_poll_seconds,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=2 * self.timeout + 30)


@dataclass(frozen=True)
class Backoff:
    """Exponential, with jitter between half and all of the step: spread out, yet the
    whole retry span stays predictable (the README quotes it)."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, *, at_least: float = 0.0) -> float:
        step = min(self.cap, self.base * 2 ** (attempt - 1))
        return min(self.cap, max(at_least, self.rng.uniform(step / 2, step)))


@dataclass(frozen=True)
class Attempt:
    """How one POST went: `error` None means delivered."""

    error: str | None = None
    retry_after: float = 0.0


class WebhookSender:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        config: WebhookConfig,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._config = config
        self._backoff = backoff or Backoff(config.backoff_base, config.backoff_cap)
        self._http: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()
        self._batch_lock = asyncio.Lock()
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"

    async def drain(self) -> int:
        """POST everything due now; return how many the merchant accepted."""
        delivered = 0
        while True:
            claimed, accepted = await self._deliver_batch()
            delivered += accepted
            if not claimed:
                return delivered

    async def run(self) -> None:
        """Deliver until stop(), looking for due events every poll interval."""
        log.info("merchant webhook %s: POSTing events to %s", self.owner, self._config.url)
        while not self._stopping.is_set():
            try:
                claimed, _ = await self._deliver_batch()
            except Exception:
                log.exception("merchant webhook batch failed; trying again shortly")
                claimed = 0
            if not claimed:
                await pause(self._stopping, self._config.poll_seconds)
        await self.close()

    async def stop(self) -> None:
        """Let the POSTs in flight finish and be recorded; run() then returns."""
        self._stopping.set()
        async with self._batch_lock:
            pass

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _deliver_batch(self) -> tuple[int, int]:
        """(claimed, delivered) for one batch."""
        async with self._batch_lock:
            if self._stopping.is_set():
                return 0, 0
            rows = await self._claim()
            outcomes = await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows), sum(outcomes)

    async def _claim(self) -> list[WebhookEvent]:
        now = self._clock.now()
        async with self._uow() as uow, uow.transaction():
            return await uow.webhooks.claim(
                owner=self.owner,
                now=now,
                lease_until=now + self._config.lease,
                limit=self._config.batch,
            )

    async def _deliver(self, row: WebhookEvent) -> bool:
        try:
            attempt = await self._post(row)
            return await self._record(row, attempt)
        except Exception:
            log.exception(
                "webhook event %s: outcome not recorded; sent again after its lease", row.event_id
            )
            return False

    async def _post(self, row: WebhookEvent) -> Attempt:
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: row.event_id,
            EVENT_TYPE_HEADER: row.type,
            **signed_headers(self._config.secret, stamp, body),
        }
        try:
            async with self._session().post(
                self._config.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._config.timeout),
            ) as response:
                if 200 <= response.status < 300:
                    return Attempt()
                return Attempt(
                    f"HTTP {response.status} {response.reason or ''}".strip(),
                    _retry_after(response.headers.get("Retry-After")),
                )
        except TimeoutError:
            return Attempt(f"no answer within {self._config.timeout:g} s")
        except aiohttp.ClientError as error:
            return Attempt(f"{type(error).__name__}: {error}")

    async def _record(self, row: WebhookEvent, attempt: Attempt) -> bool:
        now = self._clock.now()
        tries = row.attempts + 1
        async with self._uow() as uow, uow.transaction():
            if attempt.error is None:
                recorded = await uow.webhooks.mark_delivered(row.id, self.owner, at=now)
            elif tries >= self._config.max_attempts:
                error = self._redact(attempt.error)
                recorded = await uow.webhooks.give_up(row.id, self.owner, error=error)
            else:
                delay = self._backoff.delay(tries, at_least=attempt.retry_after)
                recorded = await uow.webhooks.reschedule(
                    row.id,
                    self.owner,
                    available_at=now + timedelta(seconds=delay),
                    error=self._redact(attempt.error),
                )
        if not recorded:
            log.warning("webhook event %s: lease taken over; may arrive twice", row.event_id)
            return False
        if attempt.error is not None:
            log.warning(
                "webhook event %s (%s): attempt %d of %d failed, %s: %s",
                row.event_id,
                row.type,
                tries,
                self._config.max_attempts,
                "gave up" if tries >= self._config.max_attempts else "will retry",
                self._redact(attempt.error),
            )
        return attempt.error is None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    def _redact(self, text: str) -> str:
        """The URL may hold credentials (user:password@, a token in the query)."""
        return text.replace(self._config.url, "<MERCHANT_WEBHOOK_URL>")[:MAX_ERROR_CHARS]


def _retry_after(value: str | None) -> float:
    """Seconds from a `Retry-After` header; an HTTP date or nonsense counts as none."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
