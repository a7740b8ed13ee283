"""The agents' side under races, on separate connections (SQLite here, PostgreSQL with
TEST_DATABASE_URL): simultaneous first requests claim one topic; two agents approving at
once approve once, and the second is told who did."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.services.conversation.tickets import TicketService
from bot.services.domain.money import Money
from bot.services.handoff.agents import AgentCases, Result
from bot.services.handoff.customers import HandoffService
from bot.services.handoff.people import AgentRef
from bot.services.linking.identity import Identity, IdentityService, Sender
from bot.services.refunds.service import RefundLedger
from bot.wiring import AppDeps
from storage.enums import AgentActionKind, PaymentMethod, RefundStatus, TicketReason
from storage.models import (
    AgentAction,
    AgentDesk,
    AgentProfile,
    AgentTopic,
    Handoff,
    RefundEvent,
    Ticket,
)
from storage.uow import UpdateUnitOfWork
from tests.storage.helpers import add_all, make_customer, make_order

CHAT = 4242
GROUP = -1001234567890


async def _linked_customer(deps: AppDeps) -> tuple[Identity, int, int]:
    """A customer linked to Telegram account CHAT with one paid order; the desk ready."""
    customer = make_customer("C-RACE")
    order = make_order(customer, "SO-RACE-1", deps.clock.now() - timedelta(days=1))
    sender = Sender(user_id=CHAT, chat_id=CHAT, first_name="Ann")
    async with deps.uow() as uow:
        await add_all(uow, customer, order)
        await IdentityService(uow, deps.clock, "en").resolve(sender)  # the account first
        async with uow.transaction():
            linked = await uow.customers.get(customer.id)
            assert linked is not None
            linked.telegram_user_id = CHAT
        identity = await IdentityService(uow, deps.clock, "en").resolve(sender)
        await deps.services(uow).desk.record(GROUP, title="Agents", locale="en", problem=None)
    return identity, customer.id, order.id


async def _count(deps: AppDeps, model: type) -> int:
    async with deps.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def test_simultaneous_requests_for_a_person_claim_one_ticket_and_one_topic(
    deps: AppDeps,
) -> None:
    identity, _, _ = await _linked_customer(deps)

    async def ask() -> int:
        async with deps.uow() as uow:
            escalation = await HandoffService(uow, deps.clock, deps.service_config.policy).escalate(
                identity, TicketReason.CUSTOMER_ASKED
            )
        return escalation.ticket_id

    ids = await asyncio.gather(*(ask() for _ in range(4)))

    assert len(set(ids)) == 1
    assert await _count(deps, Ticket) == 1
    assert await _count(deps, AgentTopic) == 1
    assert await _count(deps, Handoff) == 1


async def test_two_agents_approving_at_once_approve_once_and_the_second_sees_who(
    deps: AppDeps,
) -> None:
    identity, customer_id, order_id = await _linked_customer(deps)
    async with deps.uow() as uow, uow.transaction():
        refund = RefundLedger(uow, deps.clock).open(
            order_id=order_id,
            customer_id=customer_id,
            amount=Money(Decimal("309.00"), "CNY"),
            method=PaymentMethod.CARD,
            status=RefundStatus.PENDING_REVIEW,
        )
        await TicketService(uow, deps.clock).stage(identity, TicketReason.NEEDS_APPROVAL)
        await uow.flush()
        refund_id = refund.id
    async with deps.uow() as uow:
        handoff_id = (await uow.session.scalars(select(Handoff.id))).one()
    alex, sam = AgentRef(3001, "Alex"), AgentRef(3002, "Sam")

    async def approve(agent: AgentRef) -> tuple[AgentRef, Result, str | None]:
        async with deps.uow() as uow:
            cases = AgentCases(uow, deps.clock, deps.service_config.policy, "en")
            result = await cases.approve(agent, handoff_id, refund_id)
        return agent, result.result, result.by

    results = await asyncio.gather(approve(alex), approve(sam))

    done = [agent for agent, result, _ in results if result is Result.DONE]
    assert len(done) == 1
    [(_, second, by)] = [(a, r, b) for a, r, b in results if r is not Result.DONE]
    assert (second, by) == (Result.ALREADY, done[0].name)
    async with deps.uow() as uow:
        approvals = (
            await uow.session.scalars(
                select(RefundEvent).where(RefundEvent.to_status == RefundStatus.APPROVED)
            )
        ).all()
        recorded = (await uow.session.scalars(select(AgentAction))).all()
    assert [event.actor for event in approvals] == [done[0].actor]
    assert [(a.action, a.agent_id) for a in recorded] == [
        (AgentActionKind.APPROVE, done[0].user_id)
    ]


async def test_workers_starting_together_record_the_desk_once_without_failing(
    deps: AppDeps,
) -> None:
    """Each worker records the desk's verdict at start. A second worker writing while the
    first one's row is not yet committed must not fail on the row's key (one that did
    exited at start); the last verdict stands."""

    async def record(problem: str | None) -> None:
        async with deps.uow() as uow:
            await deps.services(uow).desk.record(
                GROUP, title="Agents", locale="en", problem=problem
            )

    async with deps.uow() as first:
        async with first.transaction():
            await first.handoffs.save_desk(
                chat_id=GROUP,
                title="Agents",
                locale="en",
                ready=True,
                problem=None,
                at=deps.clock.now(),
            )
            await first.session.flush()
            second = asyncio.create_task(record("no rights"))
            await asyncio.sleep(0.2)  # the second reaches its write and waits for this one
        await second
    await asyncio.gather(*(record("no rights") for _ in range(3)))

    assert await _count(deps, AgentDesk) == 1
    async with deps.uow() as uow:
        desk = await uow.handoffs.desk()
        assert desk is not None
        assert (desk.ready, desk.problem) == (False, "no rights")
        await deps.services(uow).desk.record(GROUP, title="Agents", locale="en", problem=None)
        desk = await uow.handoffs.desk()  # the same session reads what it has just written
        assert desk is not None
        assert (desk.ready, desk.problem) == (True, None)


async def test_an_agent_seen_first_by_several_updates_at_once_gets_one_profile(
    deps: AppDeps,
) -> None:
    """A new agent's first updates (a message and a button at once) each find no profile
    when they read; each then adds it. The second must find the first's row, not fail on
    the primary key, and the name kept is the one each saw."""
    agent_id = 7_007

    async def seen(name: str) -> str:
        async with UpdateUnitOfWork(deps.session_factory) as uow:
            async with uow.transaction():
                profile = await uow.handoffs.seen_agent(agent_id, name, deps.clock.now())
            await uow.commit()
            return profile.name

    names = await asyncio.gather(*(seen("Ann") for _ in range(6)))

    assert names == ["Ann"] * 6
    async with deps.uow() as uow:
        profiles = await uow.session.scalars(
            select(AgentProfile).where(AgentProfile.agent_id == agent_id)
        )
        assert [profile.name for profile in profiles] == ["Ann"]
