"""Token buckets that keep the notifier inside Telegram's flood limits.

Telegram allows about 30 messages a second per bot and about one a second per chat,
and it counts over a sliding second. A bucket's burst adds straight onto what such a
window can see (`burst + rate` sends in any second), so the global bucket defaults to
a burst of 1 and a rate under 30: at 25/s up to 160 ms of jitter between taking a
token and Telegram receiving the request still keeps every window at 30 or fewer.

A chat's spacing is counted from Telegram's reply to its previous message
(`chat_done`), not from when that message was sent: Telegram saw it no later than
the reply arrived, so the next one reaches it at least an interval later whatever
the network did in between.

A group gets its own, slower spacing (Telegram takes about 20 messages a minute in a
group, topic creation and edits included): with one message per 60/N seconds, counted
from the reply as above, no minute can see more than N.

A 429 pauses the chat it came from, and only that chat: Telegram's retry_after is about
the chat that was flooded, and a bot-wide pause after one busy group would silence every
customer for as long as the group needs.

Both clocks are injectable so the unit tests run on fake time; production uses
`time.monotonic` and `asyncio.sleep`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
_ROUNDING = 1e-9
"""Float error allowed when counting tokens, so 0.9999999 tokens after a full period is 1."""
_GROUP_MARGIN = 1 - 1e-6
"""A group's rate is this fraction of its budget (3.3333367 s apart instead of 3.3333333
at 18 a minute), so rounding never fits one more message into a minute."""


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity`; starts full."""

    def __init__(self, rate: float, capacity: float = 1.0, clock: MonotonicClock = time.monotonic):
        if rate <= 0 or capacity < 1:
            raise ValueError("a bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._paused_until = float("-inf")

    def wait_time(self) -> float:
        """Seconds until a token is available (0 when one is available now)."""
        now = self._refill()
        if now < self._paused_until:
            return self._paused_until - now + 1 / self.rate
        return 0.0 if self._tokens >= 1 - _ROUNDING else (1 - self._tokens) / self.rate

    def try_take(self) -> bool:
        if self.wait_time() > 0:
            return False
        self._tokens = max(0.0, self._tokens - 1)
        return True

    def pause(self, seconds: float) -> None:
        """Empty the bucket and refill nothing for `seconds` (0: just start refilling anew)."""
        now = self._refill()
        self._tokens = 0.0
        self._paused_until = max(self._paused_until, now + seconds)

    @property
    def full(self) -> bool:
        """A full bucket behaves exactly like a new one, so it can be dropped."""
        return self.wait_time() == 0 and self._tokens >= self.capacity - _ROUNDING

    def _refill(self) -> float:
        now = self._clock()
        start = max(self._updated, self._paused_until)
        if now > start:
            self._tokens = min(self.capacity, self._tokens + (now - start) * self.rate)
        self._updated = max(self._updated, now)
        return now


class RateLimiter:
    """One global bucket for the bot plus one bucket per chat (slower for groups).

    The global bucket is taken in FIFO order (behind a lock), so no sender starves.
    """

    def __init__(
        self,
        per_second: float,
        chat_interval: float,
        *,
        group_per_minute: float = 18.0,
        burst: int = 1,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if group_per_minute <= 0:
            raise ValueError("a group needs a budget above 0 messages a minute")
        self._clock = clock
        self._sleep = sleep
        self._chat_rate = 1 / chat_interval
        # A hair under N a minute: N + 1 sends spaced exactly 60/N apart span exactly a
        # minute, and the tokens' float rounding (_ROUNDING) would let the last one in.
        self._group_rate = min(self._chat_rate, group_per_minute / 60 * _GROUP_MARGIN)
        self._global = TokenBucket(per_second, burst, clock)
        self._global_queue = asyncio.Lock()
        self._chats: dict[int, TokenBucket] = {}

    async def chat_turn(self, chat_id: int) -> None:
        """Wait until `chat_id` may receive its next message, and take that turn."""
        await self._take(self._chat(chat_id))

    def chat_done(self, chat_id: int) -> None:
        """Telegram answered the chat's message: its next turn is an interval from now."""
        self._chat(chat_id).pause(0)

    async def global_turn(self) -> None:
        """Wait for the bot-wide token, in the order the callers asked."""
        async with self._global_queue:
            await self._take(self._global)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram said "retry after `seconds`" for this chat: it waits, the others go on."""
        self._chat(chat_id).pause(seconds)

    def forget_idle(self) -> None:
        """Drop the buckets of chats that could send right now, so memory stays bounded."""
        for chat_id in [chat for chat, bucket in self._chats.items() if bucket.full]:
            del self._chats[chat_id]

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            # Groups and supergroups have negative ids; people's private chats positive.
            rate = self._group_rate if chat_id < 0 else self._chat_rate
            bucket = self._chats[chat_id] = TokenBucket(rate, 1, self._clock)
        return bucket

    async def _take(self, bucket: TokenBucket) -> None:
        while not bucket.try_take():
            await self._sleep(bucket.wait_time())
