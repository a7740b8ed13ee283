"""The two-way relay: customer → topic and agent → customer by copyMessage through the
outbox; notes stay in the group; edits are mirrored; a blocked customer is shown."""

from __future__ import annotations

from storage.enums import HandoffState, RelayDirection
from tests.e2e.agents.conftest import Desk, handoffs, relays
from tests.e2e.agents.helpers import customer_with_agents
from tests.e2e.cancellation.conftest import Scenario
from tests.e2e.conftest import stop_bot


async def test_text_and_photos_go_both_ways_without_naming_the_agent(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)

    await chat.person.send("My kettle leaks")
    await in_topic.expect("My kettle leaks")
    await chat.person.send_photo(caption="the base")
    photo = await in_topic.expect("the base")
    assert photo.kind == "photo"

    await in_topic.send("Sorry to hear that! Could you send the order box too?")
    reply = await chat.person.expect("Sorry to hear that!")
    assert "Alex" not in reply.text
    assert reply.payload["from"]["is_bot"] is True  # copied by the bot, the agent hidden
    await in_topic.send_photo(caption="like this one")
    agent_photo = await chat.person.expect("like this one")
    assert agent_photo.kind == "photo"

    await desk.fake.wait_for(lambda: topic.name.startswith("⏳"))
    await stop_bot(desk.server)  # what the notifier recorded after its last send is stored
    assert len(desk.fake.calls_to("copyMessage")) == 4
    directions = [relay.direction for relay in await relays(scenario.deps)]
    assert directions == [RelayDirection.TO_AGENTS] * 2 + [RelayDirection.TO_CUSTOMER] * 2
    assert all(relay.copy_message_id for relay in await relays(scenario.deps))
    [handoff] = await handoffs(scenario.deps)
    assert (handoff.state, handoff.taken_by) == (HandoffState.WAITING, desk.alex.id)


async def test_notes_stay_in_the_group(scenario: Scenario, desk: Desk) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)

    await in_topic.send("// she ordered twice last week")
    await in_topic.send("# check the courier")
    await in_topic.send("Hello Ann!")

    await chat.person.expect("Hello Ann!")
    texts = [message.text for message in chat.person.inbox]
    assert not any("ordered twice" in text or "courier" in text for text in texts)
    assert [r.direction for r in await relays(scenario.deps)] == [RelayDirection.TO_CUSTOMER]


async def test_documents_voice_and_albums_reach_the_topic(scenario: Scenario, desk: Desk) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)

    await chat.person.send_document("invoice.pdf", caption="my invoice")
    await chat.person.send_voice()
    await chat.person.send_album(3, caption="three sides")

    await in_topic.expect("my invoice")
    # In arrival order on one process; aiogram's Redis lock (REDIS_URL) does not keep it.
    await desk.fake.wait_for(
        lambda: (
            sorted(m.kind for m in desk.group.chat.visible(topic.message_thread_id)[-5:])
            == ["document", "photo", "photo", "photo", "voice"]
        )
    )
    # Parts queued together are copied together (copyMessages keeps them an album); one
    # that arrives after the first copy went out follows on its own. None is lost.
    copies = desk.fake.calls_to("copyMessage") + desk.fake.calls_to("copyMessages")
    assert sum(len(c.params.get("message_ids", [c.params.get("message_id")])) for c in copies) == 5
    assert len(await relays(scenario.deps)) == 5


async def test_edits_are_mirrored_both_ways(scenario: Scenario, desk: Desk) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)
    mine = await chat.person.send("It arrived on Monday")
    copy = await in_topic.expect("It arrived on Monday")
    theirs = await in_topic.send("Thanks, noted for Monday")
    answer = await chat.person.expect("Thanks, noted for Monday")

    await chat.person.edit(mine, "It arrived on Tuesday")
    await in_topic.send("# waiting for the edit")  # a note, so nothing else is relayed
    await desk.fake.wait_for(lambda: copy.text == "It arrived on Tuesday")
    await in_topic.edit(theirs, "Thanks, noted for Tuesday")
    await desk.fake.wait_for(lambda: answer.text == "Thanks, noted for Tuesday")
    assert copy.edited
    assert answer.edited


async def test_a_customer_who_blocked_the_bot_is_shown_in_the_topic(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)
    desk.fake.block(chat.person.id)

    await in_topic.send("Are you still there?")

    await in_topic.expect("blocked the bot")


async def test_an_alias_signs_the_agents_messages_and_their_edits(
    scenario: Scenario, desk: Desk
) -> None:
    chat, topic = await customer_with_agents(scenario, desk)
    in_topic = desk.alex.topic(topic)

    await in_topic.send("/alias Anna from support")
    await in_topic.expect("signed “Anna from support”")
    mine = await in_topic.send("Let me <check> that & come back")
    signed = await chat.person.expect("Let me <check> that & come back")
    await in_topic.edit(mine, "Checked: it ships today")
    await desk.fake.wait_for(lambda: "Checked: it ships today" in signed.text)

    assert signed.text.startswith("Anna from support\n")
    assert "Alex" not in signed.text
    assert signed.text == "Anna from support\nChecked: it ships today"
