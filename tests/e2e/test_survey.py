"""The satisfaction survey end to end: the real bot, the merchant API, the outbox notifier
and a fake Telegram.

A signed merchant event ends a linked customer's refund; the customer reads the refund's
notice, then the survey with five star buttons, presses one, is thanked and asked for a
comment, and types it. The same case never asks again.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.telegram import BotServer
from bot.services.conversation.surveys import SurveyService
from bot.texts import Renderer
from bot.wiring import AppDeps
from dialogs.callbacks import RateSurvey
from storage.enums import RefundStatus
from storage.models import OutboxMessage, Survey
from tests.api.support import (
    SECRET,
    Answer,
    MerchantClient,
    customer,
    item,
    load,
    open_refund,
    order,
    outbox,
    refund_row,
)
from tests.conftest import NOW
from tests.e2e.conftest import StartBot
from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage, parse_html

RENDERER = Renderer()
STAR_LABELS = ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (English) with paid orders SO-1 and SO-3, and Wei (Chinese) with SO-2.

    Overrides tests/e2e/conftest.py's demo shop.
    """
    await load(
        deps,
        customers=[customer("C001", "Ann Lee"), customer("C002", "王伟", locale="zh")],
        orders=[
            order("SO-1", "C001", item("TS-BLUE-M", "99.00")),
            order("SO-2", "C002", item("MUG", "59.00", category="home")),
            order("SO-3", "C001", item("CAP", "39.00")),
        ],
    )
    return deps


@pytest.fixture
async def bot(start_bot: StartBot) -> BotServer:
    """The bot as `cancelbot run` builds it (notifier included), with the merchant API on."""
    return await start_bot(merchant_api_secret=SecretStr(SECRET))


async def linked(
    fake: FakeTelegram, user_id: int, name: str, language_code: str, locale: str
) -> FakeUser:
    """A customer's Telegram account, linked by sharing their own contact (customer C00n's
    phone ends in 000n, see tests.api.support.customer)."""
    person = fake.user(
        user_id, name, language_code=language_code, phone=f"+86 138 0000 000{user_id % 10}"
    )
    await person.share_contact()
    await person.expect(text(locale, "link/linked", name=name).split("\n")[0])
    return person


def text(locale: str, template: str, **context: Any) -> str:
    """What Telegram shows for a template: its plain text, tags stripped."""
    return parse_html(str(RENDERER.render(locale, template, **context))).text


async def event(
    api: MerchantClient, refund_id: int, event_id: str, status: str, **extra: Any
) -> Answer:
    return await api.post(
        f"/api/v1/refunds/{refund_id}/events",
        {"event_id": event_id, "status": status, "occurred_at": NOW.isoformat(), **extra},
    )


async def survey_row(deps: AppDeps) -> Survey:
    async with deps.uow() as uow:
        (row,) = (await uow.session.scalars(select(Survey))).all()
    return row


async def expect_survey(person: FakeUser, locale: str, order_number: str) -> SentMessage:
    survey = await person.expect(
        text(locale, "notify/survey", order_number=order_number, rating=None).split("\n")[0]
    )
    assert survey.text == text(locale, "notify/survey", order_number=order_number, rating=None)
    assert [button["text"] for button in survey.inline_buttons()] == STAR_LABELS
    return survey


async def test_a_refunded_customer_rates_and_comments_and_is_never_asked_twice(
    api: MerchantClient, fake: FakeTelegram, shop: AppDeps
) -> None:
    ann = await linked(fake, 7001, "Ann Lee", "en", "en")
    refund_id = await open_refund(shop, "SO-1")

    answer = await event(api, refund_id, "evt-1", "refunded")
    assert (answer.status, answer.body["customer_notice"]) == (201, "queued")

    notice = await ann.expect("SO-1")  # after the menu the linking left
    assert "refunded" in notice.text
    survey = await expect_survey(ann, "en", "SO-1")

    press = await ann.press("⭐⭐⭐⭐")
    assert not (await ann.answer_to(press)).show_alert
    rated = await ann.next_message()  # the survey, edited: the stars instead of the buttons
    assert rated.message_id == survey.message_id
    assert rated.text == text("en", "notify/survey", order_number="SO-1", rating=4)
    assert rated.inline_buttons() == []
    thanks = await ann.next_message()
    assert thanks.text == text("en", "survey/thanks", ask_comment=True, minutes=30)

    await ann.send("Quick & friendly <3")
    await ann.expect(text("en", "survey/comment_saved"))
    stored = await survey_row(shop)
    assert (stored.rating, stored.comment, stored.chat_id) == (4, "Quick & friendly <3", 7001)
    assert (stored.answered_at, stored.commented_at) == (NOW, NOW)

    # The same ending again (a retried event) and another ending of the same request (as
    # a cancellation finishing at once would): nothing is asked.
    again = await event(api, refund_id, "evt-1", "refunded")
    assert again.headers.get("X-Cancelbot-Replayed") == "true"
    request_id = (await refund_row(shop, refund_id)).request_id
    async with shop.uow() as uow, uow.transaction():
        request = await uow.cases.get_request(request_id or 0)
        assert request is not None
        asked = await SurveyService(uow, shop.clock).ask_about_request(
            request, chat_id=ann.chat_id, locale="en"
        )
    assert asked is None
    await ann.settle(quiet=1.5)  # longer than the notifier's per-chat spacing
    assert ann.unread == []
    assert [m.template for m in await outbox(shop)] == ["notify/refund_status", "notify/survey"]

    # A second comment is not asked for: the next message is an ordinary one.
    await ann.send("One more thing")
    await ann.expect(text("en", "fallback/not_understood"))
    assert (await survey_row(shop)).comment == "Quick & friendly <3"


async def test_a_chinese_customer_is_asked_in_chinese(
    api: MerchantClient, fake: FakeTelegram, shop: AppDeps
) -> None:
    wei = await linked(fake, 7002, "王伟", "zh-hans", "zh")
    refund_id = await open_refund(shop, "SO-2", status=RefundStatus.PENDING_REVIEW)

    await event(api, refund_id, "evt-1", "rejected", note="已超过退货期限")
    await wei.expect("已超过退货期限")
    await expect_survey(wei, "zh", "SO-2")

    await wei.answer_to(await wei.press("⭐⭐"))
    assert (await wei.next_message()).text == text(
        "zh", "notify/survey", order_number="SO-2", rating=2
    )
    await wei.expect(text("zh", "survey/thanks", ask_comment=True, minutes=30))
    await wei.send("处理太慢了")
    await wei.expect(text("zh", "survey/comment_saved"))
    assert ((await survey_row(shop)).rating, (await survey_row(shop)).comment) == (2, "处理太慢了")


async def test_presses_commands_and_stale_buttons_around_the_survey(
    api: MerchantClient, fake: FakeTelegram, shop: AppDeps, bot: BotServer
) -> None:
    ann = await linked(fake, 7001, "Ann Lee", "en", "en")
    await event(api, await open_refund(shop, "SO-1"), "evt-1", "refunded")
    survey = await expect_survey(ann, "en", "SO-1")
    survey_id = (await survey_row(shop)).id

    # Another account pressing Ann's survey's data, and a survey that does not exist.
    bo = fake.user(7003, "Bo")
    await bo.send("/start")
    greeting = await bo.next_message()
    foreign = await bo.press_data(greeting, RateSurvey(survey_id=survey_id, stars=1).pack())
    assert (await bo.answer_to(foreign)).show_alert
    missing = await ann.press_data(survey, RateSurvey(survey_id=survey_id + 1, stars=1).pack())
    assert (await ann.answer_to(missing)).show_alert
    assert (await survey_row(shop)).rating is None

    await ann.answer_to(await ann.press("⭐⭐⭐"))
    await ann.expect(text("en", "survey/thanks", ask_comment=True, minutes=30).split("\n")[0])
    # A second press from before the edit (a double tap): the same stars change nothing,
    # others change the rating, and neither thanks or invites again.
    same = await ann.press_data(survey, RateSurvey(survey_id=survey_id, stars=3).pack())
    assert (await ann.answer_to(same)).text is None
    other = await ann.press_data(survey, RateSurvey(survey_id=survey_id, stars=5).pack())
    assert (await ann.answer_to(other)).text == text("en", "plain/survey_rating_changed", stars=5)
    assert (await ann.next_message()).text.endswith("⭐⭐⭐⭐⭐")
    assert (await survey_row(shop)).rating == 5

    # A command while the comment is awaited ends the wait and is answered as usual.
    await ann.send("/help")
    await ann.expect(text("en", "help/help", linked=True).split("\n")[0])
    await ann.send("This is not a comment")
    await ann.expect(text("en", "fallback/not_understood"))
    assert (await survey_row(shop)).comment is None
    async with shop.uow() as uow:
        messages = (await uow.session.scalars(select(OutboxMessage))).all()
    assert len(messages) == 2  # the refund's notice and the survey, nothing more


async def test_cancel_skips_the_comment(
    api: MerchantClient, fake: FakeTelegram, shop: AppDeps
) -> None:
    ann = await linked(fake, 7001, "Ann Lee", "en", "en")
    await event(api, await open_refund(shop, "SO-1"), "evt-1", "refunded")
    await expect_survey(ann, "en", "SO-1")
    await ann.answer_to(await ann.press("⭐⭐⭐⭐⭐"))
    await ann.expect(text("en", "survey/thanks", ask_comment=True, minutes=30).split("\n")[-1])

    await ann.send("/cancel")  # as the invitation says
    await ann.expect(text("en", "common/stopped"))
    await ann.send("Never mind the comment")
    await ann.expect(text("en", "fallback/not_understood"))
    assert (await survey_row(shop)).comment is None


async def test_a_rating_in_the_middle_of_another_flow_does_not_take_its_next_message(
    api: MerchantClient, fake: FakeTelegram, shop: AppDeps
) -> None:
    ann = await linked(fake, 7001, "Ann Lee", "en", "en")
    await event(api, await open_refund(shop, "SO-1"), "evt-1", "refunded")
    await expect_survey(ann, "en", "SO-1")
    await ann.send("/cancel_order")  # the cancellation now waits for an order
    await ann.settle()

    await ann.answer_to(await ann.press("⭐⭐⭐⭐"))
    thanks = await ann.expect(text("en", "survey/thanks", ask_comment=False, minutes=30))
    assert thanks.text == text("en", "survey/thanks", ask_comment=False, minutes=30)
    await ann.send("It arrived too late")

    # The cancellation's order step reads it (as an order it cannot find), not the survey.
    await ann.expect("It arrived too late")
    assert (await survey_row(shop)).rating == 4
    assert (await survey_row(shop)).comment is None
