"""The agents' side end to end: the real bot, a fake Telegram with a forum supergroup, two
agents (Alex and Sam) and an outsider (Olga: in the group, not in AGENT_IDS).

The bot is built by `bot.wiring` like `cancelbot run`, with AGENT_CHAT_ID set to the
group; customers come from `Scenario` (tests/e2e/cancellation). The clock is set to a
Monday noon in the shop's time zone, inside the policy's working hours.

When to read the database: the bot answers a button press once its handler returned;
what it owes the group goes through the outbox, so tests wait for it to appear in the
fake (`expect`, `wait_for`), never for time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.notifier import NotifierConfig
from bot.channels.rate_limit import RateLimiter
from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.texts import Renderer
from bot.wiring import AppDeps, build_bot, build_deps, build_notifier
from storage.models import AgentAction, AgentTopic, Handoff, RelayedMessage, Ticket
from tests.api.support import SECRET
from tests.conftest import NOW
from tests.e2e.cancellation.chat import plain
from tests.e2e.cancellation.conftest import Scenario
from tests.e2e.conftest import stop_bot
from tests.support.fake_telegram import (
    FakeAgent,
    FakeGroup,
    FakeTelegram,
    SentMessage,
    Topic,
    VirtualTime,
)

GROUP_ID = -1001234567890
ALEX, SAM, OLGA = 3001, 3002, 3003
# Monday 2026-11-23 12:00 in Asia/Shanghai, the policy's zone: the agents are at work.
WORKING_HOURS = NOW - timedelta(hours=6)
RENDERER = Renderer()


@dataclass
class Desk:
    """The agents' group and the people in it."""

    fake: FakeTelegram
    group: FakeGroup
    alex: FakeAgent
    sam: FakeAgent
    olga: FakeAgent
    deps: AppDeps
    server: BotServer

    def agent_text(self, template: str, /, **context: Any) -> str:
        """A text the bot sends the agents (DEFAULT_LOCALE en), as Telegram shows it."""
        return plain(RENDERER.render("en", template, **context))

    def button(self, name: str) -> str:
        return str(RENDERER.render("en", "agent/plain/button", name=name))

    async def topic_for(self, name: str) -> Topic:
        return await self.group.expect_topic(name)

    def card(self, topic: Topic) -> SentMessage:
        """The case card: the bot's first message in the topic with a Close button."""
        for message in self.group.chat.visible(topic.message_thread_id):
            if self.button("cl") in message.buttons() or message.text.startswith("📋"):
                return message
        raise AssertionError(f"no card in topic {topic.name}")

    async def wait_card(self, topic: Topic) -> SentMessage:
        return await self.fake.wait_for(lambda: self._card_or_none(topic))

    def _card_or_none(self, topic: Topic) -> SentMessage | None:
        try:
            return self.card(topic)
        except AssertionError:
            return None


async def start_agent_bot(
    configured: Settings, fake: FakeTelegram, clock: FixedClock, time: VirtualTime | None = None
) -> BotServer:
    """`BotServer` as `cancelbot run` builds it, except that the notifier's rate limiter
    runs on virtual time: the group's budget (a message every 3 s) is kept without the
    test waiting for it. Give `time` to share it with a rate-limited fake."""
    deps = build_deps(configured, clock=clock)
    bot = build_bot(configured, session=fake.session())
    server = BotServer(deps, bot)
    time = time or VirtualTime()
    config = NotifierConfig.from_settings(configured)
    assert server.jobs is not None  # BACKGROUND_JOBS: the notifier runs in this process
    server.jobs.notifier = server.notifier = build_notifier(
        deps,
        bot,
        limiter=RateLimiter(
            config.rate_per_second,
            config.chat_interval,
            group_per_minute=config.group_per_minute,
            clock=time.now,
            sleep=time.sleep,
        ),
    )
    await server.start()
    return server


def agent_settings(settings: Settings, fake: FakeTelegram, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{
            **settings.model_dump(),
            "telegram_api_base": fake.base_url,
            "agent_chat_id": GROUP_ID,
            "agent_ids": frozenset({ALEX, SAM}),
            "merchant_api_secret": SECRET,
            **overrides,
        },
    )


@pytest.fixture
def group(fake: FakeTelegram) -> FakeGroup:
    return fake.group(GROUP_ID, "Support agents")


@pytest.fixture
async def bot(
    deps: AppDeps, settings: Settings, fake: FakeTelegram, clock: FixedClock, group: FakeGroup
) -> AsyncIterator[BotServer]:
    """The real bot with AGENT_CHAT_ID = the fake's forum supergroup."""
    clock.set(WORKING_HOURS)
    configured = agent_settings(settings, fake)
    server = await start_agent_bot(configured, fake, clock)
    yield server
    await stop_bot(server)


@pytest.fixture
def scenario(deps: AppDeps, fake: FakeTelegram, bot: BotServer) -> Scenario:
    return Scenario(deps, fake, bot)


@pytest.fixture
def desk(fake: FakeTelegram, group: FakeGroup, deps: AppDeps, bot: BotServer) -> Desk:
    return Desk(
        fake,
        group,
        fake.agent(ALEX, "Alex", group=group),
        fake.agent(SAM, "Sam", group=group),
        fake.agent(OLGA, "Olga", group=group),
        deps,
        bot,
    )


# -- reading the database -------------------------------------------------------------------------


async def rows(deps: AppDeps, model: Any, *where: Any) -> list[Any]:
    async with deps.uow() as uow:
        return list(
            (await uow.session.scalars(select(model).where(*where).order_by(model.id))).all()
        )


async def tickets(deps: AppDeps, chat_id: int) -> list[Ticket]:
    return await rows(deps, Ticket, Ticket.chat_id == chat_id)


async def topics(deps: AppDeps) -> list[AgentTopic]:
    return await rows(deps, AgentTopic)


async def handoffs(deps: AppDeps) -> list[Handoff]:
    return await rows(deps, Handoff)


async def actions(deps: AppDeps) -> list[AgentAction]:
    return await rows(deps, AgentAction)


async def relays(deps: AppDeps) -> list[RelayedMessage]:
    return await rows(deps, RelayedMessage)
