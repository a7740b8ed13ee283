"""A voucher pays once, whoever redeems it at the same moment: the row lock (PostgreSQL)
or the write lock (SQLite) orders two redemptions, and the unique redemption event id
makes the same event, sent twice at once, one redemption and one replay."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.services.domain.money import Money
from bot.services.merchant.errors import EventIdConflict, VoucherRedeemed
from bot.services.merchant.feeds import Redemption
from bot.services.refunds.vouchers import issue_voucher
from bot.wiring import AppDeps
from storage.enums import VoucherKind
from storage.models import Voucher
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer


async def _vouchers(deps: AppDeps, count: int) -> list[str]:
    customer = make_customer("C-VOUCHER", phone="+8613800008888")
    async with deps.uow() as uow:
        await add_all(uow, customer)
        async with uow.transaction():
            return [
                issue_voucher(
                    uow,
                    customer_id=customer.id,
                    kind=VoucherKind.STORE_CREDIT,
                    value=Money(Decimal("50.00"), "CNY"),
                    now=NOW - timedelta(days=1),
                ).code
                for _ in range(count)
            ]


async def _redeem(deps: AppDeps, code: str, event_id: str) -> Redemption | Exception:
    async with deps.uow() as uow:
        try:
            return await deps.services(uow).merchant_feeds.redeem(
                code, event_id=event_id, order_number=None
            )
        except (VoucherRedeemed, EventIdConflict) as refused:
            return refused


async def _redeemed(deps: AppDeps) -> list[tuple[str, str | None]]:
    """(code, redemption event) of every redeemed voucher."""
    async with deps.uow() as uow:
        vouchers = await uow.session.scalars(select(Voucher).order_by(Voucher.id))
        return [(v.code, v.redeem_event_id) for v in vouchers if v.redeemed_at is not None]


async def test_two_checkouts_spending_one_voucher_at_once(deps: AppDeps) -> None:
    [code] = await _vouchers(deps, 1)
    results = await asyncio.gather(_redeem(deps, code, "till-1"), _redeem(deps, code, "till-2"))
    done = [result for result in results if isinstance(result, Redemption)]
    refused = [result for result in results if isinstance(result, VoucherRedeemed)]
    assert (len(done), len(refused)) == (1, 1)
    assert await _redeemed(deps) == [(code, done[0].event_id)]


async def test_one_event_sent_twice_at_once_redeems_once(deps: AppDeps) -> None:
    [code] = await _vouchers(deps, 1)
    results = await asyncio.gather(_redeem(deps, code, "till-1"), _redeem(deps, code, "till-1"))
    assert all(isinstance(result, Redemption) for result in results), results
    assert sorted(result.replayed for result in results if isinstance(result, Redemption)) == [
        False,
        True,
    ]
    assert await _redeemed(deps) == [(code, "till-1")]


async def test_one_event_id_for_two_vouchers_at_once_redeems_one(deps: AppDeps) -> None:
    first, second = await _vouchers(deps, 2)
    results = await asyncio.gather(_redeem(deps, first, "till-1"), _redeem(deps, second, "till-1"))
    assert sum(isinstance(result, Redemption) for result in results) == 1
    assert sum(isinstance(result, EventIdConflict) for result in results) == 1
    assert [event for _, event in await _redeemed(deps)] == ["till-1"]
