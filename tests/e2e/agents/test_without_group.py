"""Without a usable agents' group the bot never promises a reply: the ticket is stored,
the customer is told how the shop follows up, `cancelbot tickets` lists it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps
from storage.enums import TicketReason, TicketStatus
from tests.api.test_cli import cancelbot
from tests.e2e.agents.conftest import (
    GROUP_ID,
    WORKING_HOURS,
    agent_settings,
    start_agent_bot,
    tickets,
    topics,
)
from tests.e2e.cancellation.conftest import Scenario, item
from tests.e2e.conftest import stop_bot
from tests.support.fake_telegram import FakeTelegram


@pytest.fixture
async def bot(
    deps: AppDeps, settings: Settings, fake: FakeTelegram, clock: FixedClock
) -> AsyncIterator[BotServer]:
    """No AGENT_CHAT_ID at all."""
    clock.set(WORKING_HOURS)
    server = await start_agent_bot(agent_settings(settings, fake, agent_chat_id=None), fake, clock)
    yield server
    await stop_bot(server)


@pytest.fixture
def scenario(deps: AppDeps, fake: FakeTelegram, bot: BotServer) -> Scenario:
    return Scenario(deps, fake, bot)


@pytest.mark.slow  # a whole process of its own
async def test_no_reply_is_promised_the_ticket_is_stored_and_listed(
    scenario: Scenario, deps: AppDeps
) -> None:
    ann = scenario.customer("Ann Lee")
    scenario.order(ann, "SO-1000001", item("Kettle", "199.00"))
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.press("person")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")

    told = await chat.expect_text("person/ticket_opened", with_agents=False, linked=True)
    assert "will reply" not in told.text
    await chat.expect_text("menu/main")
    await chat.send("/help")  # the bot still answers: nothing is waiting for a person
    await chat.expect_text("help/help", linked=True)
    [ticket] = await tickets(deps, chat.chat_id)
    assert (ticket.reason, ticket.status) == (TicketReason.CUSTOMER_ASKED, TicketStatus.OPEN)
    assert await topics(deps) == []

    code, out, _ = await cancelbot(deps, "tickets", "--json")
    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["id"] == ticket.id
    assert (listed["customer_id"], listed["contact"], listed["with_agents"]) == (
        "C001",
        ann.phone,
        None,
    )
    code, out, _ = await cancelbot(deps, "tickets")
    words = " ".join(out.split())
    assert code == 0
    assert "C001" in words
    assert "nobody was promised a reply" in words


class TestAGroupWithoutTopics:
    """A group the bot cannot work in (topics off) counts as none, and says why once."""

    @pytest.fixture
    async def bot(
        self,
        deps: AppDeps,
        settings: Settings,
        fake: FakeTelegram,
        clock: FixedClock,
        caplog: pytest.LogCaptureFixture,
    ) -> AsyncIterator[BotServer]:
        fake.group(GROUP_ID, "Support agents", is_forum=False)
        clock.set(WORKING_HOURS)
        server = await start_agent_bot(agent_settings(settings, fake), fake, clock)
        yield server
        await stop_bot(server)

    async def test_it_says_what_is_missing_and_promises_nothing(
        self, scenario: Scenario, deps: AppDeps, caplog: pytest.LogCaptureFixture
    ) -> None:
        started = caplog.get_records("setup")
        problems = [r.getMessage() for r in started if "is not usable" in r.getMessage()]
        assert len(problems) == 1
        assert "topics are off" in problems[0]

        ann = scenario.customer("Ann Lee")
        await scenario.load()
        chat = await scenario.link(ann)
        await chat.press("person")
        await chat.expect_text("person/offer", misunderstood=False)
        await chat.press("yes_person")
        await chat.expect_text("person/ticket_opened", with_agents=False, linked=True)
        assert await topics(deps) == []
