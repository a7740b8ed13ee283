"""Exactly once, enforced by the database: concurrent confirmations make one cancellation.

Runs on SQLite here and on PostgreSQL in CI (TEST_DATABASE_URL), where the two
confirmations really race on separate connections.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from bot.services.cancellation.review import Step
from bot.services.cancellation.service import Outcome
from bot.services.linking.identity import Identity, Sender
from bot.wiring import AppDeps
from storage.enums import OrderStatus, ReasonCode
from storage.models import CancellationRequest, OutboxMessage, Refund, RefundEvent
from tests.conftest import NOW
from tests.storage.helpers import add_all, make_customer, make_order

ANN = 4242


async def _ready_case(deps: AppDeps, identity: Identity, order_id: int) -> int:
    """A case at its summary: order chosen, reason given, decision shown."""
    async with deps.uow() as uow:
        services = deps.services(uow)
        case_id = await services.cases.start(identity)
        await services.steps.choose(identity, case_id, order_id)
        review = await services.steps.reason(identity, case_id, ReasonCode.CHANGED_MIND)
    assert review.step in (Step.DECISION, Step.METHOD, Step.CONFIRM)  # the decision is made
    assert review.decision is not None
    assert review.decision.eligible
    return case_id


async def _shop(deps: AppDeps) -> tuple[Identity, int]:
    customer = make_customer("C-RACE", phone="+8613800009999")
    order = make_order(customer, "SO-7000001", NOW - timedelta(days=1), status=OrderStatus.PAID)
    async with deps.uow() as uow:
        await add_all(uow, customer, order)
        services = deps.services(uow)
        await services.identity.resolve(Sender(user_id=ANN, chat_id=ANN))
        await services.linking.link_by_contact(ANN, ANN, "+8613800009999")
        identity = await services.identity.resolve(Sender(user_id=ANN, chat_id=ANN))
    return identity, order.id


async def _confirm(deps: AppDeps, identity: Identity, case_id: int) -> Outcome:
    async with deps.uow() as uow:
        return (await deps.services(uow).cancellation.confirm(identity, case_id)).outcome


async def _counts(deps: AppDeps) -> tuple[int, int, int, int]:
    async with deps.uow() as uow:
        session = uow.session
        return (
            await session.scalar(select(func.count()).select_from(CancellationRequest)) or 0,
            await session.scalar(select(func.count()).select_from(Refund)) or 0,
            await session.scalar(select(func.count()).select_from(RefundEvent)) or 0,
            await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


async def test_two_concurrent_confirmations_of_one_case(deps: AppDeps) -> None:
    identity, order_id = await _shop(deps)
    case_id = await _ready_case(deps, identity, order_id)

    outcomes = await asyncio.gather(*(_confirm(deps, identity, case_id) for _ in range(2)))

    assert sorted(outcomes) == sorted([Outcome.DONE, Outcome.ALREADY_DONE])
    assert await _counts(deps) == (1, 1, 1, 1)


async def test_two_cases_for_one_order_confirmed_at_once(deps: AppDeps) -> None:
    """Two devices, two cases, the same order: the second finds it already under way."""
    identity, order_id = await _shop(deps)
    first = await _ready_case(deps, identity, order_id)
    # One chat has one open case, so the other device is another chat of the customer.
    async with deps.uow() as uow:
        await deps.services(uow).identity.resolve(Sender(user_id=ANN + 1, chat_id=ANN + 1))
    second_identity = replace(identity, user_id=ANN + 1, chat_id=ANN + 1)
    second = await _ready_case(deps, second_identity, order_id)

    outcomes = await asyncio.gather(
        _confirm(deps, identity, first), _confirm(deps, second_identity, second)
    )

    assert sorted(outcomes) == sorted([Outcome.DONE, Outcome.IN_PROGRESS])
    assert await _counts(deps) == (1, 1, 1, 1)


async def test_a_late_double_tap_changes_nothing(deps: AppDeps) -> None:
    identity, order_id = await _shop(deps)
    case_id = await _ready_case(deps, identity, order_id)
    assert await _confirm(deps, identity, case_id) is Outcome.DONE
    before = await _counts(deps)

    assert await _confirm(deps, identity, case_id) is Outcome.ALREADY_DONE
    assert await _counts(deps) == before
