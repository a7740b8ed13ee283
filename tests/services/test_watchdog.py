"""The overdue watchdog: stuck past the `[sla]` means strictly past it, and once per stay.

Refunds are opened as a confirmed cancellation leaves them and moved on through
`RefundUpdates`, the path the merchant API takes, so `expected_by` is what production
computes. `NOW` is Monday 2026-11-23 10:00 UTC; a card refund takes 3–5 business days.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.domain.clock import FixedClock
from bot.services.outbox import decode_context
from bot.services.refunds import watchdog as watchdog_module
from bot.services.refunds.watchdog import OverdueWatchdog
from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.enums import PaymentMethod, RefundStatus
from storage.models import OutboxMessage, RefundEscalation
from storage.repositories.refunds import RefundRepository, StuckStage
from tests.api.support import customer, item, link, load, open_refund, order, outbox
from tests.conftest import NOW

ANN_CHAT = 9001
AGENTS = -100_555
SECOND = timedelta(seconds=1)
RENDERER = Renderer()


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001, linked to Telegram) with SO-1..SO-3 paid by card; Bo (C002) not linked."""
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS", "99.00")),
            order("SO-2", "C001", item("MUG", "100.00")),
            order("SO-3", "C001", item("CUP", "200.00")),
            order("SO-9", "C002", item("HAT", "50.00")),
        ],
    )
    await link(deps, "C001", ANN_CHAT)
    return deps


def watchdog(deps: AppDeps, agent_chat_id: int | None = AGENTS) -> OverdueWatchdog:
    return OverdueWatchdog(
        deps.uow, deps.service_config.policy, default_locale="en", agent_chat_id=agent_chat_id
    )


async def move(
    deps: AppDeps, refund_id: int, status: RefundStatus, at: datetime, note: str | None = None
) -> None:
    """A merchant's event, through the real service, with the clock at `at`."""
    assert isinstance(deps.clock, FixedClock)
    deps.clock.set(at)
    async with deps.uow() as uow:
        await deps.services(uow).refund_updates.apply(
            refund_id,
            status,
            actor="merchant",
            event_id=f"evt-{refund_id}-{status}-{at.timestamp()}",
            occurred_at=at,
            note=note,
        )


async def escalations(deps: AppDeps) -> list[RefundEscalation]:
    async with deps.uow() as uow:
        rows = await uow.session.scalars(select(RefundEscalation).order_by(RefundEscalation.id))
        return list(rows)


async def overdue_messages(deps: AppDeps) -> list[OutboxMessage]:
    """The customer's message first, then the agents' (staged first: see the watchdog)."""
    found = [m for m in await outbox(deps) if m.template.endswith("refund_overdue")]
    return sorted(found, key=lambda m: (m.template.startswith("agent/"), m.id))


def rendered(message: OutboxMessage) -> str:
    return RENDERER.render(message.locale, message.template, **decode_context(message.context))


async def test_pending_review_is_stuck_only_after_more_than_24_hours(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)

    assert await watchdog(shop).sweep(NOW + timedelta(hours=24)) == 0
    assert await overdue_messages(shop) == []
    assert await watchdog(shop).sweep(NOW + timedelta(hours=24) + SECOND) == 1

    to_ann, to_agents = await overdue_messages(shop)
    assert (to_ann.chat_id, to_ann.template, to_ann.locale) == (
        ANN_CHAT,
        "notify/refund_overdue",
        "en",
    )
    # The same coalescing key as the refund's status notices (bot.services.refunds.updates).
    assert to_ann.coalesce_key == f"refund:{refund_id}"
    assert "waiting for a colleague's approval" in rendered(to_ann)
    assert "I have asked the team to look at it now." in rendered(to_ann)
    assert (to_agents.chat_id, to_agents.template, to_agents.locale) == (
        AGENTS,
        "agent/refund_overdue",
        "en",
    )
    assert (to_agents.keyboard, to_agents.customer_id) == (None, None)
    assert f"Refund #{refund_id} is overdue" in rendered(to_agents)
    (marker,) = await escalations(shop)
    assert (marker.refund_id, marker.status, marker.stuck_since) == (
        refund_id,
        RefundStatus.PENDING_REVIEW,
        NOW,
    )
    assert (marker.customer_notified, marker.agents_notified) == (True, True)


async def test_approved_but_not_paid_is_stuck_after_48_hours(shop: AppDeps) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.APPROVED)

    assert await watchdog(shop).sweep(NOW + timedelta(hours=48)) == 0
    assert await watchdog(shop).sweep(NOW + timedelta(hours=48) + SECOND) == 1
    to_ann, _ = await overdue_messages(shop)
    assert "has not started yet" in rendered(to_ann)


@pytest.mark.parametrize("method", [PaymentMethod.CARD, PaymentMethod.STORE_CREDIT])
async def test_an_approved_return_waiting_for_the_parcel_is_late_only_after_21_days(
    shop: AppDeps, method: PaymentMethod
) -> None:
    """Not on the payment's 48 hours: the customer's parcel is what is late, and only
    after the policy's `return_days`; then the customer is asked to send it (nothing
    about a delayed payment) and the agents to check with the carrier."""
    refund_id = await open_refund(shop, "SO-1", method=method, return_required=True)

    assert await watchdog(shop).sweep(NOW + timedelta(days=21)) == 0
    assert await overdue_messages(shop) == []
    assert await watchdog(shop).sweep(NOW + timedelta(days=21) + SECOND) == 1
    to_ann, to_agents = await overdue_messages(shop)
    told = rendered(to_ann)
    assert "we have not received the parcel yet" in told
    assert "has not started yet" not in told
    assert "you do not need to do anything" not in told
    assert "check with the carrier" in rendered(to_agents)
    (marker,) = await escalations(shop)
    assert (marker.refund_id, marker.status, marker.stuck_since) == (
        refund_id,
        RefundStatus.APPROVED,
        NOW,
    )
    assert await watchdog(shop).sweep(NOW + timedelta(days=60)) == 0  # once per stay


async def test_a_late_parcel_is_explained_in_chinese_too(shop: AppDeps) -> None:
    await open_refund(shop, "SO-1", return_required=True)
    await watchdog(shop).sweep(NOW + timedelta(days=22))
    to_ann, to_agents = await overdue_messages(shop)
    assert "还没有收到您寄回的包裹" in RENDERER.render(
        "zh", to_ann.template, **decode_context(to_ann.context)
    )
    assert "向快递公司核实" in RENDERER.render(
        "zh", to_agents.template, **decode_context(to_agents.context)
    )


async def test_a_return_whose_parcel_is_back_runs_on_the_processing_clock(
    shop: AppDeps,
) -> None:
    """The merchant records the parcel by moving the refund on; from then the refund has
    the processing rule's clock, from the day the parcel was recorded."""
    refund_id = await open_refund(shop, "SO-1", return_required=True)
    back = NOW + timedelta(days=10, hours=1)
    await move(shop, refund_id, RefundStatus.PROCESSING, back)
    # Five business days from Thursday 3 Dec 11:00 is Thursday 10 Dec; plus 2 days.
    limit = datetime.fromisoformat("2026-12-12T11:00:00+00:00")

    assert await watchdog(shop).sweep(limit) == 0
    assert await watchdog(shop).sweep(limit + SECOND) == 1
    (marker,) = await escalations(shop)
    assert (marker.status, marker.stuck_since) == (RefundStatus.PROCESSING, back)


async def test_processing_is_stuck_after_the_methods_max_plus_the_grace(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.APPROVED)
    await move(shop, refund_id, RefundStatus.PROCESSING, NOW + timedelta(hours=1))
    # Five business days from Monday 11:00 is the next Monday; the policy adds 2 days.
    limit = datetime.fromisoformat("2026-12-02T11:00:00+00:00")

    assert await watchdog(shop).sweep(limit) == 0
    assert await watchdog(shop).sweep(limit + SECOND) == 1
    (marker,) = await escalations(shop)
    assert marker.status is RefundStatus.PROCESSING
    to_ann, _ = await overdue_messages(shop)
    assert "we expected it by 30 Nov 2026 (it usually arrives in 3–5 business days)" in (
        rendered(to_ann)
    )


async def test_failed_and_not_retried_is_stuck_after_24_hours(shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.APPROVED)
    await move(shop, refund_id, RefundStatus.FAILED, NOW, note="card expired")

    assert await watchdog(shop).sweep(NOW + timedelta(hours=24)) == 0
    assert await watchdog(shop).sweep(NOW + timedelta(hours=24) + SECOND) == 1
    to_ann, to_agents = await overdue_messages(shop)
    assert "did not go through" in rendered(to_ann)
    assert "card expired" not in rendered(to_ann)  # an internal note
    assert "card expired" in rendered(to_agents)


async def test_a_second_sweep_repeats_nothing(shop: AppDeps) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    assert await watchdog(shop).sweep(NOW + timedelta(days=2)) == 1
    before = await outbox(shop)

    assert await watchdog(shop).sweep(NOW + timedelta(days=2)) == 0
    assert await watchdog(shop).sweep(NOW + timedelta(days=30)) == 0
    assert len(await outbox(shop)) == len(before)
    assert len(await escalations(shop)) == 1


async def test_a_refund_that_moves_on_and_gets_stuck_again_is_escalated_again(
    shop: AppDeps,
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    assert await watchdog(shop).sweep(NOW + timedelta(days=2)) == 1
    approved_at = NOW + timedelta(days=3)
    await move(shop, refund_id, RefundStatus.APPROVED, approved_at)

    assert await watchdog(shop).sweep(approved_at + timedelta(hours=48)) == 0
    assert await watchdog(shop).sweep(approved_at + timedelta(hours=48) + SECOND) == 1
    assert await watchdog(shop).sweep(approved_at + timedelta(days=9)) == 0

    assert [(m.status, m.stuck_since) for m in await escalations(shop)] == [
        (RefundStatus.PENDING_REVIEW, NOW),
        (RefundStatus.APPROVED, approved_at),
    ]
    assert len(await overdue_messages(shop)) == 4


async def test_finished_refunds_are_never_stuck(shop: AppDeps) -> None:
    for number, start, ending in (
        ("SO-1", RefundStatus.APPROVED, RefundStatus.REFUNDED),
        ("SO-2", RefundStatus.APPROVED, RefundStatus.CANCELLED),
        ("SO-3", RefundStatus.PENDING_REVIEW, RefundStatus.REJECTED),
    ):
        refund_id = await open_refund(shop, number, status=start)
        await move(shop, refund_id, ending, NOW)

    assert await watchdog(shop).sweep(NOW + timedelta(days=365)) == 0


async def test_a_customer_without_telegram_is_not_told_but_the_agents_are(
    shop: AppDeps,
) -> None:
    await open_refund(shop, "SO-9", status=RefundStatus.PENDING_REVIEW)

    assert await watchdog(shop).sweep(NOW + timedelta(days=2)) == 1

    (to_agents,) = await overdue_messages(shop)
    assert to_agents.chat_id == AGENTS
    assert "no linked Telegram account" in rendered(to_agents)
    (marker,) = await escalations(shop)
    assert (marker.customer_notified, marker.agents_notified) == (False, True)


async def test_without_an_agents_chat_only_the_customer_is_told(shop: AppDeps) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)

    assert await watchdog(shop, agent_chat_id=None).sweep(NOW + timedelta(days=2)) == 1

    (to_ann,) = await overdue_messages(shop)
    assert to_ann.chat_id == ANN_CHAT
    told = rendered(to_ann)
    assert "waiting for a colleague's approval" in told
    assert "asked the team" not in told  # no one was: the message does not say so
    (marker,) = await escalations(shop)
    assert (marker.customer_notified, marker.agents_notified) == (True, False)


@pytest.mark.parametrize("locale", ["en", "zh"])
async def test_a_late_parcel_without_an_agents_chat_promises_no_carrier_check(
    shop: AppDeps, locale: str
) -> None:
    await open_refund(shop, "SO-1", return_required=True)

    await watchdog(shop, agent_chat_id=None).sweep(NOW + timedelta(days=22))

    (to_ann,) = await overdue_messages(shop)
    told = RENDERER.render(locale, to_ann.template, **decode_context(to_ann.context))
    assert ("we have not received the parcel yet", "还没有收到您寄回的包裹")[locale == "zh"] in told
    assert ("tracking number", "快递单号")[locale == "zh"] in told
    for promise in ("asked the team", "请同事", "check with the carrier", "核实"):
        assert promise not in told


async def test_the_customer_is_told_in_their_language(shop: AppDeps) -> None:
    async with shop.uow() as uow, uow.transaction():
        account = await uow.telegram_users.get(ANN_CHAT)
        assert account is not None
        account.locale = "zh"
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)

    await watchdog(shop).sweep(NOW + timedelta(days=2))

    to_ann, to_agents = await overdue_messages(shop)
    assert (to_ann.locale, to_agents.locale) == ("zh", "en")  # agents: DEFAULT_LOCALE
    assert "等待审核" in rendered(to_ann)


async def test_many_stuck_refunds_are_swept_page_by_page(
    shop: AppDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchdog_module, "SWEEP_BATCH", 2)
    for number in ("SO-1", "SO-2", "SO-3", "SO-9"):
        await open_refund(shop, number, status=RefundStatus.APPROVED)

    assert await watchdog(shop).sweep(NOW + timedelta(days=3)) == 4
    assert await watchdog(shop).sweep(NOW + timedelta(days=3)) == 0


async def test_a_lost_race_is_settled_by_the_unique_marker(
    shop: AppDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second sweeper that found the refund before the first committed, and whose own
    check raced past the first's marker, writes nothing and stages no message."""
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    later = NOW + timedelta(days=2)
    async with shop.uow() as uow:
        found = await uow.refunds.stuck(watchdog(shop).limits(later))
    assert await watchdog(shop).sweep(later) == 1

    async def stale_search(self: RefundRepository, *args: Any, **kwargs: Any) -> list[StuckStage]:
        return found if kwargs.get("after_id", 0) == 0 else []

    async def raced_check(self: RefundRepository, event_id: int) -> None:
        return None

    monkeypatch.setattr(RefundRepository, "stuck", stale_search)
    monkeypatch.setattr(RefundRepository, "escalation_for", raced_check)
    assert await watchdog(shop).sweep(later) == 0

    assert len(await escalations(shop)) == 1
    assert len(await overdue_messages(shop)) == 2


async def test_a_refund_that_moved_on_after_the_search_waits_for_the_next_sweep(
    shop: AppDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    later = NOW + timedelta(days=2)
    async with shop.uow() as uow:
        found = await uow.refunds.stuck(watchdog(shop).limits(later))
    await move(shop, refund_id, RefundStatus.APPROVED, later)

    async def stale_search(self: RefundRepository, *args: Any, **kwargs: Any) -> list[StuckStage]:
        return found if kwargs.get("after_id", 0) == 0 else []

    monkeypatch.setattr(RefundRepository, "stuck", stale_search)
    assert await watchdog(shop).sweep(later) == 0
    assert await escalations(shop) == []


async def test_each_sweep_logs_one_line_with_its_counts(
    shop: AppDeps, caplog: pytest.LogCaptureFixture
) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)
    await open_refund(shop, "SO-9", status=RefundStatus.PENDING_REVIEW)  # Bo: agents only

    with caplog.at_level(logging.INFO, logger="bot.services.refunds.watchdog"):
        await watchdog(shop).sweep(NOW + timedelta(days=2))
        await watchdog(shop).sweep(NOW + timedelta(days=2))

    assert [record.getMessage() for record in caplog.records] == [
        "watchdog sweep: stuck=2 escalated=2 skipped=0 errors=0 messages=3",
        "watchdog sweep: stuck=0 escalated=0 skipped=0 errors=0 messages=0",
    ]
