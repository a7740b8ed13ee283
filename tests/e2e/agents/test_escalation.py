"""Escalation: in words (en, zh), by the policy (an approval), and what the customer hears."""

from __future__ import annotations

import pytest

from storage.enums import HandoffState, TicketReason, TicketStatus
from tests.e2e.agents.conftest import Desk, handoffs, tickets, topics
from tests.e2e.cancellation.chat import to_reason
from tests.e2e.cancellation.conftest import Scenario, item


@pytest.mark.parametrize(("said", "lang"), [("I want to talk to a human", "en"), ("转人工", "zh")])
async def test_asking_for_a_person_in_words_opens_one_topic_with_one_card(
    scenario: Scenario, desk: Desk, said: str, lang: str
) -> None:
    ann = scenario.customer("Ann Lee")
    order = scenario.order(ann, "SO-1000001", item("Kettle", "199.00", zh="水壶"))
    await scenario.load()
    chat = await scenario.link(ann, lang)
    await to_reason(chat, order)

    await chat.send(said)
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")

    await chat.expect_text(
        "person/ticket_opened", with_agents=True, position=1, opens_at=None, linked=True
    )
    topic = await desk.topic_for("Ann Lee")
    card = await desk.wait_card(topic)
    assert topic.name == "🆕 SO-1000001 · Ann Lee"
    assert "Case #" in card.text
    assert "SO-1000001" in card.text
    linked = chat.text("link/linked", name="Ann Lee").splitlines()[0]
    assert linked in card.text  # the bot's words as the customer read them, not their HTML
    assert "<b>" not in card.text
    assert desk.button("tk") in card.buttons()
    assert desk.button("cl") in card.buttons()
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.status) == (TicketReason.CUSTOMER_ASKED, TicketStatus.OPEN)
    assert len(await topics(scenario.deps)) == 1
    [handoff] = await handoffs(scenario.deps)
    assert handoff.state is HandoffState.NEW
    cards = [m for m in desk.group.chat.visible(topic.message_thread_id) if m.text.startswith("📋")]
    assert len(cards) == 1
