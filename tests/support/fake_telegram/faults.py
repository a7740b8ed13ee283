"""Fault injection (scripted errors, blocked users' 403s live in World) and rate limits."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, default_description, too_many_requests

SEND_METHODS = frozenset(
    {"sendmessage", "copymessage", "copymessages", "sendphoto", "forwardmessage"}
)
# In a group every one of these counts against its ~20 a minute, not only new messages.
GROUP_METHODS = SEND_METHODS | frozenset(
    {
        "createforumtopic",
        "editforumtopic",
        "closeforumtopic",
        "reopenforumtopic",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)


@dataclass
class _Fault:
    method: str
    error: ApiError
    remaining: int
    chat_id: int | str | None


@dataclass
class Hold:
    """A call the fake does not answer until `release()`: the bot waits on it mid-handler,
    which is where a test kills a bot process (`FakeTelegram.hold_next`)."""

    method: str
    chat_id: int | str | None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class FaultPlan:
    """Errors scripted by the test, consumed in order by matching calls."""

    faults: list[_Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    def take_hold(self, method: str, params: dict[str, Any]) -> Hold | None:
        """The hold waiting for this call, if any (each holds one call)."""
        for hold in self.holds:
            if hold.method == method.lower() and hold.chat_id in (None, params.get("chat_id")):
                self.holds.remove(hold)
                return hold
        return None

    def add(
        self,
        method: str,
        error: ApiError,
        *,
        times: int,
        chat_id: int | str | None = None,
    ) -> None:
        self.faults.append(_Fault(method.lower(), error, times, chat_id))

    def take(self, method: str, params: dict[str, Any]) -> ApiError | None:
        """The error for this call, if one is scripted; uses up one of its `times`."""
        for fault in self.faults:
            if fault.method != method.lower():
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            return fault.error
        return None


def scripted_error(
    error_code: int,
    description: str | None,
    *,
    retry_after: int | None = None,
    migrate_to_chat_id: int | None = None,
) -> ApiError:
    """An error answer as Telegram words it; the description defaults from the code."""
    if error_code == 429 and retry_after is not None and description is None:
        return too_many_requests(retry_after)
    parameters: dict[str, Any] = {}
    if retry_after is not None:
        parameters["retry_after"] = retry_after
    if migrate_to_chat_id is not None:
        parameters["migrate_to_chat_id"] = migrate_to_chat_id
    return ApiError(error_code, description or default_description(error_code), parameters)


@dataclass(frozen=True)
class RateLimits:
    """Telegram's flood limits for sending messages, enforced when passed to FakeTelegram.

    Windows slide over fake time; only successful sends count. `None` disables a limit.
    """

    global_per_second: int | None = 30
    per_chat_per_second: int | None = 1
    per_group_per_minute: int | None = 20


@dataclass
class _Window:
    limit: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def wait_needed(self, now: float) -> float:
        """Seconds until one more event fits in the window (0 if it fits now)."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.seconds - now


@dataclass
class RateLimiter:
    """Sliding-window counters per bot, per chat and per group."""

    limits: RateLimits
    _global: _Window | None = None
    _chats: dict[int, _Window] = field(default_factory=dict)
    _groups: dict[int, _Window] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.limits.global_per_second:
            self._global = _Window(self.limits.global_per_second, 1.0)

    def check(self, method: str, chat_id: Any, now: float) -> None:
        """Raise 429 with retry_after if sending now would exceed a limit."""
        if not _counted(method, chat_id):
            return
        wait = max((w.wait_needed(now) for w in self._windows(chat_id)), default=0.0)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))

    def count(self, method: str, chat_id: Any, now: float, messages: int = 1) -> None:
        """Record a successful send (`messages` of them for copyMessages)."""
        if _counted(method, chat_id):
            for window in self._windows(chat_id):
                window.times.extend([now] * messages)

    def _windows(self, chat_id: Any) -> list[_Window]:
        windows = [self._global] if self._global else []
        if not isinstance(chat_id, int):
            return windows
        if self.limits.per_chat_per_second:
            windows.append(
                self._chats.setdefault(chat_id, _Window(self.limits.per_chat_per_second, 1.0))
            )
        if chat_id < 0 and self.limits.per_group_per_minute:
            windows.append(
                self._groups.setdefault(chat_id, _Window(self.limits.per_group_per_minute, 60.0))
            )
        return windows


def _counted(method: str, chat_id: Any) -> bool:
    name = method.lower()
    is_group = isinstance(chat_id, int) and chat_id < 0
    return name in (GROUP_METHODS if is_group else SEND_METHODS)
