"""People understood the way they talk: everyday words lead to the right flow, greetings
and thanks get an answer, /cancel cancels, and someone writing Chinese is answered in
Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.services.imports.records import OrderRecord
from storage.enums import ReasonCode
from tests.e2e.cancellation.chat import RENDERER, Chat, plain, shown
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import cases_of

MENU = ("cancel_order", "status", "person", "language", "help")


@dataclass
class Shop:
    chat: Chat
    shirt: OrderRecord
    pen: OrderRecord


async def open_shop(scenario: Scenario, lang: str) -> Shop:
    """Ann: a T-shirt (M) delivered two days ago, and an engraved pen delivered yesterday."""
    ann = scenario.customer()
    shirt = scenario.order(
        ann,
        "SO-6000001",
        item("T-shirt", "99.00", zh="T恤", category="apparel", sku="TS-M", size="M"),
        status="delivered",
    )
    pen = scenario.order(
        ann,
        "SO-6000002",
        item("Engraved Pen", "150.00", zh="刻字钢笔", category="personalized", sku="PEN"),
        status="delivered",
        delivered=ago(days=1),
    )
    await scenario.load()
    return Shop(await scenario.link(ann, lang), shirt, pen)


async def the_case(chat: Chat) -> tuple[ReasonCode | None, str | None]:
    """The reason the chat's only case holds, and the customer's words with it."""
    [case] = await cases_of(chat.deps, chat.chat_id)
    return case.reason_code, case.reason_text


def text_in(locale: str, template: str, /, **context: Any) -> str:
    return plain(RENDERER.render(locale, template, **context))


# -- words that start a cancellation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "lang"),
    [
        ("I want my money back", "en"),
        ("refund", "en"),
        ("return", "en"),
        ("退款", "zh"),
        ("我要退货", "zh"),
        ("我要退款", "zh"),
    ],
)
async def test_asking_for_money_back_opens_the_order_list(
    scenario: Scenario, words: str, lang: str
) -> None:
    shop = await open_shop(scenario, lang)
    await shop.chat.send(words)
    await shop.chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    assert await the_case(shop.chat) == (None, None)  # the reason is still to be asked


async def test_return_the_t_shirt_wrong_size_finds_it_and_keeps_the_reason(
    scenario: Scenario, lang: str
) -> None:
    shop = await open_shop(scenario, lang)
    words = "return the t-shirt, wrong size" if lang == "en" else "T恤尺码不对，我要退货"
    await shop.chat.send(words)
    await shop.chat.expect_text("cancel/did_you_mean", order=shown(shop.shirt, lang))
    await shop.chat.press("yes_that_one")
    # The reason was given with the order: the next question is the item's condition.
    await shop.chat.expect_text("cancel/choose_condition")
    assert await the_case(shop.chat) == (ReasonCode.WRONG_SIZE, words)


async def test_a_reason_alone_starts_a_cancellation_and_is_not_asked_again(
    scenario: Scenario,
) -> None:
    shop = await open_shop(scenario, "zh")
    await shop.chat.send("不喜欢")
    await shop.chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    await shop.chat.person.press(shop.chat.order_button(shop.shirt))
    await shop.chat.expect_text("cancel/choose_condition")  # not "why?"
    assert await the_case(shop.chat) == (ReasonCode.CHANGED_MIND, "不喜欢")


async def test_a_misspelled_engraving_is_the_shops_fault_even_on_a_personalised_item(
    scenario: Scenario,
) -> None:
    """Personalised items come back only for a fault: "刻字写错了" is one (wrong_item)."""
    shop = await open_shop(scenario, "zh")
    await shop.chat.send("刻字写错了")
    await shop.chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    await shop.chat.person.press(shop.chat.order_button(shop.pen))
    await shop.chat.expect_text("cancel/ask_photo", required=True)
    assert await the_case(shop.chat) == (ReasonCode.WRONG_ITEM, "刻字写错了")


# -- small talk, a question, /cancel -------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "template", "lang"),
    [
        ("thanks!", "smalltalk/thanks", "en"),
        ("谢谢", "smalltalk/thanks", "zh"),
        ("bye", "smalltalk/goodbye", "en"),
        ("再见", "smalltalk/goodbye", "zh"),
        ("ok", "smalltalk/ack", "en"),
        ("好的", "smalltalk/ack", "zh"),
    ],
)
async def test_thanks_goodbye_and_ok_get_a_friendly_answer(
    scenario: Scenario, words: str, template: str, lang: str
) -> None:
    shop = await open_shop(scenario, lang)
    await shop.chat.send(words)
    answer = await shop.chat.expect_text(template)
    assert answer.buttons() == [shop.chat.button(name) for name in MENU]


@pytest.mark.parametrize(("words", "lang"), [("hi", "en"), ("你好，在吗？", "zh")])
async def test_a_greeting_is_greeted(scenario: Scenario, words: str, lang: str) -> None:
    shop = await open_shop(scenario, lang)
    await shop.chat.send(words)
    await shop.chat.expect_text("start/welcome_linked", name=shop.chat.customer.name)
    await shop.chat.expect_text("menu/main")


async def test_something_else_is_still_not_understood(scenario: Scenario) -> None:
    shop = await open_shop(scenario, "en")
    await shop.chat.send("do you sell gift cards?")
    await shop.chat.expect_text("fallback/not_understood")


async def test_a_refund_question_in_a_sentence_shows_the_status(
    scenario: Scenario, lang: str
) -> None:
    shop = await open_shop(scenario, lang)
    await shop.chat.send("hi, when will I get my refund?" if lang == "en" else "退款什么时候到账？")
    empty = {"orders": [], "requests": [], "refunds": []}
    more = {"more_orders": 0, "more_requests": 0, "more_refunds": 0}
    heading = shop.chat.text("status/overview", **empty, **more)
    await shop.chat.expect(heading.split("\n")[0])


async def test_cancel_with_nothing_under_way_starts_a_cancellation(
    scenario: Scenario, lang: str
) -> None:
    shop = await open_shop(scenario, lang)
    await shop.chat.send("/cancel")
    await shop.chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    await shop.chat.send("/cancel")  # under way, /cancel stops it, as before
    await shop.chat.expect_text("common/stopped")
    await shop.chat.send(f"/cancel {shop.shirt.number}")  # and may name the order
    await shop.chat.expect_text("cancel/choose_reason", order=shown(shop.shirt, lang))


# -- the language people write in ----------------------------------------------------------------


@pytest.mark.parametrize("language_code", [None, "ru"])
async def test_someone_writing_chinese_without_a_chinese_telegram_is_answered_in_chinese(
    scenario: Scenario, language_code: str | None
) -> None:
    person = scenario.fake.user(7700, "Wei", language_code=language_code)
    await person.send("你好")
    greeting = await person.next_message()
    assert greeting.text == text_in("zh", "start/welcome_guest", first_name="Wei")
    # A button press says nothing about the language: the next answer is Chinese too.
    await person.press(RENDERER.button("zh", "guest"))
    assert (await person.next_message()).text == text_in("zh", "link/guest_ask_order")


async def test_writing_english_again_switches_back(scenario: Scenario) -> None:
    person = scenario.fake.user(7702, "Wei", language_code=None)
    await person.send("你好")
    await person.next_message()
    await person.send("hello there")
    greeting = await person.next_message()
    assert greeting.text == text_in("en", "start/welcome_guest", first_name="Wei")


async def test_a_telegram_language_we_speak_still_decides(scenario: Scenario) -> None:
    person = scenario.fake.user(7701, "Ann", language_code="en")
    await person.send("你好")
    greeting = await person.next_message()
    assert greeting.text == text_in("en", "start/welcome_guest", first_name="Ann")


# -- order numbers typed the way people type them --------------------------------------------------


@pytest.mark.parametrize("typed", ["so6000001", "SO 6000001", "#SO-6000001", "So-6OOOOO1"])
async def test_a_guest_verifies_with_the_number_written_any_usual_way(
    scenario: Scenario, typed: str, lang: str
) -> None:
    ann = scenario.customer()
    scenario.order(ann, "SO-6000001", item("T-shirt", "99.00", zh="T恤"))
    await scenario.load()
    guest = scenario.fake.user(7800, "Ann", language_code=lang)
    await guest.send("/start")
    await guest.next_message()
    await guest.press(RENDERER.button(lang, "guest"))
    await guest.expect(text_in(lang, "link/guest_ask_order"))
    await guest.send(typed)
    await guest.expect(text_in(lang, "link/guest_ask_secret"))
    await guest.send(ann.phone[-4:])
    await guest.expect(text_in(lang, "link/guest_verified", order_number="SO-6000001"))


# -- look-alike orders ----------------------------------------------------------------------------


async def test_look_alike_orders_show_what_tells_them_apart(scenario: Scenario, lang: str) -> None:
    ann = scenario.customer()
    shirt = "T-shirt", "99.00"
    blue = scenario.order(ann, "SO-6100001", item(*shirt, zh="T恤", sku="TS-B", color="blue"))
    black = scenario.order(
        ann, "SO-6100002", item(*shirt, zh="T恤", sku="TS-K", color="black"), placed=ago(days=3)
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.send("/cancel_order T-shirt" if lang == "en" else "/cancel_order T恤")
    message = await chat.expect_text("cancel/several")
    # The colours, in the reader's language (bot/data/matching.toml's aliases).
    colours = {"en": ("blue", "black"), "zh": ("蓝色", "黑色")}[lang]
    assert message.buttons() == [
        chat.order_button(blue, (colours[0],)),
        chat.order_button(black, (colours[1],)),
    ]


async def test_orders_alike_in_every_way_show_the_time_they_were_placed(
    scenario: Scenario,
) -> None:
    ann = scenario.customer()
    mug = item("Mug", "30.00", category="home", sku="MUG", color="white")
    morning = scenario.order(ann, "SO-6200001", mug, placed=ago(hours=6))
    evening = scenario.order(ann, "SO-6200002", mug, placed=ago(hours=4))
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.send("/cancel_order mug")
    message = await chat.expect_text("cancel/several")
    assert message.buttons() == [
        chat.order_button(evening, show_time=True),
        chat.order_button(morning, show_time=True),
    ]
    assert message.buttons()[0] != message.buttons()[1]
