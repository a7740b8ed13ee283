"""Webhook delivery: POST each pending update, one at a time and in order, like Telegram.

A non-2xx answer is retried a few times with a short delay (Telegram keeps retrying with
growing delays for hours; a test only needs to see the retries and the recorded error).
A 2xx answer whose body names a method (aiogram's `handle_in_background=False` replies)
is executed as an API call, as telegram-bot-api does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .clock import FakeClock
from .recording import CallLog
from .records import WebhookDelivery
from .updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ReplyHandler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class WebhookConfig:
    """What setWebhook stored, plus the last delivery error getWebhookInfo reports."""

    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the fake tries before giving up on one update."""

    attempts: int = 3
    retry_delay: float = 0.05
    request_timeout: float = 10.0


class Webhook:
    """The webhook configuration and the background task delivering to it."""

    def __init__(
        self,
        updates: UpdateQueue,
        clock: FakeClock,
        log: CallLog,
        policy: DeliveryPolicy,
        on_reply: ReplyHandler,
    ) -> None:
        self.updates = updates
        self.clock = clock
        self.log = log
        self.policy = policy
        self.on_reply = on_reply
        self.config: WebhookConfig | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.abandoned: list[dict[str, Any]] = []
        """Updates dropped after `policy.attempts` failed deliveries."""
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        return self.config is not None

    async def set(self, config: WebhookConfig) -> None:
        """Point delivery at a new URL (restarting the loop)."""
        await self._stop_loop()
        self.config = config
        self._task = asyncio.create_task(self._deliver_forever(), name="fake-telegram-webhook")

    async def delete(self) -> None:
        """Stop delivering; pending updates stay queued for getUpdates."""
        await self._stop_loop()
        self.config = None

    def info(self) -> dict[str, Any]:
        """getWebhookInfo's result."""
        info: dict[str, Any] = {
            "url": self.config.url if self.config else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates.pending),
        }
        if self.config:
            info["max_connections"] = self.config.max_connections
            if self.config.last_error_date:
                info["last_error_date"] = self.config.last_error_date
                info["last_error_message"] = self.config.last_error_message
        if self.updates.allowed_list:
            info["allowed_updates"] = self.updates.allowed_list
        return info

    async def post(
        self, update: dict[str, Any], url: str, secret: str | None, *, manual: bool
    ) -> tuple[int | None, dict[str, Any] | None]:
        """POST one update as Telegram does; record the attempt; return (status, reply call)."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        status: int | None = None
        reply: dict[str, Any] | None = None
        error: str | None = None
        try:
            async with self._client().post(url, json=update, headers=headers) as response:
                status = response.status
                if 200 <= status <= 299:
                    reply = await _reply_call(response)
                else:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {type(exc).__name__}: {exc}"
        self.deliveries.append(
            WebhookDelivery(
                update_id=update.get("update_id"),
                url=url,
                status=status,
                secret_sent=secret,
                at=self.clock.now(),
                manual=manual,
                error=error,
            )
        )
        if error and not manual and self.config:
            self.config.last_error_date = int(self.clock.now())
            self.config.last_error_message = error
        self.log.touch()
        return status, reply

    async def close(self) -> None:
        """Stop the loop and close the HTTP client."""
        await self._stop_loop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        while self.config is not None:
            update = await self.updates.next_for_webhook()
            if update is None:
                return
            await self._deliver(update, self.config)

    async def _deliver(self, update: dict[str, Any], config: WebhookConfig) -> None:
        for attempt in range(1, self.policy.attempts + 1):
            status, reply = await self.post(update, config.url, config.secret_token, manual=False)
            if status is not None and 200 <= status <= 299:
                self.updates.delivered(update["update_id"])
                if reply is not None:
                    await self.on_reply(reply)
                return
            if attempt < self.policy.attempts:
                await asyncio.sleep(self.policy.retry_delay * attempt)
        self.updates.delivered(update["update_id"])
        self.abandoned.append(update)

    async def _stop_loop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.policy.request_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session


async def _reply_call(response: aiohttp.ClientResponse) -> dict[str, Any] | None:
    """The API call a bot made in its webhook answer, if any (JSON or multipart form)."""
    if response.content_type == "application/json":
        body = await response.json(content_type=None)
        return body if isinstance(body, dict) and body.get("method") else None
    if response.content_type != "multipart/form-data":
        return None
    fields: dict[str, Any] = {}
    reader = aiohttp.MultipartReader.from_response(response)
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            fields[part.name] = await part.text()
    return fields if fields.get("method") else None


def is_reply_method_allowed(method: str) -> bool:
    """telegram-bot-api ignores getters and webhook/lifecycle methods in webhook replies."""
    lowered = method.lower()
    banned = {"deletewebhook", "setwebhook", "close", "logout"}
    return bool(lowered) and lowered not in banned and not lowered.startswith("get")
