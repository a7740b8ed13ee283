"""A "something changed" broadcast that plain (non-async) code can fire."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """Waiters re-check their condition each time `fire()` is called; no lock needed.

    Unlike asyncio.Condition, firing is synchronous, so state-changing helpers such as
    `FakeTelegram.block()` need not be coroutines.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        """Wake every current waiter."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_until(self, predicate: Callable[[], T]) -> T:
        """Return the first truthy value of `predicate()`; bound it with asyncio.timeout()."""
        while not (result := predicate()):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            try:
                await waiter
            finally:
                self._waiters.discard(waiter)
        return result
