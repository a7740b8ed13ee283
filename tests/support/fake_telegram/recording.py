"""The call log, and waiting on it: every API call and simulated action wakes the waiters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from .changes import Changes
from .records import ApiCall

T = TypeVar("T")
DUMP_CALLS = 20


class CallLog:
    """Every API call in order, plus "something happened" notifications for waiters."""

    def __init__(self, changes: Changes | None = None) -> None:
        self.calls: list[ApiCall] = []
        self.too_many_requests = 0
        """How many 429 answers were given (injected or from rate limits)."""
        self._changed = changes or Changes()
        self._last_touch: dict[int, float] = {}

    def record(self, call: ApiCall, chat_id: int | None) -> None:
        """Store a call and wake everyone waiting for a change."""
        self.calls.append(call)
        if call.status == 429:
            self.too_many_requests += 1
        self.touch(chat_id)

    def touch(self, chat_id: int | None = None) -> None:
        """Note activity (in `chat_id`, if given) and wake waiters."""
        if chat_id is not None:
            self._last_touch[chat_id] = time.monotonic()
        self._changed.fire()

    def last_touch(self, chat_id: int) -> float | None:
        """time.monotonic() of the last call or action in this chat."""
        return self._last_touch.get(chat_id)

    async def wait_until(self, predicate: Callable[[], T]) -> T:
        """Re-check `predicate` after every change until it is truthy; return its value."""
        return await self._changed.wait_until(predicate)

    def dump(self, last: int = DUMP_CALLS) -> str:
        """The most recent calls, one per line, for failure messages."""
        if not self.calls:
            return "  (the bot made no API calls)"
        shown = self.calls[-last:]
        skipped = len(self.calls) - len(shown)
        lines = [f"  ... {skipped} earlier calls"] if skipped else []
        return "\n".join(lines + [f"  {call}" for call in shown])


@asynccontextmanager
async def explained_timeout(seconds: float, describe: Callable[[], str]) -> AsyncIterator[None]:
    """asyncio.timeout() that fails the test with `describe()` instead of a bare TimeoutError."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise AssertionError(describe()) from None
