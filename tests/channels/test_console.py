"""`cancelbot shell`: a scripted person against the production dispatcher, through the console."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from sqlalchemy import select

from bot.channels.console import (
    CONSOLE_TOKEN,
    NEWCOMER_ID,
    SHELL_USER_BASE,
    DeliveryLoop,
    run_shell,
)
from bot.channels.console_render import Screen, Terminal, parse_html, render_entities
from bot.channels.console_session import ConsoleSession
from bot.demo_data import seed_demo
from bot.services.domain.clock import FixedClock
from bot.wiring import AppDeps, build_bot
from storage.enums import LinkMethod
from storage.models import Customer, Order

REPO = Path(__file__).resolve().parents[2]
PLAYED = "C1001"


@pytest.fixture(autouse=True)
def detached_flow_routers() -> Iterator[None]:
    """Let every test build its own dispatcher.

    `build_dispatcher()` includes module-level routers (`dialogs.<flow>.router`,
    `bot.channels.errors.router`), and aiogram attaches a router to one parent only,
    so a second dispatcher in the same process fails. Detaching them around each
    test stands in for building those routers per call.
    """
    _detach_module_routers()
    yield
    _detach_module_routers()


def _detach_module_routers() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith(("dialogs.", "bot.channels.")):
            router = getattr(module, "router", None)
            if isinstance(router, Router):
                router._parent_router = None


async def play(deps: AppDeps, script: str, **options: str) -> tuple[int, str]:
    """Run the shell on a script; returns the exit code and everything it printed."""
    out = io.StringIO()
    code = await run_shell(deps, stdin=io.StringIO(script), stdout=out, **options)
    return code, out.getvalue()


def after(output: str, line: str) -> str:
    """What the shell printed after the person's input `line` (echoed as `you › line`)."""
    marker = f"you › {line}\n"
    assert marker in output, f"{line!r} was not read:\n{output}"
    return output.split(marker, 1)[1]


def before_next_input(output: str) -> str:
    return output.split("you › ", 1)[0]


def mentions(text: str, order_number: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(order_number)}(?![\w-])", text) is not None


async def order_numbers(deps: AppDeps) -> dict[str, list[str]]:
    """Every order number, by the owning customer's id."""
    async with deps.uow() as uow:
        rows = await uow.session.execute(
            select(Customer.external_id, Order.number).join(Order.customer)
        )
        numbers: dict[str, list[str]] = {}
        for customer_id, number in rows:
            numbers.setdefault(customer_id, []).append(number)
    return numbers


async def test_newcomer_starts_and_presses_the_guest_button_by_number(deps: AppDeps) -> None:
    code, output = await play(deps, "0\n/start\n2\n:quit\n")

    assert code == 0
    assert "demo data was loaded" in output
    assert "[0] a newcomer" in output
    welcome = before_next_input(after(output, "/start"))
    assert "bot › Hello, Alex! 👋" in welcome
    assert "tap Share my phone number below" in welcome  # the HTML tags are gone
    assert "<b>" not in welcome
    assert "[1] 📱 Share my phone number" in welcome
    assert "[2] 🔢 Use an order number instead" in welcome
    assert "type 1–2 to press a button" in welcome
    asked = before_next_input(after(output, "2"))
    assert "pressed “🔢 Use an order number instead”" in asked
    assert "bot › Please type your order number (for example SO-1002345)." in asked
    # The state is in the application's FSM storage, so the next run resumes it.
    key = StorageKey(
        bot_id=int(CONSOLE_TOKEN.split(":")[0]), chat_id=NEWCOMER_ID, user_id=NEWCOMER_ID
    )
    assert await deps.fsm_storage.get_state(key) == "LinkFlow:guest_order_number"


async def test_playing_a_customer_links_by_own_contact_and_shows_only_their_orders(
    deps: AppDeps,
) -> None:
    code, output = await play(deps, "/status\n", customer_id=PLAYED)

    assert code == 0
    async with deps.uow() as uow:
        customer = await uow.customers.by_external_id(PLAYED)
        assert customer is not None
        assert customer.telegram_user_id == SHELL_USER_BASE + customer.id
        assert customer.linked_via is LinkMethod.CONTACT
    assert "your account is linked" in output
    assert f"Hello, {customer.name}!" in output
    status = after(output, "/status")
    numbers = await order_numbers(deps)
    assert any(mentions(status, number) for number in numbers[PLAYED])
    others = [n for owner, owned in numbers.items() if owner != PLAYED for n in owned]
    assert others
    assert not [number for number in others if mentions(status, number)]


async def test_a_sticker_where_text_is_expected_gets_the_hint(deps: AppDeps) -> None:
    code, output = await play(deps, "0\n/start\n2\n:sticker\n")

    assert code == 0
    reply = after(output, ":sticker")
    assert "sent a sticker" in reply
    hint = reply.index("bot › I can only read text at this step.")
    assert reply.index("bot › Please type your order number", hint) > hint


async def test_four_digits_are_an_answer_not_a_button(deps: AppDeps, clock: FixedClock) -> None:
    await seed_demo(deps.session_factory, clock)
    async with deps.uow() as uow:
        customer = await uow.customers.by_external_id(PLAYED)
        assert customer is not None
        assert customer.phone is not None
        last_four = customer.phone[-4:]
    number = (await order_numbers(deps))[PLAYED][0]

    code, output = await play(deps, f"0\n/start\n2\n{number}\n{last_four}\n")

    assert code == 0
    assert "demo data was loaded" not in output  # it was there already
    verified = after(output, last_four)
    assert "pressed" not in before_next_input(verified)
    assert f"✅ Verified. You can now manage order {number} here." in verified


async def test_language_button_by_number_switches_to_chinese(deps: AppDeps) -> None:
    # After the automatic /start the menu is [1] cancel, [2] orders, [3] a person,
    # [4] language, [5] help.
    code, output = await play(deps, "4\n2\n/status\n", customer_id=PLAYED)

    assert code == 0
    chooser = before_next_input(after(output, "4"))
    assert "pressed “🌐 Language”" in chooser
    assert "Choose your language / 选择语言:" in chooser
    assert "[1] English   [2] 中文" in chooser
    switched = after(output, "4").split("you › 2\n", 1)[1]
    assert "pressed “中文”" in switched
    assert "bot › 好的，之后我会用中文和您交流。" in switched
    assert "bot › [toast] 语言已保存" in switched
    assert "您的订单" in after(output, "/status")
    async with deps.uow() as uow:
        customer = await uow.customers.by_external_id(PLAYED)
        assert customer is not None
        assert customer.locale == "zh"


async def test_unknown_customer_id_exits_with_a_usage_error(deps: AppDeps) -> None:
    code, output = await play(deps, "", customer_id="C0000")

    assert code == 2
    assert "no customer with the id 'C0000'" in output
    assert "without --as" in output


async def test_end_of_input_at_the_menu_leaves_cleanly(deps: AppDeps) -> None:
    code, output = await play(deps, "")

    assert code == 0
    assert "Who would you like to play?" in output


async def test_shell_commands_are_not_sent_to_the_bot(deps: AppDeps) -> None:
    code, output = await play(deps, "0\n:help\n:bogus\n:who\n:contact +8613800001001\n")

    assert code == 0
    assert ":say TEXT" in after(output, ":help")
    assert "unknown shell command :bogus" in after(output, ":bogus")
    assert "Telegram user 1000000000000000" in after(output, ":who")
    assert "only accept your own number" in after(output, ":contact +8613800001001")


def test_telegram_html_becomes_terminal_text() -> None:
    parsed = parse_html("<b>Tom &amp; Jerry</b> 👋 <a href='https://example.com'>site</a>")

    assert parsed.text == "Tom & Jerry 👋 site"
    assert parsed.entities[0] == {"type": "bold", "offset": 0, "length": 11}
    assert parsed.entities[1]["offset"] == 15  # the emoji counts two UTF-16 units
    entities = [MessageEntity(**entity) for entity in parsed.entities]
    plain = render_entities(parsed.text, entities, color=False)
    assert plain == "Tom & Jerry 👋 site (https://example.com)"
    assert render_entities(parsed.text, entities, color=True).startswith(
        "\x1b[1mTom & Jerry\x1b[22m"
    )


async def test_console_session_fails_like_telegram(clock: FixedClock, deps: AppDeps) -> None:
    out = io.StringIO()
    screen = Screen(Terminal(out, color=False), chat_id=42)
    session = ConsoleSession(screen, clock)
    bot = build_bot(deps.settings, session=session, token=CONSOLE_TOKEN)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
    )
    sent = await bot.send_message(42, "<i>hi</i>", reply_markup=markup)
    assert (sent.message_id, sent.text, sent.chat.id) == (1, "hi", 42)
    assert screen.choice_count == 1

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("<i>hi</i>", chat_id=42, message_id=1, reply_markup=markup)
    edited = await bot.edit_message_text("bye", chat_id=42, message_id=1)
    assert edited.text == "bye"
    assert edited.reply_markup is None
    assert screen.choice(1) is None  # the button went with the edit
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(42, "<blink>no</blink>")
    with pytest.raises(TelegramBadRequest, match="not available in the console shell"):
        await bot.send_dice(42)
    assert "bot › ✎ bye" in out.getvalue()
    await bot.session.close()


@pytest.mark.slow  # a whole process of its own
def test_cli_shell_runs_a_piped_script(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("BOT_TOKEN", "LINK_SECRET", "REDIS_URL", "DATABASE_SCHEMA")
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))

    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input="0\n/start\nhello\n:quit\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,  # no .env from the checkout
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "demo data was loaded" in result.stdout
    assert "I can help you cancel an order and follow your refund." in result.stdout
    assert "you › hello" in result.stdout
    assert "Traceback" not in result.stderr


async def test_a_newcomer_writing_chinese_is_answered_in_chinese_unless_lang_says(
    deps: AppDeps,
) -> None:
    """No --lang: the newcomer has no Telegram language, so the bot follows their writing;
    --lang en sets one, and it decides."""
    _, written = await play(deps, "0\n你好\n:quit\n")
    assert "bot › 您好，Alex！👋" in after(written, "你好")

    _detach_module_routers()
    _, told = await play(deps, "0\n你好\n:quit\n", language="en")
    assert "bot › Hello, Alex! 👋" in after(told, "你好")


async def test_leaving_the_shell_lets_a_delivery_under_way_finish_and_starts_no_other() -> None:
    """The background delivery was cancelled on exit, possibly inside a transaction."""
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def deliver() -> None:
        started.set()
        await release.wait()
        finished.append(len(finished) + 1)

    loop = DeliveryLoop(deliver, interval=0.01)
    loop.start()
    await started.wait()
    stopping = asyncio.create_task(loop.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the delivery, not cutting it off
    release.set()
    await stopping
    assert finished == [1]


async def test_a_failed_background_delivery_does_not_end_the_loop() -> None:
    calls: list[int] = []
    twice = asyncio.Event()

    async def deliver() -> None:
        calls.append(1)
        if len(calls) >= 2:
            twice.set()
        raise RuntimeError("database is locked")

    loop = DeliveryLoop(deliver, interval=0.01)
    loop.start()
    await asyncio.wait_for(twice.wait(), 5)
    await loop.stop()
