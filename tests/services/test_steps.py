"""The cancellation's step model: each action is one call that returns the next step, and
where the customer stands within a step is kept on the case, so a restart (a new unit of
work, no FSM) resumes exactly there; queries write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from bot.services.cancellation.cases import CaseUnavailable
from bot.services.cancellation.review import Review, Step
from bot.services.linking.identity import Identity, Sender
from bot.wiring import AppDeps
from storage.enums import CaseStage, OfferStatus, ReasonCode
from storage.models import Offer, SupportCase
from storage.uow import UpdateUnitOfWork
from tests.api.support import customer, item, link, load, order

ANN, BO = 9101, 9102


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001): SO-1 delivered with a T-shirt and a mug (items to choose), SO-2 paid."""
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1", "C001", item("TS", "99.00"), item("MUG", "40.00"), status="delivered"),
            order("SO-2", "C001", item("KETTLE", "199.00", category="home")),
        ],
    )
    await link(deps, "C001", ANN)
    await link(deps, "C002", BO)
    return deps


async def who(deps: AppDeps, user_id: int) -> Identity:
    async with deps.uow() as uow:
        return await deps.services(uow).identity.resolve(Sender(user_id=user_id, chat_id=user_id))


async def order_id(deps: AppDeps, number: str) -> int:
    async with deps.uow() as uow:
        found = await uow.orders.by_number(number)
        assert found is not None
        return found.id


async def start(deps: AppDeps, ann: Identity, number: str) -> tuple[int, Review]:
    """A case on `number`: started and the order chosen, each in its own unit of work."""
    async with deps.uow() as uow:
        case_id = await deps.services(uow).cases.start(ann)
    async with deps.uow() as uow:
        chosen = await deps.services(uow).steps.choose(ann, case_id, await order_id(deps, number))
    assert chosen.next is not None
    return case_id, chosen.next


async def stage_of(deps: AppDeps, case_id: int) -> CaseStage | None:
    async with deps.uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        return case.stage


async def offers_shown(deps: AppDeps, case_id: int) -> list[tuple[int, OfferStatus]]:
    async with deps.uow() as uow:
        rows = await uow.session.execute(
            select(Offer.id, Offer.status).where(Offer.case_id == case_id).order_by(Offer.id)
        )
        return [(row.id, row.status) for row in rows]


async def test_the_items_stay_open_until_continue_even_after_a_restart(shop: AppDeps) -> None:
    ann = await who(shop, ANN)
    case_id, step = await start(shop, ann, "SO-1")
    assert step.step is Step.ITEMS
    assert step.selection is not None
    first_item = next(iter(step.selection.quantities))

    async with shop.uow() as uow:
        selection = await shop.services(uow).steps.step_item(ann, case_id, first_item)
    assert selection.quantities[first_item] == 1
    assert await stage_of(shop, case_id) is CaseStage.ITEMS

    async with shop.uow() as uow:  # a restart: nothing but the case says where Ann is
        resumed = await shop.services(uow).steps.resume(ann, case_id)
    assert resumed.step is Step.ITEMS  # a complete choice, but Continue was not pressed
    assert resumed.selection is not None
    assert resumed.selection.quantities[first_item] == 1

    async with shop.uow() as uow:
        after = await shop.services(uow).steps.items_done(ann, case_id)
    assert after.step is Step.REASON
    assert await stage_of(shop, case_id) is None


async def test_other_waits_for_their_words_across_a_restart(shop: AppDeps) -> None:
    ann = await who(shop, ANN)
    case_id, step = await start(shop, ann, "SO-2")
    assert step.step is Step.REASON

    async with shop.uow() as uow:
        words = await shop.services(uow).steps.other_reason(ann, case_id)
    assert words.step is Step.REASON_WORDS
    async with shop.uow() as uow:
        assert (await shop.services(uow).steps.resume(ann, case_id)).step is Step.REASON_WORDS

    async with shop.uow() as uow:
        after = await shop.services(uow).steps.reason(
            ann, case_id, ReasonCode.OTHER, "I ordered it twice"
        )
    assert after.step in (Step.DECISION, Step.METHOD, Step.CONFIRM)
    async with shop.uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        assert (case.reason_code, case.reason_text) == (ReasonCode.OTHER, "I ordered it twice")


async def test_past_the_offers_a_restart_resumes_at_the_refund_and_back_shows_the_same_offers(
    shop: AppDeps,
) -> None:
    ann = await who(shop, ANN)
    case_id, _ = await start(shop, ann, "SO-2")
    async with shop.uow() as uow:
        decision = await shop.services(uow).steps.reason(ann, case_id, ReasonCode.CHANGED_MIND)
    assert decision.step is Step.DECISION
    assert decision.decision is not None
    assert decision.decision.eligible
    assert decision.offers, "changing one's mind about a paid order gets an offer"
    shown = await offers_shown(shop, case_id)

    async with shop.uow() as uow:
        refund = await shop.services(uow).steps.decline_offers(ann, case_id)
    assert refund.step in (Step.METHOD, Step.CONFIRM)
    assert not refund.with_decision  # the decision was on screen already
    async with shop.uow() as uow:
        assert (await shop.services(uow).steps.resume(ann, case_id)).step is refund.step

    async with shop.uow() as uow:
        back = await shop.services(uow).steps.back_to_offers(ann, case_id)
    assert back.step is Step.DECISION
    assert [offer.id for offer in back.offers] == [offer.id for offer in decision.offers]
    assert await offers_shown(shop, case_id) == shown  # shown again, not recorded again


async def test_the_queries_write_nothing(shop: AppDeps) -> None:
    ann = await who(shop, ANN)
    case_id, _ = await start(shop, ann, "SO-2")
    async with shop.uow() as uow:
        await shop.services(uow).steps.reason(ann, case_id, ReasonCode.CHANGED_MIND)

    async def snapshot() -> tuple[object, ...]:
        async with shop.uow() as uow:
            case = await uow.cases.get(case_id)
            assert case is not None
            offers = await uow.session.scalar(select(func.count(Offer.id)))
            return (case.updated_at, case.stage, case.decision, offers)

    before = await snapshot()
    async with shop.uow() as uow:
        peeked = await shop.services(uow).steps.peek(ann, case_id)
        refused = await shop.services(uow).steps.refused(ann, case_id)
    assert peeked.step is Step.DECISION
    assert refused is False  # an eligible decision
    assert await snapshot() == before


async def test_someone_elses_case_is_not_moved(shop: AppDeps) -> None:
    ann, bo = await who(shop, ANN), await who(shop, BO)
    case_id, _ = await start(shop, ann, "SO-2")
    async with shop.uow() as uow:
        with pytest.raises(CaseUnavailable):
            await shop.services(uow).steps.reason(bo, case_id, ReasonCode.MISTAKE)
    async with shop.uow() as uow:
        case = await uow.session.get(SupportCase, case_id)
        assert case is not None
        assert case.reason_code is None


async def test_a_step_writes_the_case_once_with_its_decision(shop: AppDeps) -> None:
    """The reason and its decision, then "No thanks" and the refund stage: one UPDATE of
    the case each (the policy's reads in between do not flush it half-done). The case's
    first offers have none shown before them to expire: no UPDATE of offers."""
    ann = await who(shop, ANN)
    case_id, _ = await start(shop, ann, "SO-2")
    updates: list[str] = []
    offer_updates: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE support_cases"):
            updates.append(statement)
        elif statement.startswith("UPDATE offers"):
            offer_updates.append(statement)

    event.listen(shop.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with shop.uow() as uow:
            decision = await shop.services(uow).steps.reason(ann, case_id, ReasonCode.CHANGED_MIND)
        assert decision.step is Step.DECISION
        assert decision.offers
        assert len(updates) == 1
        assert "decision" in updates[0]
        assert offer_updates == []
        async with shop.uow() as uow:
            refund = await shop.services(uow).steps.decline_offers(ann, case_id)
        assert refund.step in (Step.METHOD, Step.CONFIRM)
        assert len(updates) == 2
    finally:
        event.remove(shop.engine.sync_engine, "before_cursor_execute", count)
    async with shop.uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        assert (case.reason_code, case.stage) == (ReasonCode.CHANGED_MIND, CaseStage.REFUND)
        assert case.decision is not None
        assert case.decision["eligible"] is True


async def test_listing_the_orders_after_opening_a_case_needs_no_savepoint(shop: AppDeps) -> None:
    """/cancel_order opens a case, then lists the orders, in one update: the listing only
    reads, so it takes no savepoint in the update's transaction (two statements saved)."""
    ann = await who(shop, ANN)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(shop.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with UpdateUnitOfWork(shop.session_factory) as uow:
            services = shop.services(uow)
            await services.cases.start(ann)
            page = await services.cases.orders(ann)
            await uow.commit()
    finally:
        event.remove(shop.engine.sync_engine, "before_cursor_execute", record)
    assert sorted(view.number for view in page.orders) == ["SO-1", "SO-2"]
    assert not [s for s in statements if "SAVEPOINT" in s]
    async with shop.uow() as uow:
        assert await uow.session.scalar(select(func.count(SupportCase.id))) == 1
