"""Attempt limits kept in the database, so they hold across restarts and processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.cancellation.matching import normalize_order_number
from bot.services.domain.clock import Clock
from bot.services.domain.order_numbers import order_by_typed_number
from storage.models import Order
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Allowance:
    allowed: bool
    remaining: int
    retry_at: datetime | None


class Throttle:
    """Count failures per (subject, action) in a sliding window.

    A helper of other services: it runs inside their transaction and opens none.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def check(self, subject: str, action: str, limit: Limit) -> Allowance:
        now = self._clock.now()
        since = now - limit.window
        used = await self._uow.throttle.count_since(subject, action, since)
        if used < limit.attempts:
            return Allowance(allowed=True, remaining=limit.attempts - used, retry_at=None)
        oldest = await self._uow.throttle.oldest_since(subject, action, since)
        return Allowance(allowed=False, remaining=0, retry_at=(oldest or now) + limit.window)

    def record(self, subject: str, action: str) -> None:
        """Stage one counted attempt in the caller's transaction."""
        self._uow.throttle.add(subject, action, self._clock.now())


GUEST_VERIFY = "guest_verify"


@dataclass(frozen=True, slots=True)
class GuestAttempt:
    """One guest verification under way: the order it names (if any) and its subjects."""

    account_key: str
    order_key: str
    order: Order | None
    locked: Allowance | None
    """Set when the account or the order has no attempts left: nothing is checked then."""


class GuestAttempts:
    """Failed guest verifications, limited per account and per order.

    Failures are only ever added (a success does not erase them: an account that
    verifies its own order now and then still gets `account_limit` wrong guesses per
    window), and they are counted while the account's and the order's rows are locked,
    so attempts racing each other on PostgreSQL are counted one at a time and the
    limit is exact. Account first, order second: one order of locking, no deadlock.
    """

    def __init__(
        self, uow: UnitOfWork, clock: Clock, account_limit: Limit, order_limit: Limit
    ) -> None:
        self._uow = uow
        self._throttle = Throttle(uow, clock)
        self._account_limit = account_limit
        self._order_limit = order_limit

    async def begin(self, telegram_user_id: int, order_number: str) -> GuestAttempt:
        """Lock and count; run inside the caller's transaction, which must stay open until
        `fail` (or the end of a successful verification)."""
        await self._uow.throttle.lock_account(telegram_user_id)
        # "so1002351", "#SO-1002351" name the stored "SO-1002351", as other lookups do.
        typed = await order_by_typed_number(self._uow, order_number)
        order = await self._uow.orders.get_for_update(typed.id) if typed else None
        # Counted by the order's number, or the number typed (however written) when none
        # has it, so a locked-out number does not tell a stranger whether it exists.
        key = order.number if order else (normalize_order_number(order_number) or order_number)
        attempt = GuestAttempt(f"tg:{telegram_user_id}", f"order:{key}", order, None)
        for subject, limit in (
            (attempt.account_key, self._account_limit),
            (attempt.order_key, self._order_limit),
        ):
            allowance = await self._throttle.check(subject, GUEST_VERIFY, limit)
            if not allowance.allowed:
                return GuestAttempt(attempt.account_key, attempt.order_key, order, allowance)
        return attempt

    async def fail(self, attempt: GuestAttempt) -> Allowance:
        """Count a wrong guess against the account and the order; what the account has left.

        Only the account's count is told: the order's would say whether it exists.
        """
        self._throttle.record(attempt.account_key, GUEST_VERIFY)
        self._throttle.record(attempt.order_key, GUEST_VERIFY)
        await self._uow.flush()
        return await self._throttle.check(attempt.account_key, GUEST_VERIFY, self._account_limit)
