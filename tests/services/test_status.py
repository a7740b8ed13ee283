"""/status's data: refunds with their last update and arrival window, and a refund's timeline
that only its reader may see, without internal actor ids or notes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.services.conversation.status import StatusOverview, Timeline
from bot.services.domain.clock import FixedClock
from bot.services.linking.identity import Identity, Sender
from bot.services.refunds import updates as refund_updates
from bot.services.refunds.service import ActorKind
from bot.services.refunds.states import NOTE_SHOWN, ON_ITS_WAY
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from storage.models import GuestAccess, TelegramUser
from tests.api.support import customer, item, link, load, open_refund, order
from tests.conftest import NOW

ANN, BO, GUEST = 9001, 9002, 9003


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001) has SO-1 (card) and SO-2 (e-wallet); Bo (C002) has SO-9. Both linked."""
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS", "99.00")),
            order("SO-2", "C001", item("MUG", "100.00"), payment="e_wallet"),
            order("SO-9", "C002", item("HAT", "50.00")),
        ],
    )
    await link(deps, "C001", ANN)
    await link(deps, "C002", BO)
    return deps


async def identity(deps: AppDeps, user_id: int) -> Identity:
    async with deps.uow() as uow:
        return await deps.services(uow).identity.resolve(Sender(user_id=user_id, chat_id=user_id))


async def event(
    deps: AppDeps,
    refund_id: int,
    status: RefundStatus,
    *,
    actor: str = "merchant",
    note: str | None = None,
    after: timedelta = timedelta(0),
) -> datetime:
    at = NOW + after
    assert isinstance(deps.clock, FixedClock)
    deps.clock.set(at)
    async with deps.uow() as uow:
        await deps.services(uow).refund_updates.apply(
            refund_id,
            status,
            actor=actor,
            event_id=f"evt-{refund_id}-{status}",
            occurred_at=at,
            note=note,
        )
    return at


async def overview(deps: AppDeps, user_id: int) -> StatusOverview:
    reader = await identity(deps, user_id)
    async with deps.uow() as uow:
        return await deps.services(uow).status.overview(reader)


async def timeline(deps: AppDeps, user_id: int, refund_id: int) -> Timeline | None:
    reader = await identity(deps, user_id)
    async with deps.uow() as uow:
        return await deps.services(uow).status.timeline(reader, refund_id)


async def test_refunds_show_their_last_update_and_arrival_window(shop: AppDeps) -> None:
    card = await open_refund(shop, "SO-1")
    wallet = await open_refund(shop, "SO-2")
    paid_out = await event(shop, card, RefundStatus.PROCESSING, after=timedelta(hours=2))

    seen = await overview(shop, ANN)

    by_order = {refund.order_number: refund for refund in seen.refunds}
    assert set(by_order) == {"SO-1", "SO-2"}
    # Card: 3–5 business days from Monday 12:00.
    assert by_order["SO-1"].updated_at == paid_out
    assert by_order["SO-1"].expected_from == datetime.fromisoformat("2026-11-26T12:00+00:00")
    assert by_order["SO-1"].expected_by == datetime.fromisoformat("2026-11-30T12:00+00:00")
    # A refund with no expected date (open_refund sets none) promises nothing.
    assert by_order["SO-2"].id == wallet
    assert (by_order["SO-2"].expected_from, by_order["SO-2"].expected_by) == (None, None)
    assert [request.order_number for request in seen.requests] == ["SO-2", "SO-1"]


async def test_an_e_wallet_refund_is_expected_by_a_date_not_a_window(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-2")
    await event(shop, refund_id, RefundStatus.PROCESSING)

    (refund,) = (await overview(shop, ANN)).refunds

    assert (refund.expected_from, refund.expected_by) == (None, NOW + timedelta(hours=24))


async def test_finished_refunds_stay_listed_for_30_days(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1")
    await event(shop, refund_id, RefundStatus.REFUNDED)
    clock = shop.clock
    assert isinstance(clock, FixedClock)

    clock.set(NOW + timedelta(days=30))
    (refund,) = (await overview(shop, ANN)).refunds
    assert (refund.status, refund.expected_by) == (RefundStatus.REFUNDED, None)
    clock.set(NOW + timedelta(days=30, seconds=1))
    assert (await overview(shop, ANN)).refunds == ()


async def test_a_timeline_lists_every_step_in_order_without_ids_or_internal_notes(
    shop: AppDeps,
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    await event(shop, refund_id, RefundStatus.APPROVED, actor="agent:77", note="VIP, fine")
    await event(shop, refund_id, RefundStatus.PROCESSING, note="batch 7", after=timedelta(hours=1))
    await event(shop, refund_id, RefundStatus.FAILED, actor="cli", after=timedelta(hours=2))
    await event(
        shop,
        refund_id,
        RefundStatus.CANCELLED,
        note="you chose store credit instead",
        after=timedelta(hours=3),
    )

    seen = await timeline(shop, ANN, refund_id)

    assert seen is not None
    assert seen.refund.order_number == "SO-1"
    assert [(e.status, e.actor, e.note) for e in seen.events] == [
        (RefundStatus.PENDING_REVIEW, ActorKind.BOT, None),
        (RefundStatus.APPROVED, ActorKind.AGENT, None),
        (RefundStatus.PROCESSING, ActorKind.MERCHANT, None),
        (RefundStatus.FAILED, ActorKind.MERCHANT, None),
        (RefundStatus.CANCELLED, ActorKind.MERCHANT, "you chose store credit instead"),
    ]
    assert [e.at for e in seen.events] == sorted(e.at for e in seen.events)


async def test_a_foreign_refund_reads_as_one_that_does_not_exist(shop: AppDeps) -> None:
    anns = await open_refund(shop, "SO-1")
    bos = await open_refund(shop, "SO-9")

    assert await timeline(shop, BO, anns) is None
    assert await timeline(shop, BO, 999_999) is None
    assert await timeline(shop, GUEST, anns) is None  # not linked at all
    assert await timeline(shop, BO, bos) is not None
    assert [refund.id for refund in (await overview(shop, BO)).refunds] == [bos]


async def test_a_guest_sees_the_refund_of_the_order_they_verified_while_access_lasts(
    shop: AppDeps,
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    async with shop.uow() as uow, uow.transaction():
        uow.telegram_users.add(TelegramUser(id=GUEST, first_seen_at=NOW))
        await uow.flush()
        so1 = await uow.orders.by_number("SO-1")
        assert so1 is not None
        uow.orders.add_guest_access(
            GuestAccess(
                telegram_user_id=GUEST,
                order_id=so1.id,
                granted_at=NOW,
                expires_at=NOW + timedelta(days=7),
            )
        )

    assert await timeline(shop, GUEST, refund_id) is not None
    assert isinstance(shop.clock, FixedClock)
    shop.clock.set(NOW + timedelta(days=7))
    assert await timeline(shop, GUEST, refund_id) is None


def test_the_customer_visible_rules_match_the_refund_notices() -> None:
    """The timeline and the notices (bot.services.refunds.updates) show the same notes and
    promise arrival for the same statuses."""
    assert refund_updates._NOTE_SHOWN == NOTE_SHOWN
    assert refund_updates._ON_ITS_WAY == ON_ITS_WAY
