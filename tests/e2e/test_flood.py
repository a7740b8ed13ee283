"""A flood from one person costs nobody else their answers.

The fake Telegram enforces its limits (30 messages a second per bot, one a second per
chat). One person sends 500 messages at once; while the bot works through them, thirty
others ask for /help. Every one of the thirty is answered; the flooder gets the replies
to their first few messages and one short notice, and the rest of the flood is dropped
before it costs a database write. The flood guard runs with its production defaults.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import Clock, SystemClock
from bot.texts import Renderer
from storage.models import InboxUpdate
from tests.conftest import TEST_TOKEN
from tests.e2e.conftest import StartBot
from tests.support.fake_telegram import FakeTelegram, FakeUser, RateLimits

RENDERER = Renderer()
FLOOD = 500
OTHERS = 30
DEFAULTS = Settings.model_fields


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TEST_TOKEN, rate_limits=RateLimits()) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    """Real time: the notifier retries the notice a second after a 429, as in production."""
    return SystemClock()


@pytest.fixture
async def bot(start_bot: StartBot) -> BotServer:
    return await start_bot(
        flood_burst=DEFAULTS["flood_burst"].default,
        flood_rate_per_second=DEFAULTS["flood_rate_per_second"].default,
    )


async def ask_for_help(person: FakeUser) -> None:
    await person.send("/help")
    await person.expect("What I can do", timeout=15)


async def test_a_flood_costs_nobody_else_their_answers(fake: FakeTelegram, bot: BotServer) -> None:
    flooder = fake.user(8000, "Flo")
    others = [fake.user(8001 + n, f"P{n}") for n in range(OTHERS)]
    for n in range(FLOOD):
        await flooder.send(f"spam {n}")
    # Three waves of ten, a (fake) second apart: thirty people asking within the same
    # second would need thirty-one messages a second with the flooder's notice, which no
    # bot may send; spreading them is what the outgoing rate limiter does in production.
    for wave in range(3):
        await asyncio.gather(*(ask_for_help(person) for person in others[wave::3]))
        fake.clock.advance(1.0)

    notice = RENDERER.render("en", "flood/slow_down")
    await flooder.expect(notice, timeout=15)
    flooder_messages = fake.sent_messages(chat_id=flooder.chat_id)
    assert [m.text for m in flooder_messages].count(notice) == 1
    assert len(flooder_messages) <= DEFAULTS["flood_burst"].default + 1
    # Every send to the flooder is spent from the bot's budget, answered or refused by
    # Telegram: a reply (and an apology, when the reply was refused) per admitted update.
    attempts = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == flooder.chat_id]
    assert len(attempts) <= 2 * (DEFAULTS["flood_burst"].default + 10) + 1
    await bot.runner.wait_idle()  # the rest of the flood is worked through
    async with bot.deps.uow() as uow:
        outcomes = (
            await uow.session.scalars(
                select(InboxUpdate.outcome).where(InboxUpdate.chat_id == flooder.chat_id)
            )
        ).all()
    assert len(outcomes) == FLOOD  # every update was recorded
    assert None not in outcomes
    assert outcomes.count("dropped") >= 0.9 * FLOOD, outcomes  # most never reached a handler
