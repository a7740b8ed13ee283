"""FakeTelegram: a Bot API server on 127.0.0.1 for end-to-end tests of a real aiogram bot.

    async with FakeTelegram() as fake:
        ann = fake.user(1001, first_name="Ann")
        bot = fake.bot()                      # or Bot(token, session=AiohttpSession(api=...))
        ...                                   # start polling / a webhook app
        await ann.send("/start")
        reply = await ann.next_message()

Answers are shaped exactly like Telegram's (`{"ok": false, "error_code": ..., "description":
..., "parameters": ...}` with the same HTTP status), so aiogram raises the exceptions it
would raise in production. Waiting helpers take a `timeout` argument on purpose
(`noqa: ASYNC109`): it keeps test steps on one line.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiogram import Bot
from aiohttp import web

from .backend import Backend
from .changes import Changes
from .client import LoopbackSession
from .clock import FakeClock, VirtualTime
from .endpoint import IMPLEMENTED, ApiEndpoint
from .faults import FaultPlan, Hold, RateLimiter, RateLimits, scripted_error
from .people import FakeAgent, FakeGroup, FakeUser
from .recording import CallLog, explained_timeout
from .records import ApiCall, SentMessage, UserState, WebhookDelivery
from .updates import UpdateQueue
from .webhook import DeliveryPolicy, Webhook
from .world import World

T = TypeVar("T")
DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
DEFAULT_AGENT_GROUP = -1001234567890


class _Configured(enum.Enum):
    SECRET = enum.auto()


CONFIGURED_SECRET = _Configured.SECRET
"""`post_update_to_webhook(secret=...)` default: send the secret given to setWebhook."""


class FakeTelegram:
    """The fake Bot API server, its state, people factories, fault injection and waiting."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        rate_limits: RateLimits | None = None,
        strict_html: bool = True,
        bot_username: str = "cancel_test_bot",
        bot_first_name: str = "Cancel Test Bot",
        webhook_policy: DeliveryPolicy | None = None,
        rate_clock: VirtualTime | None = None,
    ) -> None:
        if not TOKEN_PATTERN.match(token):
            raise ValueError(f"not a Telegram-shaped bot token: {token!r}")
        self.token = token
        self.clock = FakeClock()
        changes = Changes()
        self.log = CallLog(changes)
        bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        updates = UpdateQueue(changes=changes)
        webhook = Webhook(
            updates, self.clock, self.log, webhook_policy or DeliveryPolicy(), self._webhook_reply
        )
        self.backend = Backend(
            World(bot_user, self.clock), updates, webhook, self.clock, self.log, strict_html
        )
        self._faults = FaultPlan()
        limiter = RateLimiter(rate_limits) if rate_limits else None
        # Rate windows slide on `rate_clock` when given (shared with the bot's limiter).
        self._endpoint = ApiEndpoint(
            token, self.backend, self._faults, limiter, rate_clock.now if rate_clock else None
        )
        self._people: dict[int, FakeUser] = {}
        self._holds: list[Hold] = []
        self._groups: dict[int, FakeGroup] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Release long polls and held calls, stop webhook delivery, stop the server."""
        for hold in self._holds:
            hold.release()
        self.backend.updates.close()
        await self.backend.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """E.g. http://127.0.0.1:54321, for TelegramAPIServer.from_base()."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started; use `async with FakeTelegram()`")
        return f"http://127.0.0.1:{self._port}"

    def session(self) -> LoopbackSession:
        """A fresh aiogram session pointed at this fake."""
        return LoopbackSession(self.base_url)

    def bot(self, **kwargs: Any) -> Bot:
        """A real aiogram Bot talking to this fake (close it: `await bot.session.close()`)."""
        return Bot(self.token, session=self.session(), **kwargs)

    # -- people --------------------------------------------------------------------------------

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.backend.world.bot_user

    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        language_code: str | None = "en",
        phone: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """A new person who can chat with the bot in private."""
        person = self._register(user_id, first_name, language_code, phone, username, last_name)
        fake_user = FakeUser(self.backend, person)
        self._people[user_id] = fake_user
        return fake_user

    def group(
        self,
        chat_id: int = DEFAULT_AGENT_GROUP,
        title: str = "Support agents",
        is_forum: bool = True,
        *,
        bot_admin: bool = True,
        can_manage_topics: bool = True,
    ) -> FakeGroup:
        """A supergroup the bot administers (a forum unless is_forum=False), by default
        allowed to manage its topics."""
        if chat_id >= 0 or chat_id in self.backend.world.chats:
            raise ValueError(f"group id must be new and negative, got {chat_id}")
        chat = self.backend.world.add_group(chat_id, title, is_forum=is_forum)
        if bot_admin:
            chat.bot_rights = {
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_pin_messages": True,
                "can_manage_topics": can_manage_topics,
            }
        group = FakeGroup(self.backend, chat)
        self._groups[chat_id] = group
        return group

    def agent(
        self,
        user_id: int,
        first_name: str = "Alex",
        *,
        group: FakeGroup | int | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        phone: str | None = None,
    ) -> FakeAgent:
        """A member of `group` (default: the only group) who can post in its topics."""
        chosen = self._pick_group(group)
        person = self._register(user_id, first_name, language_code, phone, username, None)
        chosen.chat.members.add(user_id)
        agent = FakeAgent(self.backend, person, chosen)
        self._people[user_id] = agent
        return agent

    def person(self, user_id: int) -> FakeUser:
        """The FakeUser/FakeAgent created for `user_id`."""
        return self._people[user_id]

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403 "bot was blocked by the user"."""
        self.person(user_id).block_bot()

    def unblock(self, user_id: int) -> None:
        self.person(user_id).unblock_bot()

    def _register(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        phone: str | None,
        username: str | None,
        last_name: str | None,
    ) -> UserState:
        if user_id <= 0 or user_id in self.backend.world.chats:
            raise ValueError(f"user id must be new and positive, got {user_id}")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value})
        return self.backend.world.add_user(user, phone)

    def _pick_group(self, group: FakeGroup | int | None) -> FakeGroup:
        if isinstance(group, FakeGroup):
            return group
        if group is not None:
            return self._groups[group]
        if len(self._groups) != 1:
            raise ValueError("create exactly one group first, or pass group=")
        return next(iter(self._groups.values()))

    # -- fault injection -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error.

        The description defaults to Telegram's wording for the code; with error_code=429 and
        retry_after it is "Too Many Requests: retry after N".
        """
        error = scripted_error(
            error_code, description, retry_after=retry_after, migrate_to_chat_id=migrate_to_chat_id
        )
        self._faults.add(method, error, times=times, chat_id=chat_id)

    def hold_next(self, method: str, *, chat_id: int | None = None) -> Hold:
        """Do not answer the next call of `method` (to `chat_id`, if given) until the test
        calls `release()` on the returned hold; `await hold.arrived.wait()` sees it come.
        A bot process killed meanwhile never gets the answer. Closing the fake releases it.
        """
        hold = Hold(method.lower(), chat_id)
        self._faults.holds.append(hold)
        self._holds.append(hold)
        return hold

    def server_errors(self, method: str, times: int = 1, *, status: int = 500) -> None:
        """Telegram-side failures (500, or 502 from its gateway) -> TelegramServerError."""
        self.fail_next(method, error_code=status, times=times)

    # -- recording ----------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        return self.log.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (any case)."""
        wanted = method.lower()
        return [call for call in self.log.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (also later deleted ones), in order; one chat or all."""
        sent = self.backend.world.sent_log
        return [m for m in sent if chat_id is None or m.chat_id == chat_id]

    @property
    def too_many_requests(self) -> int:
        """How many 429 answers were given; assert 0 to prove the bot stayed under limits."""
        return self.log.too_many_requests

    @property
    def unimplemented_calls(self) -> list[ApiCall]:
        """Calls of real Bot API methods this fake does not simulate."""
        return [call for call in self.log.calls if call.method.lower() not in IMPLEMENTED]

    @property
    def long_poll_waiting(self) -> bool:
        """A getUpdates long poll is parked on the server right now."""
        return self.backend.updates.long_poll_waiting

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.backend.updates.pending)

    @property
    def dropped_updates(self) -> list[dict[str, Any]]:
        """Updates never queued because allowed_updates excluded their type."""
        return list(self.backend.updates.dropped)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self.backend.webhook.deliveries

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (re-checked after every change) and return it.

        On timeout, AssertionError shows the recent API calls.
        """
        problem = f"condition not met within {timeout}s; recent API calls:"
        async with explained_timeout(timeout, lambda: f"{problem}\n{self.log.dump()}"):
            return await self.log.wait_until(predicate)

    # -- webhook helpers -------------------------------------------------------------------------

    def make_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An update with a fresh update_id that is not queued (for manual webhook posts)."""
        return self.backend.updates.make(kind, payload)

    async def post_update_to_webhook(
        self,
        update: dict[str, Any],
        secret: str | _Configured | None = CONFIGURED_SECRET,
        url: str | None = None,
    ) -> int | None:
        """POST `update` to the webhook yourself, e.g. with a wrong (or None: no) secret.

        Returns the HTTP status (None if the connection failed); recorded as manual delivery.
        """
        config = self.backend.webhook.config
        target = url or (config.url if config else None)
        if target is None:
            raise AssertionError("no webhook is set; pass url=")
        if isinstance(secret, _Configured):
            secret = config.secret_token if config else None
        status, _ = await self.backend.webhook.post(update, target, secret, manual=True)
        return status

    async def _webhook_reply(self, fields: dict[str, Any]) -> None:
        await self._endpoint.webhook_reply(fields)
