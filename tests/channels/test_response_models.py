"""aiogram's answer models survive garbage collection (bot.channels.response_models)."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import GetMe, Response, SendMessage

from bot.config import Settings
from bot.wiring import build_bot
from tests.conftest import TEST_TOKEN
from tests.support.fake_telegram import FakeTelegram


async def test_the_model_an_answer_was_read_with_is_not_rebuilt_after_a_collection(
    settings: Settings,
) -> None:
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        bot = build_bot(settings, session=fake.session())
        person = fake.user(501, "Ann")
        await person.send("/start")  # a chat the bot may write to
        try:
            await bot.send_message(person.id, "hello")
            await bot.get_me()
        finally:
            await bot.session.close()
    # Weak references only: pydantic's own cache of generic models is weak too.
    read_with = [
        weakref.ref(Response[SendMessage.__returning__]),  # type: ignore[name-defined]
        weakref.ref(Response[GetMe.__returning__]),  # type: ignore[name-defined]
    ]
    gc.collect()
    assert [ref() is not None for ref in read_with] == [True, True]
