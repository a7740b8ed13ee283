"""One topic per customer: claimed once, recovered when an agent deletes or closes it,
closed with its case and reopened for the next one; Close hands back and asks the survey;
a case nobody takes is announced again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.enums import HandoffState, TicketStatus
from tests.e2e.agents.conftest import Desk, handoffs, tickets, topics
from tests.e2e.agents.helpers import customer_with_agents
from tests.e2e.cancellation.conftest import Scenario, item


async def test_a_double_tap_on_yes_makes_one_ticket_and_one_topic(
    scenario: Scenario, desk: Desk
) -> None:
    ann = scenario.customer("Ann Lee")
    scenario.order(ann, "SO-1000001", item("Kettle", "199.00"))
    await scenario.load()
    chat = await scenario.link(ann)
    await chat.press("person")
    offer = await chat.expect_text("person/offer", misunderstood=False)

    presses = await asyncio.gather(
        chat.person.press_in(offer, chat.button("yes_person")),
        chat.person.press_in(offer, chat.button("yes_person")),
    )
    for press in presses:
        await chat.person.answer_to(press)
    await chat.person.send("hello?")
    topic = await desk.topic_for("Ann Lee")
    await desk.alex.topic(topic).expect("hello?")

    assert len(desk.group.topics) == 1
    assert len(desk.fake.calls_to("createForumTopic")) == 1
    assert len(await tickets(scenario.deps, chat.chat_id)) == 1
    assert len(await topics(scenario.deps)) == 1


async def test_a_deleted_topic_is_replaced_with_the_card_a_digest_and_nothing_lost(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    await chat.person.send("first, before the delete")
    await desk.alex.topic(topic).expect("first, before the delete")

    desk.alex.delete_topic(topic)
    await chat.person.send("second: is anyone there?")
    await chat.person.send("third: hello??")

    await desk.fake.wait_for(lambda: len(desk.group.topics) == 1 and desk.group.topics[0] != topic)
    new = desk.group.topics[0]
    view = desk.alex.topic(new)
    card = await view.expect("Case #")
    digest = await view.expect("the case continues here")
    await view.expect("second: is anyone there?")
    await view.expect("third: hello??")
    assert card.message_id < digest.message_id
    assert "first, before the delete" in digest.text
    assert new.name == topic.name
    [stored] = await topics(scenario.deps)
    assert (stored.thread_id, stored.created_count) == (new.message_thread_id, 2)

    await view.send("Yes, I am here")
    await chat.person.expect("Yes, I am here")


async def test_a_topic_closed_by_an_agent_is_replaced_on_the_next_message(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    await desk.alex.close_topic(topic)

    await chat.person.send("still waiting")

    await desk.fake.wait_for(lambda: len(desk.group.topics) == 2)
    await desk.alex.topic(desk.group.topics[-1]).expect("still waiting")


async def test_close_hands_back_asks_the_survey_and_a_later_case_reopens_the_topic(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    alex = desk.alex.topic(topic)
    await alex.send("Your refund is on its way.")
    await chat.person.expect("Your refund is on its way.")

    await alex.send("/close")

    await chat.expect_text("person/handed_back")
    survey = await chat.expect_text("notify/survey", order_number=None, rating=None)
    assert len(survey.buttons()) == 5
    await desk.fake.wait_for(lambda: topic.closed and topic.name.startswith("✅"))
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.status is TicketStatus.CLOSED
    await alex.expect("closed the case")

    await chat.person.send("/help")  # the bot answers again: the flows are back
    await chat.expect_text("help/help", linked=True)
    await chat.press("person")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")
    await desk.fake.wait_for(lambda: not topic.closed and topic.name.startswith("🆕"))
    assert len(desk.group.topics) == 1
    assert [h.state for h in await handoffs(scenario.deps)] == [
        HandoffState.CLOSED,
        HandoffState.NEW,
    ]


async def test_leaving_with_cancel_tells_the_agents(scenario: Scenario, desk: Desk) -> None:
    chat, topic = await customer_with_agents(scenario, desk)

    await chat.send("/cancel")

    await chat.expect_text("person/left")
    await desk.alex.topic(topic).expect("went back to the bot")
    [ticket] = await tickets(scenario.deps, chat.chat_id)
    assert ticket.status is TicketStatus.CLOSED


async def test_status_still_works_and_other_commands_are_explained(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)

    await chat.send("/start")
    await chat.expect_text("person/with_agents")
    await chat.send("/status")
    await chat.expect("SO-1000001")
    assert "/start" not in [m.text for m in desk.alex.topic(topic).inbox]


async def test_a_case_nobody_takes_is_announced_again_once(scenario: Scenario, desk: Desk) -> None:
    _chat, topic = await customer_with_agents(scenario, desk)
    sweep = desk.server.agent_desk
    assert sweep is not None

    assert await sweep.sweep_once() == 0  # not 15 minutes yet
    desk.server.deps.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    assert await sweep.sweep_once() == 1
    assert await sweep.sweep_once() == 0  # once

    general = desk.alex.in_group()
    announced = await general.expect("Nobody has taken case")
    assert announced.message_thread_id is None
    assert f"/{topic.message_thread_id}" in announced.text  # links to the topic
