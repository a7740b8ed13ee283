"""What the merchant's systems read back: a feed of cancellation requests to poll, the
vouchers the bot issued, and redeeming one of them at the merchant's checkout.

A feed is read in pages, oldest change first; each page ends with a cursor to ask for
the next one, and a request appears again whenever it changes (its status, its refund).
Rows changed in the last `FEED_SETTLE` are left for the next poll: a transaction that
stamped its change a moment before another may commit a moment after it, and a poller
that had already moved past that moment would never see it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError

from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.merchant.errors import (
    EventIdConflict,
    InvalidCursor,
    UnknownVoucher,
    VoucherExpired,
    VoucherRedeemed,
)
from bot.services.merchant.views import RequestState, request_state
from storage.enums import RefundStatus, RequestStatus, VoucherKind
from storage.models import Voucher
from storage.repositories.merchant_feeds import FeedWindow, VoucherRow, VoucherState
from storage.uow import UnitOfWork

FEED_SETTLE = timedelta(seconds=5)
DEFAULT_PAGE = 50
MAX_PAGE = 200


class VoucherStatus(StrEnum):
    ACTIVE = "active"  # can be redeemed
    REDEEMED = "redeemed"
    EXPIRED = "expired"


T = TypeVar("T")
Position = tuple[datetime, int]  # (time, row id): where a feed stands


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    entries: tuple[T, ...]
    next_cursor: str  # ask with it for what comes after; it is never empty
    has_more: bool  # another page is ready now


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """A request in the feed: as `GET /orders/{number}` shows it, and what a poller needs
    beside it."""

    state: RequestState
    order_number: str
    customer_id: str  # the merchant's own id
    currency: str
    reason_text: str | None  # the customer's own words
    rule: str | None  # the policy rule that decided
    refund_id: int | None
    refund_status: RefundStatus | None
    items: tuple[tuple[str, int], ...]  # (sku, quantity)
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VoucherEntry:
    code: str
    kind: VoucherKind
    value: Money
    customer_id: str  # the merchant's own id
    order_number: str | None  # the order it was issued for
    status: VoucherStatus
    created_at: datetime
    expires_at: datetime | None
    redeemed_at: datetime | None
    redeemed_for: str | None  # the merchant's order the voucher paid for


@dataclass(frozen=True, slots=True)
class Redemption:
    voucher: VoucherEntry
    event_id: str
    replayed: bool = False


def encode_cursor(at: datetime, row_id: int) -> str:
    raw = f"{at.astimezone(UTC).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a cursor stands for; InvalidCursor for anything this API did not give."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|")
        at = datetime.fromisoformat(stamp)
        if at.utcoffset() is None:
            raise ValueError
        return at, int(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor("is not a cursor this API gave; start without one") from None


def voucher_code(text: str) -> str:
    """Codes are printed in capitals; "vc-abcd-efgh" typed at a till is the same code."""
    return text.strip().upper()


class MerchantFeeds:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def requests(
        self,
        *,
        statuses: Collection[RequestStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[RequestEntry]:
        """Cancellation requests by their last change, oldest first."""
        window = self._window(since, until, cursor, limit)
        async with self._uow.transaction():
            feeds = self._uow.merchant_feeds
            rows = await feeds.requests(window, statuses)
            refunds = await feeds.refunds_of_requests([row.request.id for row in rows])
            skus = await feeds.skus(
                [line.order_item_id for row in rows for line in row.request.items]
            )
        shown = rows[: window.limit - 1]
        entries = []
        for request, order_number, customer_id in shown:
            refund = refunds.get(request.id)
            state = request_state(request)
            entries.append(
                RequestEntry(
                    state=state,
                    order_number=order_number,
                    customer_id=customer_id,
                    currency=request.currency,
                    reason_text=request.reason_text if state.initiated_by == "customer" else None,
                    rule=request.rule,
                    refund_id=refund.id if refund else None,
                    refund_status=refund.status if refund else None,
                    items=tuple(
                        (skus[line.order_item_id], line.quantity) for line in request.items
                    ),
                    updated_at=request.updated_at,
                )
            )
        last = (shown[-1].request.updated_at, shown[-1].request.id) if shown else None
        return _page(entries, last, len(rows) == window.limit, window)

    async def vouchers(
        self,
        *,
        status: VoucherStatus | None = None,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Page[VoucherEntry]:
        """Vouchers by when they were issued, oldest first."""
        window = self._window(since, until, cursor, limit)
        now = self._clock.now()
        state = None if status is None else VoucherState(status.value, now)
        async with self._uow.transaction():
            rows = await self._uow.merchant_feeds.vouchers(
                window, customer_id=customer_id, state=state
            )
        shown = rows[: window.limit - 1]
        last = (shown[-1].voucher.created_at, shown[-1].voucher.id) if shown else None
        entries = [_voucher(row, now) for row in shown]
        return _page(entries, last, len(rows) == window.limit, window)

    async def voucher(self, code: str) -> VoucherEntry:
        async with self._uow.transaction():
            row = await self._uow.merchant_feeds.voucher(voucher_code(code))
        if row is None:
            raise UnknownVoucher(code)
        return _voucher(row, self._clock.now())

    async def redeem(self, code: str, *, event_id: str, order_number: str | None) -> Redemption:
        """Spend a voucher at the merchant's checkout, once. The same event again returns
        the first answer; a voucher already spent (by another event) or expired is refused
        (VoucherRedeemed, VoucherExpired) and nothing changes."""
        code = voucher_code(code)
        try:
            async with self._uow.transaction():
                return await self._redeem(code, event_id, order_number)
        except IntegrityError:
            # The same event id was committed meanwhile for another voucher.
            async with self._uow.transaction():
                previous = await self._uow.merchant_feeds.voucher_redeemed_by(event_id)
                if previous is None:
                    raise
                return await self._replay(previous, code, event_id, order_number)

    async def _redeem(self, code: str, event_id: str, order_number: str | None) -> Redemption:
        feeds = self._uow.merchant_feeds
        voucher = await feeds.voucher_for_update(code)  # first: a racing repeat waits here
        previous = await feeds.voucher_redeemed_by(event_id)
        if previous is not None:
            return await self._replay(previous, code, event_id, order_number)
        if voucher is None:
            raise UnknownVoucher(code)
        now = self._clock.now()
        if voucher.redeemed_at is not None:
            raise VoucherRedeemed(
                f"voucher {code} was redeemed on {voucher.redeemed_at.isoformat()}"
                + (f" for order {voucher.redeemed_for}" if voucher.redeemed_for else "")
            )
        if voucher.taken_back_at is not None:
            raise VoucherExpired(
                f"voucher {code} was taken back on {voucher.taken_back_at.isoformat()}: "
                "the order it compensated was cancelled and refunded"
            )
        if voucher.expires_at is not None and voucher.expires_at <= now:
            raise VoucherExpired(f"voucher {code} expired on {voucher.expires_at.isoformat()}")
        voucher.redeemed_at, voucher.redeem_event_id = now, event_id
        voucher.redeemed_for = order_number
        await self._uow.flush()
        return Redemption(await self._entry(code), event_id)

    async def _replay(
        self, previous: Voucher, code: str, event_id: str, order_number: str | None
    ) -> Redemption:
        if previous.code != code or previous.redeemed_for != order_number:
            raise EventIdConflict(
                f"event id {event_id!r} already redeemed voucher {previous.code}"
                + (f" for order {previous.redeemed_for}" if previous.redeemed_for else "")
                + "; use a new id for a new redemption"
            )
        return Redemption(await self._entry(code), event_id, replayed=True)

    async def _entry(self, code: str) -> VoucherEntry:
        row = await self._uow.merchant_feeds.voucher(code)
        assert row is not None
        return _voucher(row, self._clock.now())

    def _window(
        self, since: datetime | None, until: datetime | None, cursor: str | None, limit: int
    ) -> FeedWindow:
        settled = self._clock.now() - FEED_SETTLE
        before = settled if until is None else min(until, settled)
        after = decode_cursor(cursor) if cursor else None
        # One row more than asked shows whether another page is ready.
        return FeedWindow(before=before, limit=limit + 1, since=since, after=after)


def _page(entries: Sequence[T], last: Position | None, more: bool, window: FeedWindow) -> Page[T]:
    """The page, and where the next one starts: after its last row when more are ready,
    else at the window's end, where everything before has been read (unless the cursor
    given already stood further on)."""
    if more and last is not None:
        at, row_id = last
    elif window.after is not None and window.after[0] >= window.before:
        at, row_id = window.after
    else:
        at, row_id = window.before, 0
    return Page(tuple(entries), encode_cursor(at, row_id), more)


def _voucher(row: VoucherRow, now: datetime) -> VoucherEntry:
    voucher = row.voucher
    if voucher.redeemed_at is not None:
        status = VoucherStatus.REDEEMED
    elif voucher.taken_back_at is not None or (
        voucher.expires_at is not None and voucher.expires_at <= now
    ):
        status = VoucherStatus.EXPIRED  # taken back: its order was cancelled after all
    else:
        status = VoucherStatus.ACTIVE
    return VoucherEntry(
        code=voucher.code,
        kind=voucher.kind,
        value=Money(voucher.amount, voucher.currency),
        customer_id=row.customer_id,
        order_number=row.order_number,
        status=status,
        created_at=voucher.created_at,
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        redeemed_for=voucher.redeemed_for,
    )
