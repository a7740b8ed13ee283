"""The agents' group at start (what is missing, in one line) and who counts as an agent
(a member, one of AGENT_IDS when set, remembered for a short while)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.channels.agent_group import AgentDirectory, check_group
from tests.conftest import TEST_TOKEN
from tests.support.fake_telegram import FakeTelegram

GROUP = -1001234567890


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = fake.bot()
    yield bot
    await bot.session.close()


async def test_a_forum_where_the_bot_manages_topics_is_ready(fake: FakeTelegram, bot: Bot) -> None:
    fake.group(GROUP, "Support agents")
    check = await check_group(bot, GROUP)
    assert (check.title, check.problem) == ("Support agents", None)


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ({"is_forum": False}, "topics are off (group settings → Topics)"),
        ({"bot_admin": False}, "the bot is not an administrator"),
        (
            {"can_manage_topics": False},
            'the bot may not manage topics (admin right "Manage topics")',
        ),
    ],
)
async def test_each_missing_piece_is_named(
    fake: FakeTelegram, bot: Bot, setup: dict[str, bool], problem: str
) -> None:
    fake.group(GROUP, "Support agents", **setup)
    assert (await check_group(bot, GROUP)).problem == problem


async def test_a_group_the_bot_is_not_in(bot: Bot) -> None:
    problem = (await check_group(bot, GROUP)).problem
    assert problem is not None
    assert problem.startswith("the bot cannot see the group")


async def test_members_are_agents_remembered_for_a_while(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(GROUP)
    alex = fake.agent(3001, "Alex", group=group)
    fake.user(4001, "Stranger")
    now = [0.0]
    directory = AgentDirectory(GROUP, ttl=60, clock=lambda: now[0])

    assert await directory.is_agent(bot, alex.id)
    assert not await directory.is_agent(bot, 4001)
    group.remove(alex.id)
    assert await directory.is_agent(bot, alex.id)  # still remembered
    assert len(fake.calls_to("getChatMember")) == 2
    now[0] = 61
    assert not await directory.is_agent(bot, alex.id)


async def test_agent_ids_narrow_the_members(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(GROUP)
    alex = fake.agent(3001, "Alex", group=group)
    olga = fake.agent(3003, "Olga", group=group)
    directory = AgentDirectory(GROUP, allowed=frozenset({alex.id}))

    assert await directory.is_agent(bot, alex.id)
    assert not await directory.is_agent(bot, olga.id)
    assert [c.params["user_id"] for c in fake.calls_to("getChatMember")] == [alex.id]
