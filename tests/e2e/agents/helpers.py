"""Walking a customer to the agents, as the tests need it again and again."""

from __future__ import annotations

from tests.e2e.agents.conftest import Desk
from tests.e2e.cancellation.chat import Chat
from tests.e2e.cancellation.conftest import Scenario, item
from tests.support.fake_telegram import Topic


async def customer_with_agents(
    scenario: Scenario, desk: Desk, name: str = "Ann Lee", *, number: str = "SO-1000001"
) -> tuple[Chat, Topic]:
    """A linked customer who asked for a person from the menu; their topic and card exist."""
    customer = scenario.customer(name)
    scenario.order(customer, number, item("Kettle", "199.00", zh="水壶"))
    await scenario.load()
    chat = await scenario.link(customer)
    await chat.press("person")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")
    await chat.expect("👤")
    topic = await desk.topic_for(name)
    await desk.wait_card(topic)
    return chat, topic
