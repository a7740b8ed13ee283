"""Following a refund end to end: /status and its timeline buttons, and the overdue watchdog.

The real bot polls the fake Telegram, serves the merchant API and runs its notifier and
watchdog, with AGENT_CHAT_ID set to a plain group. The merchant moves refunds with signed
requests; Ann (English) and Li (Chinese) link their accounts by sharing their contacts
and ask where their refunds are.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.channels.telegram import BotServer
from bot.services.domain.clock import FixedClock
from bot.services.domain.money import Money
from bot.texts import Renderer
from bot.wiring import AppDeps
from dialogs.callbacks import RefundTimeline
from storage.enums import RefundStatus
from tests.api.support import (
    SECRET,
    MerchantClient,
    customer,
    item,
    load,
    open_refund,
    order,
)
from tests.conftest import NOW
from tests.e2e.conftest import StartBot
from tests.support.fake_telegram import FakeTelegram, FakeUser, parse_html

RENDERER = Renderer()
AGENTS = -1001234567890
ANN_PHONE, LI_PHONE = "+86 138 0000 0001", "+86 138 0000 0002"


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001): SO-1 (109.00) and SO-2 (110.00); Li (C002): SO-9 (60.00). Overrides the
    demo shop of tests/e2e/conftest.py."""
    await load(
        deps,
        customers=[customer("C001", "Ann Lee"), customer("C002", "Li Wei")],
        orders=[
            order("SO-1", "C001", item("TS", "99.00")),
            order("SO-2", "C001", item("MUG", "100.00")),
            order("SO-9", "C002", item("HAT", "50.00")),
        ],
    )
    return deps


@pytest.fixture
async def bot(start_bot: StartBot, fake: FakeTelegram) -> BotServer:
    """The bot as `cancelbot run` builds it, with the merchant API and the agents' group."""
    fake.group(AGENTS, "Refund agents", is_forum=False)
    return await start_bot(
        merchant_api_secret=SecretStr(SECRET),
        agent_chat_id=AGENTS,
        watchdog_interval_seconds=3600,  # the sweep at start, then only when told
    )


@pytest.fixture
async def refunds(bot: BotServer, shop: AppDeps, clock: FixedClock) -> dict[str, int]:
    """SO-1 and SO-9 being paid out (the merchant said so), SO-2 waiting for approval.

    Made before anyone links, so no notice is sent about them.
    """
    ids = {
        "SO-1": await open_refund(shop, "SO-1"),
        "SO-2": await open_refund(shop, "SO-2", status=RefundStatus.PENDING_REVIEW),
        "SO-9": await open_refund(shop, "SO-9"),
    }
    async with aiohttp.ClientSession() as http:
        api = MerchantClient(http, f"http://127.0.0.1:{bot.port}", clock.now)
        for number in ("SO-1", "SO-9"):
            event = {"event_id": f"pay-{number}", "status": "processing"}
            answer = await api.post(
                f"/api/v1/refunds/{ids[number]}/events",
                {**event, "occurred_at": NOW.isoformat()},
            )
            assert (answer.status, answer.body["customer_notice"]) == (201, "not_linked")
    return ids


async def _linked(fake: FakeTelegram, user_id: int, name: str, locale: str, phone: str) -> FakeUser:
    person = fake.user(user_id, name.split()[0], language_code=locale, phone=phone)
    await person.share_contact()
    await person.expect(_plain(RENDERER.render(locale, "link/linked", name=name)).split("\n")[0])
    await person.expect(RENDERER.render(locale, "menu/main"))
    return person


@pytest.fixture
async def ann(fake: FakeTelegram, refunds: dict[str, int]) -> FakeUser:
    return await _linked(fake, 7001, "Ann Lee", "en", ANN_PHONE)


@pytest.fixture
async def li(fake: FakeTelegram, refunds: dict[str, int]) -> FakeUser:
    return await _linked(fake, 7002, "Li Wei", "zh", LI_PHONE)


async def test_customers_see_their_refunds_and_each_timeline_in_their_language(
    ann: FakeUser, li: FakeUser, refunds: dict[str, int]
) -> None:
    so1 = _button("en", "SO-1", "109.00")
    for asking in ("where is my refund", "/status"):
        await ann.send(asking)
        overview = await ann.expect("Tap a refund below to see its history.")
        assert "SO-1" in overview.text
        assert "SO-2" in overview.text
        assert "SO-9" not in overview.text
        assert "expected between 26 Nov 2026 and 30 Nov 2026" in overview.text
        labels = [button["text"] for button in overview.inline_buttons()]
        assert labels[:2] == [_button("en", "SO-2", "110.00"), so1]  # newest first

    for asking in ("退款到哪了", "/status"):
        await li.send(asking)
        li_overview = await li.expect("点击下方的退款按钮")
        assert "SO-9" in li_overview.text
        assert "SO-1" not in li_overview.text
        assert "预计 2026年11月26日 至 2026年11月30日 到账" in li_overview.text
        assert li_overview.inline_buttons()[0]["text"] == _button("zh", "SO-9", "60.00")

    await ann.answer_to(await ann.press_in(overview, so1))
    history = await ann.expect("Refund for order SO-1")
    # In the shop's time zone (the policy's Asia/Shanghai), which the time names.
    assert "• 23 Nov 2026, 18:00 (UTC+8) — approved · automatic" in history.text
    assert "• 23 Nov 2026, 18:00 (UTC+8) — payment started · the shop" in history.text
    assert "pay-SO-1" not in history.text  # the merchant's event id stays internal

    await li.answer_to(await li.press_in(li_overview, _button("zh", "SO-9", "60.00")))
    assert "开始退款（商家处理）" in (await li.expect("订单 SO-9 的退款")).text

    # Li tampers with the button to read Ann's refund: the answer of a refund that does
    # not exist, and nothing is shown.
    for refund_id in (refunds["SO-1"], 999_999):
        press = await li.press_data(li_overview, RefundTimeline(refund_id=refund_id).pack())
        answer = await li.answer_to(press)
        assert (answer.text, answer.show_alert) == (
            RENDERER.render("zh", "plain/refund_not_found"),
            True,
        )
    await li.settle()
    assert li.unread == []


async def test_a_stuck_refund_is_told_once_to_the_customer_and_the_agents(
    ann: FakeUser, li: FakeUser, bot: BotServer, fake: FakeTelegram, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=24))
    assert await bot.watchdog.sweep_once() == 0  # exactly 24 h waiting is not yet too long

    clock.advance(timedelta(seconds=1))
    assert await bot.watchdog.sweep_once() == 1  # SO-2, waiting for approval

    told = await ann.expect("SO-2")
    assert "has been waiting for a colleague's approval since 23 Nov 2026" in told.text
    alert = (await fake.wait_for(lambda: fake.sent_messages(AGENTS)))[0]
    assert "is overdue" in alert.text
    assert "Order SO-2, customer Ann Lee (C001)" in alert.text
    assert "The customer was told we are working on it." in alert.text

    assert await bot.watchdog.sweep_once() == 0
    await ann.settle()
    await li.settle()
    assert (ann.unread, li.unread) == ([], [])
    assert len(fake.sent_messages(AGENTS)) == 1


def _button(locale: str, number: str, amount: str) -> str:
    return RENDERER.button(locale, "refund_timeline", number, Money(Decimal(amount), "CNY"))


def _plain(html: Any) -> str:
    return parse_html(str(html)).text
