"""Retries that race: a merchant's system re-sending an event before the first answer came.

On SQLite transactions queue; with TEST_DATABASE_URL on PostgreSQL the calls really race on
separate connections, through the row locks and unique indexes the services rely on.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import func, select

from bot.services.conversation.views import CustomerView
from bot.services.linking.identity import Identity
from bot.services.merchant.cancellation import MerchantCancellation, MerchantCancellations
from bot.services.merchant.errors import EventIdConflict, OrderNotCancellable
from bot.services.merchant.offers import MerchantOffers, Taken
from bot.services.policy.model import MerchantReason
from bot.services.refunds.states import IllegalTransition
from bot.services.refunds.updates import RefundUpdate, RefundUpdates
from bot.wiring import AppDeps
from storage.enums import OfferType, RefundStatus
from storage.models import CancellationRequest, OutboxMessage, RefundEvent
from tests.api.conftest import LINKED_USER
from tests.api.support import customer_row, open_refund, refund_row
from tests.conftest import NOW


async def _apply(deps: AppDeps, refund_id: int, event_id: str) -> RefundUpdate | Exception:
    async with deps.uow() as uow:
        service = RefundUpdates(uow, deps.clock, deps.service_config.policy, "en")
        try:
            return await service.apply(
                refund_id,
                RefundStatus.PROCESSING,
                actor="merchant",
                event_id=event_id,
                occurred_at=NOW,
            )
        except (EventIdConflict, IllegalTransition) as error:
            return error


async def _cancel(deps: AppDeps, event_id: str) -> MerchantCancellation | Exception:
    async with deps.uow() as uow:
        service = MerchantCancellations(uow, deps.clock, deps.service_config.policy, "en")
        try:
            return await service.cancel("SO-1", MerchantReason.OUT_OF_STOCK, event_id=event_id)
        except OrderNotCancellable as error:
            return error


async def _count(deps: AppDeps, model: type) -> int:
    async with deps.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def test_one_event_sent_several_times_at_once_applies_once(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1")

    results = await asyncio.gather(*(_apply(shop, refund_id, "evt-1") for _ in range(4)))

    assert all(isinstance(r, RefundUpdate) for r in results)
    updates = [r for r in results if isinstance(r, RefundUpdate)]
    assert sorted(u.replayed for u in updates) == [False, True, True, True]
    assert {(u.from_status, u.status, u.recorded_at) for u in updates} == {
        (RefundStatus.APPROVED, RefundStatus.PROCESSING, updates[0].recorded_at)
    }
    assert (await refund_row(shop, refund_id)).status is RefundStatus.PROCESSING
    assert await _count(shop, RefundEvent) == 2  # opened, then processing once
    assert await _count(shop, OutboxMessage) == 1


async def test_one_event_id_for_two_refunds_at_once_applies_to_one(shop: AppDeps) -> None:
    first, second = await open_refund(shop, "SO-1"), await open_refund(shop, "SO-2")

    results = await asyncio.gather(_apply(shop, first, "evt-1"), _apply(shop, second, "evt-1"))

    assert sorted(type(r).__name__ for r in results) == ["EventIdConflict", "RefundUpdate"]
    statuses = {(await refund_row(shop, r)).status for r in (first, second)}
    assert statuses == {RefundStatus.APPROVED, RefundStatus.PROCESSING}


async def test_one_cancellation_sent_several_times_at_once_cancels_once(shop: AppDeps) -> None:
    results = await asyncio.gather(*(_cancel(shop, "cx-1") for _ in range(3)))

    done = [r for r in results if isinstance(r, MerchantCancellation)]
    assert len(done) == 3
    assert sorted(r.replayed for r in done) == [False, True, True]
    assert [replace(r, replayed=False) for r in done] == [replace(done[0], replayed=False)] * 3
    assert await _count(shop, CancellationRequest) == 1


async def test_two_cancellations_of_one_order_at_once_make_one(shop: AppDeps) -> None:
    results = await asyncio.gather(_cancel(shop, "cx-1"), _cancel(shop, "cx-2"))

    assert sorted(type(r).__name__ for r in results) == [
        "MerchantCancellation",
        "OrderNotCancellable",
    ]
    assert await _count(shop, CancellationRequest) == 1


async def test_an_exchange_and_a_payout_racing_for_one_refund_do_not_both_happen(
    shop: AppDeps,
) -> None:
    """The customer takes the exchange while the merchant reports the payout started."""
    done = await _cancel(shop, "cx-1")
    assert isinstance(done, MerchantCancellation)
    assert done.refund_id is not None
    exchange = next(o for o in done.offers if o.type is OfferType.EXCHANGE)
    found = await customer_row(shop, "C001")
    ann = Identity(LINKED_USER, LINKED_USER, "Ann", CustomerView.of(found), 0, "en")
    async with shop.uow() as uow:
        offer = await uow.offers.get(exchange.id)
    assert offer is not None

    async def take() -> Taken:
        async with shop.uow() as uow:
            offers = MerchantOffers(uow, shop.clock, shop.service_config.policy)
            return (await offers.accept(ann, offer.case_id, exchange.id)).result

    taken, paid = await asyncio.gather(take(), _apply(shop, done.refund_id, "evt-1"))

    status = (await refund_row(shop, done.refund_id)).status
    if taken is Taken.ACCEPTED:
        assert status is RefundStatus.CANCELLED
        assert isinstance(paid, IllegalTransition)
    else:
        assert (taken, status) == (Taken.UNAVAILABLE, RefundStatus.PROCESSING)
        assert isinstance(paid, RefundUpdate)
