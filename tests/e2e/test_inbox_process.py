"""`kill -9` just after a Confirm press: the bot, restarted, handles it.

aiogram acknowledges updates (the next getUpdates moves the offset) before handling them;
an update in flight when the process dies used to be lost for good, its button spinning.
Here the press waits behind the reply to a /help sent just before it (held by the fake
Telegram), so the process dies with the press acknowledged and not yet started.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.models import CancellationRequest, InboxUpdate, Refund
from tests.api.support import customer, item, load, order
from tests.e2e.conftest import free_port
from tests.support.bot_process import BotProcess, bot_env
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow  # two bot processes, one of them killed
RENDERER = Renderer()


def button(name: str, *args: object) -> str:
    return RENDERER.button("en", name, *args)


async def test_a_press_acknowledged_before_kill_9_is_handled_after_the_restart(
    fake: FakeTelegram, deps: AppDeps, tmp_path: Path
) -> None:
    await load(
        deps, customers=[customer("C001")], orders=[order("SO-1000001", "C001", item("A", "99.00"))]
    )
    port = free_port()  # the same name (host:port) after the restart: it takes its updates back
    env = bot_env(
        TELEGRAM_API_BASE=fake.base_url,
        DATABASE_URL=deps.settings.database_url,
        API_HOST="127.0.0.1",
        API_PORT=str(port),
    )
    first = await BotProcess(("run",), env, tmp_path / "first.log").start()
    await first.healthy(port)
    ann = fake.user(7501, "Ann", phone="+86 138 0000 0001")
    await ann.share_contact()
    await ann.expect("your account is linked", timeout=15)
    await ann.send("/cancel_order SO-1000001")
    await ann.expect("Why would you like to cancel", timeout=15)
    await ann.press(button("reason", "changed_mind"))
    await ann.expect("Before you decide", timeout=15)
    await ann.press(button("no_thanks_cancel"))
    await ann.expect("Please check and confirm", timeout=15)

    held = fake.hold_next("sendMessage", chat_id=ann.chat_id)
    await ann.send("/help")
    confirm = await ann.press(button("confirm"))
    await held.arrived.wait()
    await fake.wait_for(lambda: not fake.pending_updates, timeout=15)  # both acknowledged
    await first.kill()
    held.release()

    second = await BotProcess(("run",), env, tmp_path / "second.log").start()
    try:
        await ann.expect("What I can do", timeout=30)
        await ann.expect("is cancelled", timeout=30)
        answer = await ann.answer_to(confirm, timeout=30)  # the spinner stopped
        assert answer.show_alert is not True
    finally:
        assert await second.stop() == 0, second.log()  # what it was doing, it finishes
    assert "replaying update" in second.log()
    async with deps.uow() as uow:
        requests = await uow.session.scalar(select(func.count()).select_from(CancellationRequest))
        refunds = await uow.session.scalar(select(func.count()).select_from(Refund))
        unfinished = await uow.session.scalar(
            select(func.count()).where(InboxUpdate.handled_at.is_(None))
        )
    assert (requests, refunds, unfinished) == (1, 1, 0)
