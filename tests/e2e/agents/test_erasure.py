"""Forgetting a customer who talked to the agents: their topic goes from the group (with
every copy of their messages), and nothing personal stays in the agents' tables."""

from __future__ import annotations

from sqlalchemy import select

from bot.erasure import forget_customer
from storage.models import AgentTopic, OutboxMessage
from tests.e2e.agents.conftest import Desk, relays
from tests.e2e.cancellation.conftest import Scenario, item
from tests.e2e.cancellation.test_erasure import everything, leaks

NAME = "Zora Quintana"


async def test_forgetting_deletes_the_topic_and_leaves_no_trace_with_the_agents(
    scenario: Scenario, desk: Desk
) -> None:
    customer = scenario.customer(NAME)
    scenario.order(customer, "SO-1000001", item("Kettle", "199.00", zh="水壶"))
    await scenario.load()
    chat = await scenario.link(customer)
    await chat.press("person")
    await chat.press("yes_person")
    topic = await desk.topic_for(NAME)
    in_topic = desk.alex.topic(topic)
    await chat.person.send("Deliver it to 7 Rue Zola instead")
    await in_topic.expect("7 Rue Zola")
    await in_topic.send("Noted, Zora.")
    await chat.person.expect("Noted, Zora.")
    thread = topic.message_thread_id

    result = await forget_customer(desk.deps, customer.id, requested_by="cli")
    desk.deps.outbox_signal.kick()

    assert not result.repeated
    await desk.fake.wait_for(lambda: thread not in desk.group.chat.topics)
    async with desk.deps.uow() as uow:
        [row] = (await uow.session.scalars(select(AgentTopic))).all()
        deletions = (
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "topic_delete")
            )
        ).all()
    assert (row.name, row.thread_id, row.chat_id < 0) == ("", None, True)
    assert len(deletions) == 1
    assert all(relay.source_chat_id != chat.chat_id for relay in await relays(desk.deps))
    needles = [NAME, "Zora", "Rue Zola", customer.phone or "-"]
    assert leaks(await everything(desk.deps), needles, {chat.chat_id}) == []
