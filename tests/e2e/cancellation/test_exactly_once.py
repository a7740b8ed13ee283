"""Buttons pressed twice, old buttons and forged callback data: one cancellation, one
refund and one receipt at most, and nothing at all for someone else's order or case."""

from __future__ import annotations

from typing import Any

from bot.services.imports.records import CustomerRecord, OrderRecord
from dialogs.callbacks import (
    AnswerOffer,
    AnswerSummary,
    ConfirmGuess,
    PickOrder,
    SummaryAction,
)
from storage.enums import CaseStatus, OrderStatus
from tests.e2e.cancellation.chat import (
    Chat,
    confirm,
    give_reason,
    option,
    shown,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import (
    Scenario,
    item,
    settle,
)
from tests.e2e.cancellation.rows import (
    cases_of,
    offers_for,
    order_row,
    outbox_of,
    refunds_for,
    requests_for,
    snapshot,
)
from tests.support.fake_telegram import SentMessage


def lamp_order(
    scenario: Scenario, customer: CustomerRecord, number: str = "SO-9500001"
) -> OrderRecord:
    return scenario.order(customer, number, item("Desk Lamp", "120.00", zh="台灯"))


def receipt_context(order: OrderRecord) -> dict[str, Any]:
    """The receipt of a 130.00 refund to the card."""
    card = option("card", "130.00")
    return {
        "order_number": order.number,
        "kind": "cancel",
        "refund": card.amount,
        "method": "card",
        "approved": True,
        "return_required": False,
        "arrival": card.arrival,
        "voucher": None,
        "by_agent": False,
    }


async def to_summary(chat: Chat, order: OrderRecord) -> SentMessage:
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.expect_exactly(
        chat.decision(
            order,
            "before_shipping",
            lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
            refund="130.00",
            offers=[store_credit("130.00")],
        )
    )
    await chat.press("no_thanks_cancel")
    return await chat.expect_exactly(chat.summary(order, option("card", "130.00")))


async def test_confirm_pressed_twice_cancels_and_refunds_once(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = lamp_order(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)
    summary = await to_summary(chat, order)

    # A double tap: two callback queries with the same data, both sent before the first
    # is handled (the data is taken from the button, so the second tap cannot miss it).
    data = summary.button(chat.button("confirm"))["callback_data"]
    first = await chat.person.press_data(summary, data)
    second = await chat.person.press_data(summary, data)
    await chat.person.answer_to(first)
    assert await chat.alert(second) == chat.text("plain/stale_button")
    await chat.receipt("notify/cancellation_confirmed", **receipt_context(order))
    await settle(scenario.server)

    assert len(await requests_for(scenario.deps, order.number)) == 1
    [refund] = await refunds_for(scenario.deps, order.number)
    assert len(refund.events) == 1
    assert [row.template for row in await outbox_of(scenario.deps, chat.chat_id)] == [
        "notify/cancellation_confirmed"
    ]
    receipt = chat.text("notify/cancellation_confirmed", **receipt_context(order))
    delivered = 1 if scenario.server.notifier is not None else 0
    assert [m.text for m in chat.person.inbox].count(receipt) == delivered
    assert summary.inline_buttons() == []


async def test_an_old_button_after_confirming_changes_nothing(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = lamp_order(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)
    reasons = await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    decision = chat.person.last
    await chat.press("no_thanks_cancel")
    await confirm(chat)
    await chat.receipt("notify/cancellation_confirmed", **receipt_context(order))
    before = await snapshot(scenario.deps)

    for message, button in (
        (reasons, chat.button("reason", "defective")),
        (decision, chat.button("no_thanks_cancel")),
        (decision, store_credit_label(chat)),
    ):
        press = await chat.person.press_in(message, button)
        assert await chat.alert(press) == chat.text("plain/stale_button")

    assert await snapshot(scenario.deps) == before
    [request] = await requests_for(scenario.deps, order.number)
    assert request.reason_code == "changed_mind"


def store_credit_label(chat: Chat) -> str:
    credit = store_credit("130.00")
    return chat.button("offer", credit.type, credit.value, credit.params)


async def test_forged_data_naming_another_customers_order_is_refused(
    scenario: Scenario,
) -> None:
    ann, bob = scenario.customer("Ann Lee"), scenario.customer("Bob Chan")
    own = lamp_order(scenario, ann)
    bobs = lamp_order(scenario, bob, "SO-9500002")
    await scenario.load()
    chat = await scenario.link(ann)
    bob_id = (await order_row(scenario.deps, bobs.number)).id

    await chat.press("cancel_order")
    listing = await chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    before = await snapshot(scenario.deps)

    for forged in (
        PickOrder(case_id=case.id, order_id=bob_id),
        ConfirmGuess(case_id=case.id, order_id=bob_id, yes=True),
    ):
        press = await chat.person.press_data(listing, forged.pack())
        await chat.person.answer_to(press)
        await chat.expect_text("errors/order_not_found")

    assert await snapshot(scenario.deps) == before
    [still] = await cases_of(scenario.deps, chat.chat_id)
    assert (still.status, still.order_id) == (CaseStatus.OPEN, None)
    assert "SO-9500002" not in "".join(m.text for m in chat.person.inbox)
    # The real list still works.
    await chat.person.press(chat.order_button(own))
    await chat.expect_text("cancel/choose_reason", order=shown(own, chat.locale))


async def test_forged_data_naming_another_case_is_refused(scenario: Scenario) -> None:
    ann, bob = scenario.customer("Ann Lee"), scenario.customer("Bob Chan")
    own = lamp_order(scenario, ann)
    bobs = lamp_order(scenario, bob, "SO-9500002")
    await scenario.load()
    bob_chat = await scenario.link(bob)
    await to_summary(bob_chat, bobs)
    [bob_case] = await cases_of(scenario.deps, bob_chat.chat_id)
    [bob_offer] = await offers_for(scenario.deps, bobs.number)

    chat = await scenario.link(ann)
    summary = await to_summary(chat, own)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    before = await snapshot(scenario.deps)

    # Bob's case from Ann's chat: not the case this chat is working on.
    press = await chat.person.press_data(
        summary, AnswerSummary(case_id=bob_case.id, action=SummaryAction.CONFIRM).pack()
    )
    assert await chat.alert(press) == chat.text("plain/stale_button")
    # Ann's own case, naming Bob's offer: refused by the service.
    press = await chat.person.press_data(
        summary, AnswerOffer(case_id=case.id, offer_id=bob_offer.id).pack()
    )
    await chat.person.answer_to(press)
    await chat.expect_text("errors/case_closed")

    assert await snapshot(scenario.deps) == before
    assert (await order_row(scenario.deps, bobs.number)).status is OrderStatus.PAID
    assert (await order_row(scenario.deps, own.number)).status is OrderStatus.PAID
