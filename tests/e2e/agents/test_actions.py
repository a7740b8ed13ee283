"""Agent actions on the card and as commands: through the shared services, recorded,
exactly once, and refused to anyone who is not an agent."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.services.imports.records import CustomerRecord, OrderRecord
from storage.enums import (
    AgentActionKind,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestStatus,
    TicketReason,
    TicketStatus,
    VoucherKind,
)
from tests.api.support import MerchantClient
from tests.e2e.agents.conftest import ALEX, SAM, Desk, actions, tickets
from tests.e2e.cancellation.chat import Chat, give_reason, to_reason
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import order_row, refunds_for, requests_for, vouchers_of
from tests.support.fake_telegram import SentMessage, Topic


async def big_refund(
    scenario: Scenario, desk: Desk, name: str = "Ann Lee"
) -> tuple[Chat, OrderRecord, Topic, SentMessage]:
    """A paid order whose 500.01 refund needs an agent: the customer confirms, the case
    (NEEDS_APPROVAL) appears in a topic with Approve and Deny on its card."""
    ann = scenario.customer(name)
    order = scenario.order(ann, "SO-4000002", item("Espresso Machine", "490.01", zh="咖啡机"))
    await scenario.load()
    chat = await scenario.link(ann)
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.press("no_thanks_cancel")
    await chat.press("confirm")
    topic = await desk.topic_for(name)
    card = await desk.fake.wait_for(
        lambda: (c := desk._card_or_none(topic)) and desk.button("ap") in c.buttons() and c
    )
    return chat, order, topic, card


async def test_an_approval_needed_by_the_policy_gets_one_topic_and_card_and_is_approved_once(
    scenario: Scenario, desk: Desk
) -> None:
    chat, order, topic, card = await big_refund(scenario, desk)
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.reason is TicketReason.NEEDS_APPROVAL
    assert len(desk.group.topics) == 1

    alex, sam = desk.alex.topic(topic), desk.sam.topic(topic)
    presses = await asyncio.gather(
        alex.press_in(card, desk.button("ap")), sam.press_in(card, desk.button("ap"))
    )
    answers = [
        await view.answer_to(press) for view, press in zip((alex, sam), presses, strict=True)
    ]

    texts = sorted(answer.text or "" for answer in answers)
    assert texts[0].startswith("Already done by ")
    assert texts[1] == "Approved."
    [refund] = await refunds_for(scenario.deps, order.number)
    approvals = [e for e in refund.events if e.to_status is RefundStatus.APPROVED]
    assert len(approvals) == 1
    assert approvals[0].actor in (f"agent:{ALEX}", f"agent:{SAM}")
    [approve] = [a for a in await actions(scenario.deps) if a.action is AgentActionKind.APPROVE]
    assert f"agent:{approve.agent_id}" == approvals[0].actor
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.CANCELLED
    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.APPROVED
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.status is TicketStatus.CLOSED  # the approval settled what it was for
    await chat.expect("is approved")
    await desk.fake.wait_for(lambda: desk.button("ap") not in desk.card(topic).buttons())


async def test_an_outsider_changes_nothing_by_button_or_command(
    scenario: Scenario, desk: Desk
) -> None:
    chat, order, topic, card = await big_refund(scenario, desk)
    olga = desk.olga.topic(topic)  # in the group, not one of AGENT_IDS

    press = await olga.press_in(card, desk.button("ap"))
    answer = await olga.answer_to(press)
    await olga.send("/approve")
    desk.group.remove(SAM)  # a former member, pressing an old card
    sam = desk.sam.topic(topic)
    sam_answer = await sam.answer_to(await sam.press_in(card, desk.button("cl")))
    await olga.send("Hi, I am not from support")
    await desk.alex.topic(topic).send("# nothing for the customer")
    await desk.fake.wait_for(lambda: desk.fake.calls_to("getChatMember"))

    assert answer.text == desk.agent_text("agent/plain/answer", kind="outsider")
    assert answer.show_alert
    assert sam_answer.text == answer.text
    [refund] = await refunds_for(scenario.deps, order.number)
    assert refund.status is RefundStatus.PENDING_REVIEW
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.PAID
    assert await actions(scenario.deps) == []
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.status is TicketStatus.OPEN
    assert "not from support" not in [m.text for m in chat.person.inbox]


async def test_deny_asks_for_the_reason_the_customer_reads(scenario: Scenario, desk: Desk) -> None:
    chat, order, topic, card = await big_refund(scenario, desk)
    alex = desk.alex.topic(topic)

    press = await alex.press_in(card, desk.button("dn"))
    asked = await alex.answer_to(press)
    await alex.send("The machine was already used.")

    assert asked.text == desk.agent_text("agent/plain/answer", kind="ask", action="dn")
    await chat.expect("The machine was already used.")
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.status, refund.events[-1].actor) == (RefundStatus.REJECTED, f"agent:{ALEX}")
    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.DENIED
    [deny] = await actions(scenario.deps)
    assert (deny.action, deny.agent_id, deny.note) == (
        AgentActionKind.DENY,
        ALEX,
        "The machine was already used.",
    )
    await alex.expect("Alex declined refund")


async def test_a_merchant_api_approval_closes_the_ticket_too(
    scenario: Scenario, desk: Desk, api: MerchantClient
) -> None:
    chat, order, topic, _ = await big_refund(scenario, desk)
    [refund] = await refunds_for(scenario.deps, order.number)

    reply = await api.post(
        f"/api/v1/refunds/{refund.id}/events",
        {"event_id": "m-1", "status": "approved", "occurred_at": "2026-11-23T12:00:00+08:00"},
    )

    assert reply.status == 201, reply.body
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.status is TicketStatus.CLOSED
    await desk.fake.wait_for(lambda: topic.name.startswith("✅"))


async def test_partial_refund_and_voucher_by_command_and_button(
    scenario: Scenario, desk: Desk
) -> None:
    ann = scenario.customer("Ann Lee")
    order = scenario.order(ann, "SO-4000003", item("Kettle", "199.00", zh="水壶"))
    await scenario.load()
    chat = await scenario.link(ann)
    await to_reason(chat, order)
    await chat.send("I want a human")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")
    topic = await desk.topic_for("Ann Lee")
    card = await desk.wait_card(topic)
    alex = desk.alex.topic(topic)

    await alex.send("/partial 209.01")  # paid 209.00 with shipping
    await alex.expect("that amount cannot be used")
    await alex.send("/partial 50.00")
    await chat.expect("is approved")
    await alex.press_in(card, desk.button("vc"))
    await alex.send("30")
    voucher_message = await chat.expect("voucher of")

    [partial] = await refunds_for(scenario.deps, order.number)
    assert (partial.amount, partial.status, partial.method) == (
        Decimal("50.00"),
        RefundStatus.APPROVED,
        PaymentMethod.CARD,
    )
    assert partial.events[0].actor == f"agent:{ALEX}"
    [voucher] = await vouchers_of(scenario.deps, chat.customer)
    assert (voucher.kind, voucher.amount) == (VoucherKind.COMPENSATION, Decimal("30.00"))
    assert voucher.code in voucher_message.text
    kinds = [a.action for a in await actions(scenario.deps)]
    assert kinds == [AgentActionKind.PARTIAL_REFUND, AgentActionKind.VOUCHER]
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.PAID


async def test_mark_transfer_paid_for_cash_on_delivery(scenario: Scenario, desk: Desk) -> None:
    ann: CustomerRecord = scenario.customer("Ann Lee")
    order = scenario.order(
        ann,
        "SO-4000009",
        item("Desk Lamp", "120.00", zh="台灯", category="home"),
        status="delivered",
        payment="cash_on_delivery",
        delivered=ago(days=3),
    )
    await scenario.load()
    chat = await scenario.link(ann)
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.press("condition", "unopened")
    await chat.press("no_thanks_cancel")
    await chat.press("confirm")
    topic = await desk.topic_for("Ann Lee")
    card = await desk.fake.wait_for(
        lambda: (c := desk._card_or_none(topic)) and desk.button("tp") in c.buttons() and c
    )

    alex = desk.alex.topic(topic)
    answer = await alex.answer_to(await alex.press_in(card, desk.button("tp")))

    assert answer.text == "Marked paid."
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.status) == (PaymentMethod.BANK_TRANSFER, RefundStatus.REFUNDED)
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.status) == (TicketReason.COMPLETE_TRANSFER, TicketStatus.CLOSED)
    await chat.expect("is refunded")
