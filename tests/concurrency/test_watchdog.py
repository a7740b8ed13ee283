"""Two watchdogs sweeping at once escalate each stuck refund once.

Runs on SQLite here and on PostgreSQL in CI (TEST_DATABASE_URL), where the sweeps
really race on separate connections: the refund row lock and the unique marker per
stay in a status keep it to one marker and one message each to the customer and agents.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.services.refunds.watchdog import OverdueWatchdog, SweepReport
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from storage.models import OutboxMessage, RefundEscalation
from storage.repositories.refunds import StuckStage
from tests.api.support import customer, item, link, load, open_refund, order
from tests.conftest import NOW

AGENTS = -100_777
STUCK = ("SO-1", "SO-2", "SO-3")
SWEEPERS = 4


async def _shop(deps: AppDeps) -> None:
    await load(
        deps,
        customers=[customer("C001")],
        orders=[order(number, "C001", item(f"SKU-{number}", "99.00")) for number in STUCK],
    )
    await link(deps, "C001", 9001)
    for number in STUCK:
        await open_refund(deps, number, status=RefundStatus.PENDING_REVIEW)


def _watchdog(deps: AppDeps) -> OverdueWatchdog:
    """Each sweep opens its own sessions, as a second process would."""
    return OverdueWatchdog(
        deps.uow, deps.service_config.policy, default_locale="en", agent_chat_id=AGENTS
    )


async def test_concurrent_sweeps_escalate_each_refund_once(
    deps: AppDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _shop(deps)
    later = NOW + timedelta(days=2)
    # Every sweeper has found all the stuck refunds before any escalates one (on SQLite
    # the searches would otherwise queue behind the first sweep's write lock).
    everyone_searched = asyncio.Barrier(SWEEPERS)
    escalate_one = OverdueWatchdog._escalate_one
    waited: set[int] = set()

    async def after_every_search(
        self: OverdueWatchdog, stage: StuckStage, now: datetime, report: SweepReport
    ) -> None:
        if id(self) not in waited:
            waited.add(id(self))
            await everyone_searched.wait()
        await escalate_one(self, stage, now, report)

    monkeypatch.setattr(OverdueWatchdog, "_escalate_one", after_every_search)

    escalated = await asyncio.gather(*(_watchdog(deps).sweep(later) for _ in range(SWEEPERS)))

    assert sum(escalated) == len(STUCK)
    async with deps.uow() as uow:
        markers = await uow.session.scalar(select(func.count()).select_from(RefundEscalation))
        chats = Counter((await uow.session.scalars(select(OutboxMessage.chat_id))).all())
    assert markers == len(STUCK)
    assert chats == {9001: len(STUCK), AGENTS: len(STUCK)}
