"""A defective-item claim without a photo is never a dead end: the customer describes the
problem in words and a person checks it before the refund, or asks for a person."""

from __future__ import annotations

from decimal import Decimal

from bot.services.imports.records import OrderRecord
from storage.enums import RefundStatus, RequestStatus, TicketReason
from tests.e2e.cancellation.chat import (
    ARRIVAL,
    Chat,
    confirm,
    give_reason,
    money,
    option,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import cases_of, refunds_for, requests_for, tickets_of


async def lamp_said_defective(scenario: Scenario, lang: str) -> tuple[Chat, OrderRecord]:
    """A desk lamp delivered ten days ago, reported defective: a photo is required."""
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-7200001",
        item("Desk Lamp", "120.00", zh="台灯", category="home"),
        status="delivered",
        delivered=ago(days=10),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)
    await to_reason(chat, order)
    await give_reason(chat, "defective")
    ask = await chat.expect_text("cancel/ask_photo", required=True)
    assert ask.buttons() == [chat.button("no_photo"), chat.button("person")]
    return chat, order


def lamp_decision(chat: Chat, order: OrderRecord, *, checked_by_a_person: bool) -> str:
    return chat.decision(
        order,
        "delivered_defective",
        reason="defective",
        lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
        refund="130.00",
        returned=True,
        offers=[store_credit("130.00")],
        agent=checked_by_a_person,
        approval_reasons=["no_photo"] if checked_by_a_person else [],
    )


async def test_no_photo_the_problem_described_in_words_goes_to_a_person_to_check(
    scenario: Scenario, lang: str
) -> None:
    chat, order = await lamp_said_defective(scenario, lang)

    await chat.press("no_photo")
    await chat.expect_text("cancel/describe_without_photo")
    words = "it does not switch on at all" if lang == "en" else "完全打不开"
    await chat.send(words)
    decision = await chat.expect_exactly(lamp_decision(chat, order, checked_by_a_person=True))
    said = {"en": "Without a photo, a colleague checks", "zh": "没有照片，退款前需要同事核实"}
    assert said[lang] in decision.text
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(
        chat.summary(order, option("card", "130.00"), agent=True, returned=True)
    )
    await confirm(chat)

    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="return",
        refund=money("130.00"),
        method="card",
        approved=False,
        return_required=True,
        arrival=ARRIVAL["card"],
        voucher=None,
        by_agent=False,
    )
    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.PENDING_REVIEW
    assert (request.photo_file_id, request.reason_text) == (None, words)
    assert request.decision is not None
    assert request.decision["approval_reasons"] == ["no_photo"]
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.amount, refund.status) == (Decimal("130.00"), RefundStatus.PENDING_REVIEW)
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.case_id) == (TicketReason.NEEDS_APPROVAL, request.case_id)


async def test_a_photo_found_after_all_is_taken_and_approved_as_usual(scenario: Scenario) -> None:
    chat, order = await lamp_said_defective(scenario, "en")
    await chat.press("no_photo")
    await chat.expect_text("cancel/describe_without_photo")
    await chat.person.send_photo()
    await chat.expect_text("cancel/photo_received")
    await chat.expect_exactly(lamp_decision(chat, order, checked_by_a_person=False))


async def test_no_photo_and_a_person_asked_for_opens_a_ticket(
    scenario: Scenario, lang: str
) -> None:
    chat, _ = await lamp_said_defective(scenario, lang)
    await chat.press("person")
    await chat.expect_text("person/ticket_opened")
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.case_id) == (TicketReason.CUSTOMER_ASKED, case.id)


async def test_the_photo_step_still_says_what_it_wants_with_the_ways_on_above(
    scenario: Scenario,
) -> None:
    chat, order = await lamp_said_defective(scenario, "en")
    await chat.send("I don't have one")
    hint = await chat.expect_text("cancel/photo_expected")
    assert hint.buttons() == [chat.button("no_photo"), chat.button("person")]  # again
    await chat.press("no_photo")
    await chat.expect_text("cancel/describe_without_photo")
    await chat.send("the switch is broken")
    await chat.expect_exactly(lamp_decision(chat, order, checked_by_a_person=True))
