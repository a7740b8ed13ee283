"""25 customers ask for a person within seconds; Telegram takes 20 messages a minute in
the agents' group, topic creation and card edits included. Every one gets a topic and
a card, and Telegram never has to say 429.

The fake enforces the limit on virtual time shared with the bot's rate limiter, so the
test spends no real minutes waiting for the budget (bot.channels.rate_limit is unit
tested on fake time; this checks the whole bot keeps to it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps
from tests.conftest import TEST_TOKEN
from tests.e2e.agents.conftest import (
    GROUP_ID,
    WORKING_HOURS,
    agent_settings,
    handoffs,
    start_agent_bot,
)
from tests.e2e.cancellation.chat import Chat
from tests.e2e.cancellation.conftest import Scenario, item
from tests.e2e.conftest import stop_bot
from tests.support.fake_telegram import FakeTelegram, RateLimits, VirtualTime

CUSTOMERS = 25


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def fake(time: VirtualTime) -> AsyncIterator[FakeTelegram]:
    """Only the group's limit: people's chats get bursts of handler replies."""
    limits = RateLimits(global_per_second=None, per_chat_per_second=None, per_group_per_minute=20)
    async with FakeTelegram(token=TEST_TOKEN, rate_limits=limits, rate_clock=time) as fake:
        yield fake
    assert fake.unimplemented_calls == []


@pytest.fixture
async def bot(
    deps: AppDeps, settings: Settings, fake: FakeTelegram, clock: FixedClock, time: VirtualTime
) -> AsyncIterator[BotServer]:
    fake.group(GROUP_ID, "Support agents")
    clock.set(WORKING_HOURS)
    server = await start_agent_bot(agent_settings(settings, fake), fake, clock, time)
    yield server
    await stop_bot(server)


@pytest.fixture
def scenario(deps: AppDeps, fake: FakeTelegram, bot: BotServer) -> Scenario:
    return Scenario(deps, fake, bot)


async def escalate(chat: Chat) -> None:
    await chat.press("person")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")
    await chat.expect("👤")


async def test_25_customers_at_once_all_get_a_topic_without_a_single_429(
    scenario: Scenario, fake: FakeTelegram, time: VirtualTime
) -> None:
    people = [scenario.customer(f"Customer {n:02d}") for n in range(CUSTOMERS)]
    for n, person in enumerate(people):
        scenario.order(person, f"SO-20000{n:02d}", item("Kettle", "199.00"))
    await scenario.load()
    chats = [await scenario.link(person) for person in people]
    started = time.now()

    await asyncio.gather(*(escalate(chat) for chat in chats))

    group = fake.backend.world.chats[GROUP_ID]
    await fake.wait_for(
        lambda: (
            len(group.topics) == CUSTOMERS
            and sum(m.text.startswith("📋") for m in group.sent.values()) == CUSTOMERS
        ),
        timeout=60,
    )
    assert fake.too_many_requests == 0
    assert sorted(topic.name for topic in group.topics.values()) == sorted(
        f"🆕 Customer {n:02d}" for n in range(CUSTOMERS)
    )
    assert len(await handoffs(scenario.deps)) == CUSTOMERS
    # 50 requests (a topic and a card each) at most 20 a minute took virtual minutes.
    assert time.now() - started >= 2 * 60
