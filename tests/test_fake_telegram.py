"""Tests of the fake Telegram Bot API itself, driven by a real aiogram Bot and raw HTTP.

If the fake drifts from Telegram, end-to-end tests of the bot prove nothing, so these tests
pin the behaviour the bot relies on: aiogram's exceptions, long polling, HTML rules, limits,
keyboards, webhooks and the simulated people.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from aiohttp import web

from tests.support.fake_telegram import (
    FakeTelegram,
    FakeUser,
    RateLimits,
    TelegramHtmlError,
    parse_html,
)

GROUP_ID = -1001234567890


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons: (label, callback_data) pairs."""
    row = [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[row])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with fake.bot() as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def ann(fake: FakeTelegram) -> FakeUser:
    """A customer who has started the bot (so the bot may write to her)."""
    user = fake.user(1001, "Ann", phone="+31611111111")
    await user.send("/start")
    return user


def api_url(fake: FakeTelegram, method: str, token: str | None = None) -> str:
    return f"{fake.base_url}/bot{token or fake.token}/{method}"


# -- protocol --------------------------------------------------------------------------------


async def test_get_me_describes_the_bot_from_its_token(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "cancel_test_bot")


async def test_unknown_token_is_unauthorized(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    async with http.post(api_url(fake, "getMe", token="999:wrong-token-xxxxxxxxxxxxxxxx")) as r:
        assert r.status == 401
        assert await r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with Bot("999:wrong-token-xxxxxxxxxxxxxxxx", session=fake.session()) as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()


async def test_method_names_are_case_insensitive_and_unknown_ones_are_404(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    async with http.get(api_url(fake, "GETME")) as r:
        assert (r.status, (await r.json())["result"]["id"]) == (200, 123456)
    async with http.post(api_url(fake, "launchRockets")) as r:
        assert r.status == 404
        assert (await r.json())["description"] == "Not Found: method not found"


async def test_real_but_unsimulated_methods_are_404_and_listed(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    with pytest.raises(TelegramNotFound, match="not implemented by fake_telegram"):
        await bot.send_dice(ann.id)

    assert [call.method for call in fake.unimplemented_calls] == ["sendDice"]


async def test_json_and_form_bodies_are_decoded_alike(
    fake: FakeTelegram, http: aiohttp.ClientSession, ann: FakeUser
) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    json_body = {"chat_id": ann.id, "text": "json", "reply_markup": markup}
    async with http.post(api_url(fake, "sendMessage"), json=json_body) as r:
        assert (await r.json())["result"]["reply_markup"] == markup
    form = {"chat_id": str(ann.id), "text": "form", "reply_markup": '{"inline_keyboard": []}'}
    async with http.post(api_url(fake, "sendMessage"), data=form) as r:
        assert (await r.json())["ok"] is True

    assert [call.params["chat_id"] for call in fake.calls_to("sendMessage")] == [ann.id, ann.id]
    assert fake.calls_to("sendmessage")[1].params["reply_markup"] == {"inline_keyboard": []}


# -- getUpdates --------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    first = await bot.get_updates()
    poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=50))
    await fake.wait_for(lambda: fake.long_poll_waiting)

    await ann.send("hello")

    updates = await asyncio.wait_for(poll, timeout=5)
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_offset_confirms_older_updates(bot: Bot, ann: FakeUser) -> None:
    await ann.send("one")
    await ann.send("two")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["/start", "one", "two"]

    assert len(await bot.get_updates(offset=updates[1].update_id)) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []
    assert await bot.get_updates() == []


async def test_negative_offset_keeps_only_the_newest_updates(bot: Bot, ann: FakeUser) -> None:
    await ann.send("one")
    await ann.send("two")

    updates = await bot.get_updates(offset=-1)

    assert [u.message.text for u in updates if u.message] == ["two"]


async def test_limit_caps_the_batch(bot: Bot, ann: FakeUser) -> None:
    await ann.send("one")

    assert len(await bot.get_updates(limit=1)) == 1


async def test_allowed_updates_filter_is_remembered(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    start = await bot.get_updates(allowed_updates=["callback_query"])
    await bot.send_message(ann.id, "Pick", reply_markup=keyboard(("A", "a")))

    await ann.send("ignored by the filter")
    await ann.press("A")

    updates = await bot.get_updates(offset=start[-1].update_id + 1)
    assert [u.event_type for u in updates] == ["callback_query"]
    assert [u["message"]["text"] for u in fake.dropped_updates] == ["ignored by the filter"]


async def test_second_long_poll_terminates_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=50))
    await fake.wait_for(lambda: fake.long_poll_waiting)
    second = asyncio.create_task(bot.get_updates(timeout=50))

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=5)
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second


async def test_get_updates_conflicts_with_an_active_webhook(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []


# -- text and HTML -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>Tom &amp; Jerry</b>", "Tom & Jerry"),
        ("<b>bold <i>both <u>all</u></i></b> <s>gone</s>", "bold both all gone"),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
        ('<pre><code class="language-python">x = 1 &lt; 2</code></pre>', "x = 1 < 2"),
        ('<span class="tg-spoiler">secret</span> <tg-spoiler>too</tg-spoiler>', "secret too"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ("&#8364;&#x20AC; &quot;quoted&quot; &gt;", '€€ "quoted" >'),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ],
)
async def test_valid_html_is_stored_as_plain_text(
    bot: Bot, ann: FakeUser, html: str, text: str
) -> None:
    message = await bot.send_message(ann.id, html, parse_mode="HTML")

    assert message.text == text
    assert (await ann.next_message()).html == html


async def test_html_becomes_entities_with_utf16_offsets(bot: Bot, ann: FakeUser) -> None:
    message = await bot.send_message(ann.id, "😀 <b>hi</b>", parse_mode="HTML")

    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bold", 3, 2)]
    assert message.html_text == "😀 <b>hi</b>"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>Tom & Jerry</b>", 'Character "&" at byte offset 7 must be escaped'),
        ("a &nbsp; b", 'Unsupported HTML entity "&nbsp;"'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("closed</b>", "Unexpected end tag at byte offset 6"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_malformed_html_is_rejected_like_telegram(
    bot: Bot, ann: FakeUser, html: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest) as raised:
        await bot.send_message(ann.id, html, parse_mode="HTML")

    assert raised.value.message.startswith("Bad Request: can't parse entities: ")
    assert error in raised.value.message
    assert ann.inbox == []


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ],
)
def test_html_errors_match_tdlib(markup: str, error: str) -> None:
    with pytest.raises(TelegramHtmlError) as raised:
        parse_html(markup, strict=False)

    assert raised.value.message == error


def test_lenient_mode_shows_bare_ampersands_literally_like_telegram() -> None:
    parsed = parse_html("<i>a &nbsp; b &amp; c</i>", strict=False)

    assert parsed.text == "a &nbsp; b & c"
    assert parsed.entities == [{"type": "italic", "offset": 0, "length": 14}]


def test_pre_code_language_and_link_normalisation_match_tdlib() -> None:
    parsed = parse_html('<pre><code class="language-fift">x</code></pre><a href=t.me>y</a>')

    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 1, "language": "fift"},
        {"type": "text_link", "offset": 1, "length": 1, "url": "http://t.me/"},
    ]


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [
        ("x" * 4096, None),
        ("😀" * 2048, None),
        ("<b>" + "x" * 4096 + "</b>", "HTML"),
        ("&amp;" * 4096, "HTML"),
    ],
)
async def test_4096_utf16_units_after_parsing_fit(
    bot: Bot, ann: FakeUser, text: str, parse_mode: str | None
) -> None:
    await bot.send_message(ann.id, text, parse_mode=parse_mode)


@pytest.mark.parametrize("text", ["x" * 4097, "😀" * 2048 + "x"])
async def test_longer_texts_are_too_long(bot: Bot, ann: FakeUser, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ann.id, text)


async def test_empty_and_blank_texts_are_rejected(bot: Bot, ann: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ann.id, "")
    with pytest.raises(TelegramBadRequest, match="Bad Request: text must be non-empty"):
        await bot.send_message(ann.id, " \n ")


async def test_surrounding_whitespace_is_trimmed_like_telegram(bot: Bot, ann: FakeUser) -> None:
    message = await bot.send_message(ann.id, "\n <b>Hi</b>\n\n", parse_mode="HTML")

    assert message.text == "Hi"
    assert [(e.offset, e.length) for e in message.entities or []] == [(0, 2)]


async def test_unsupported_parse_mode(bot: Bot, ann: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: unsupported parse_mode"):
        await bot.send_message(ann.id, "x", parse_mode="BBCode")


# -- keyboards --------------------------------------------------------------------------------


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, ann: FakeUser) -> None:
    await bot.send_message(ann.id, "ok", reply_markup=keyboard(("Go", "x" * 64)))

    for data in ("x" * 65, "é" * 33):
        with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
            await bot.send_message(ann.id, "too long", reply_markup=keyboard(("Go", data)))


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "Plain"}, "Text buttons are unallowed in the inline keyboard"),
        ({"text": "Empty", "callback_data": ""}, "Text buttons are unallowed"),
        ({"text": "", "callback_data": "x"}, "Text must be non-empty"),
        ({"text": "Two", "callback_data": "x", "url": "https://a.io"}, "exactly one of"),
        ({"text": "Web", "url": "not-a-url"}, "URL 'not-a-url' is invalid: Wrong HTTP URL"),
        ({"text": "Ftp", "url": "ftp://a.io"}, "is invalid: Unsupported URL protocol"),
    ],
)
async def test_invalid_inline_buttons_are_rejected(
    fake: FakeTelegram,
    http: aiohttp.ClientSession,
    ann: FakeUser,
    button: dict[str, Any],
    error: str,
) -> None:
    body = {"chat_id": ann.id, "text": "x", "reply_markup": {"inline_keyboard": [[button]]}}
    async with http.post(api_url(fake, "sendMessage"), json=body) as response:
        answer = await response.json()

    assert response.status == 400
    assert error in answer["description"]


async def test_url_buttons_accept_http_and_tg_links(bot: Bot, ann: FakeUser) -> None:
    links = ["https://example.com/help", "tg://user?id=1001"]
    rows = [[InlineKeyboardButton(text=url, url=url)] for url in links]

    message = await bot.send_message(
        ann.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )

    assert message.reply_markup is not None


async def test_reply_keyboard_is_shown_until_removed(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    contact = KeyboardButton(text="Share phone", request_contact=True)
    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Help"), contact]])
    sent = await bot.send_message(ann.id, "Choose", reply_markup=markup)

    assert sent.reply_markup is None  # Telegram returns only inline keyboards with a message
    assert (await ann.next_message()).buttons() == ["Help", "Share phone"]
    assert ann.reply_keyboard is not None

    await bot.send_message(ann.id, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert ann.reply_keyboard is None


async def test_pressing_reply_buttons_sends_text_or_contact(bot: Bot, ann: FakeUser) -> None:
    contact = KeyboardButton(text="Share phone", request_contact=True)
    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Help"), contact]])
    await bot.send_message(ann.id, "Choose", reply_markup=markup)

    assert (await ann.press("Help")).kind == "text"
    assert (await ann.press("phone")).kind == "contact"

    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message]
    assert messages[-2].text == "Help"
    assert messages[-1].contact is not None
    assert messages[-1].contact.phone_number == "+31611111111"


# -- who the bot may write to -------------------------------------------------------------------


async def test_unknown_chats_are_not_found(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(2002, "Never wrote")

    for chat_id in (2002, 424242, -100999):
        with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
            await bot.send_message(chat_id, "hi")


async def test_blocked_user_gives_forbidden_and_a_member_update(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    fake.block(ann.id)

    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(ann.id, "are you there?")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")

    await ann.send("/start")  # writing again un-blocks, as Telegram's "Restart" does
    await bot.send_message(ann.id, "welcome back")


async def test_bot_cannot_start_a_private_chat_with_a_group_member(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.group(GROUP_ID)
    agent = fake.agent(3003, "Alex")
    await agent.in_group().send("hello team")

    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(agent.id, "psst")


# -- fault injection -----------------------------------------------------------------------------


async def test_fail_next_429_becomes_retry_after_once(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(ann.id, "first")
    await bot.send_message(ann.id, "second")

    assert raised.value.retry_after == 7
    assert fake.calls_to("sendMessage")[0].description == "Too Many Requests: retry after 7"
    assert fake.too_many_requests == 1
    assert [m.text for m in ann.inbox] == ["second"]


async def test_fail_next_can_target_one_chat_and_repeat(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    ben = fake.user(1002, "Ben")
    await ben.send("/start")
    fake.fail_next(
        "sendMessage", error_code=400, description="Bad Request: nope", chat_id=ben.id, times=2
    )

    await bot.send_message(ann.id, "fine")
    for _ in range(2):
        with pytest.raises(TelegramBadRequest, match="nope"):
            await bot.send_message(ben.id, "fails")
    await bot.send_message(ben.id, "fine again")


async def test_server_errors_and_migration(fake: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    fake.server_errors("sendMessage")
    fake.server_errors("sendMessage", status=502)
    fake.fail_next("sendMessage", error_code=400, migrate_to_chat_id=-100777)

    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(ann.id, "x")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ann.id, "x")
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await bot.send_message(ann.id, "x")
    assert migrated.value.migrate_to_chat_id == -100777


# -- rate limits ---------------------------------------------------------------------------------


async def test_per_chat_rate_limit_answers_429_until_the_window_passes() -> None:
    limits = RateLimits(per_chat_per_second=1)
    async with FakeTelegram(rate_limits=limits) as fake, fake.bot() as bot:
        ann = fake.user(1001)
        await ann.send("/start")
        fake.clock.freeze()

        await bot.send_message(ann.id, "one")
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(ann.id, "two")
        fake.clock.advance(1.0)
        await bot.send_message(ann.id, "three")
    assert raised.value.retry_after == 1
    assert fake.too_many_requests == 1
    assert [m.text for m in ann.inbox] == ["one", "three"]


async def test_global_rate_limit_counts_only_successful_sends() -> None:
    limits = RateLimits(global_per_second=2, per_chat_per_second=None)
    async with FakeTelegram(rate_limits=limits) as fake, fake.bot() as bot:
        users = [fake.user(1000 + n) for n in range(3)]
        for user in users:
            await user.send("/start")
        fake.clock.freeze()

        with pytest.raises(TelegramBadRequest):
            await bot.send_message(users[0].id, "")  # a failed send does not count
        await bot.send_message(users[0].id, "a")
        await bot.send_message(users[1].id, "b")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(users[2].id, "c")
    assert fake.too_many_requests == 1


# -- editing and deleting -------------------------------------------------------------------------


async def test_identical_edit_is_not_modified(bot: Bot, ann: FakeUser) -> None:
    sent = await bot.send_message(ann.id, "Status", reply_markup=keyboard(("Refresh", "r")))

    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(
            "Status",
            chat_id=ann.id,
            message_id=sent.message_id,
            reply_markup=keyboard(("Refresh", "r")),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard(("Refresh", "r"))
        )


async def test_editing_text_without_markup_removes_the_keyboard(bot: Bot, ann: FakeUser) -> None:
    sent = await bot.send_message(ann.id, "Status", reply_markup=keyboard(("Refresh", "r")))

    edited = await bot.edit_message_text("Status", chat_id=ann.id, message_id=sent.message_id)

    assert isinstance(edited, type(sent))
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    assert ann.last.buttons() == []


async def test_missing_messages_cannot_be_edited_or_deleted(bot: Bot, ann: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(ann.id, 999)


async def test_deleted_messages_leave_the_inbox(bot: Bot, ann: FakeUser) -> None:
    sent = await bot.send_message(ann.id, "temporary")

    assert await bot.delete_message(ann.id, sent.message_id) is True
    assert ann.inbox == []


# -- callback queries -----------------------------------------------------------------------------


async def test_press_sends_a_callback_query_with_the_current_message(
    bot: Bot, ann: FakeUser
) -> None:
    sent = await bot.send_message(ann.id, "Cancel order #7?", reply_markup=keyboard(("Yes", "c:7")))
    await bot.edit_message_text(
        "Really cancel #7?",
        chat_id=ann.id,
        message_id=sent.message_id,
        reply_markup=keyboard(("Yes, cancel", "c:7:y")),
    )

    press = await ann.press("Yes")

    update = (await bot.get_updates())[-1]
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (press.query_id, "c:7:y", ann.id)
    assert query.message is not None
    assert (query.message.message_id, query.message.text) == (sent.message_id, "Really cancel #7?")


async def test_callback_queries_are_answered_once_within_15_seconds(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    await bot.send_message(ann.id, "Pick", reply_markup=keyboard(("A", "a"), ("B", "b")))
    first = await ann.press("A")
    await bot.answer_callback_query(first.query_id or "", text="Done", show_alert=True)

    answer = await ann.answer_to(first)
    assert (answer.text, answer.show_alert) == ("Done", True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(first.query_id or "")

    late = await ann.press("B")
    fake.clock.advance(16)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late.query_id or "")
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("12345")


async def test_stale_and_tampered_presses(bot: Bot, ann: FakeUser) -> None:
    old = await bot.send_message(ann.id, "Old menu", reply_markup=keyboard(("Cancel", "v1:cancel")))
    await bot.send_message(ann.id, "New menu", reply_markup=keyboard(("Cancel", "v2:cancel")))

    await ann.press("Cancel")
    await ann.press_in(old.message_id, "Cancel")
    await ann.press_data(old.message_id, "v1:refund:999")

    updates = await bot.get_updates()
    data = [u.callback_query.data for u in updates if u.callback_query]
    assert data == ["v2:cancel", "v1:cancel", "v1:refund:999"]


async def test_pressing_a_missing_or_ambiguous_label_explains_itself(
    bot: Bot, ann: FakeUser
) -> None:
    await bot.send_message(
        ann.id, "Pick", reply_markup=keyboard(("Refund", "r"), ("Refund fee", "f"))
    )

    with pytest.raises(AssertionError, match=r"no button 'Reorder'[\s\S]*'Refund', 'Refund fee'"):
        await ann.press("Reorder")
    with pytest.raises(AssertionError, match="ambiguous"):
        await ann.press("Ref")
    assert (await ann.press("Refund")).data == "r"


# -- people ---------------------------------------------------------------------------------------


async def test_commands_carry_a_bot_command_entity(bot: Bot, ann: FakeUser) -> None:
    await ann.send("/start order_42")

    message = (await bot.get_updates())[-1].message
    assert message is not None
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]


async def test_share_contact_own_and_someone_elses(bot: Bot, ann: FakeUser) -> None:
    await ann.share_contact()
    await ann.share_contact("+4915112345678", own=False)

    own, other = [u.message.contact for u in (await bot.get_updates())[-2:] if u.message]
    assert own is not None
    assert other is not None
    assert (own.phone_number, own.user_id, own.first_name) == ("+31611111111", ann.id, "Ann")
    assert other.phone_number == "+4915112345678"
    assert other.user_id not in (None, ann.id)


async def test_media_messages_are_valid_for_aiogram(bot: Bot, ann: FakeUser) -> None:
    await ann.send_photo(caption="my receipt")
    await ann.send_sticker()
    await ann.send_voice()
    await ann.send_location()

    messages = [u.message for u in (await bot.get_updates())[-4:] if u.message]
    kinds = [m.content_type for m in messages]
    assert kinds == ["photo", "sticker", "voice", "location"]
    assert messages[0].caption == "my receipt"


async def test_next_message_reads_sends_and_later_edits_in_order(bot: Bot, ann: FakeUser) -> None:
    first = await bot.send_message(ann.id, "Working…")
    await bot.send_message(ann.id, "Second")
    await bot.edit_message_text("Done", chat_id=ann.id, message_id=first.message_id)

    assert (await ann.next_message()).text == "Done"  # edited before it was read: seen once
    assert (await ann.next_message()).text == "Second"
    assert ann.unread == []

    await bot.edit_message_text("Done twice", chat_id=ann.id, message_id=first.message_id)
    reread = await ann.next_message()
    assert (reread.message_id, reread.text, reread.edited) == (first.message_id, "Done twice", True)


async def test_expect_skips_to_the_matching_message(bot: Bot, ann: FakeUser) -> None:
    for text in ("Hello", "Your order #42 is cancelled", "Anything else?"):
        await bot.send_message(ann.id, text)

    assert "#42" in (await ann.expect("cancelled")).text
    assert (await ann.next_message()).text == "Anything else?"


async def test_waiting_fails_with_a_readable_dump(
    fake: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    await bot.send_message(ann.id, "Only this")
    await ann.next_message()

    with pytest.raises(AssertionError, match=r"no new message within 0.05s[\s\S]*#2: 'Only this'"):
        await ann.next_message(timeout=0.05)
    with pytest.raises(AssertionError, match=r"recent API calls:[\s\S]*sendMessage"):
        await fake.wait_for(lambda: False, timeout=0.05)


async def test_settle_waits_until_the_chat_is_quiet(bot: Bot, ann: FakeUser) -> None:
    await bot.send_message(ann.id, "hi")

    await ann.settle(quiet=0.05)

    assert [m.text for m in ann.unread] == ["hi"]


# -- forum topics and agents ----------------------------------------------------------------------


async def test_forum_topics_and_agent_replies(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(GROUP_ID)
    agent = fake.agent(3003, "Alex")

    topic = await bot.create_forum_topic(GROUP_ID, "Ann #1001")
    await bot.send_message(GROUP_ID, "New request", message_thread_id=topic.message_thread_id)
    assert (await group.expect_topic("Ann")).message_thread_id == topic.message_thread_id
    in_topic = agent.topic(topic.message_thread_id)
    assert (await in_topic.next_message()).text == "New request"

    await in_topic.send("On it")

    message = (await bot.get_updates())[-1].message
    assert message is not None
    assert (message.message_thread_id, message.is_topic_message) == (topic.message_thread_id, True)
    assert message.reply_to_message is not None
    assert message.reply_to_message.forum_topic_created is not None
    assert message.from_user is not None
    assert message.from_user.id == agent.id


async def test_forum_topic_errors(fake: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    fake.group(GROUP_ID)
    topic = await bot.create_forum_topic(GROUP_ID, "Case")

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(GROUP_ID, "x", message_thread_id=topic.message_thread_id + 100)
    assert await bot.close_forum_topic(GROUP_ID, topic.message_thread_id) is True
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(GROUP_ID, topic.message_thread_id)
    assert await bot.reopen_forum_topic(GROUP_ID, topic.message_thread_id) is True
    assert await bot.edit_forum_topic(GROUP_ID, topic.message_thread_id, name="Case (done)")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(ann.id, "nope")


# -- other methods --------------------------------------------------------------------------------


async def test_copy_forward_and_photo(fake: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    fake.group(GROUP_ID)
    original = await ann.send("My order never arrived")

    copied = await bot.copy_message(GROUP_ID, ann.id, original["message_id"])
    forwarded = await bot.forward_message(GROUP_ID, ann.id, original["message_id"])
    photo = await bot.send_photo(
        ann.id, "AgACAgIAAxkBAAIB", caption="<i>receipt</i>", parse_mode="HTML"
    )

    group_texts = [m.text for m in fake.sent_messages(GROUP_ID)]
    assert group_texts == ["My order never arrived", "My order never arrived"]
    assert copied.message_id == fake.sent_messages(GROUP_ID)[0].message_id
    assert forwarded.forward_origin is not None
    assert photo.caption == "receipt"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(GROUP_ID, ann.id, 999)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ann.id, "AgACAgIAAxkBAAIB", caption="x" * 1025)


async def test_replies_must_target_existing_messages(bot: Bot, ann: FakeUser) -> None:
    replied = await bot.send_message(ann.id, "re", reply_parameters=ReplyParameters(message_id=1))

    assert replied.reply_to_message is not None
    assert replied.reply_to_message.text == "/start"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ann.id, "re", reply_parameters=ReplyParameters(message_id=999))


async def test_commands_are_stored_per_scope_and_language(bot: Bot, ann: FakeUser) -> None:
    general = [BotCommand(command="start", description="Start")]
    dutch = [BotCommand(command="annuleer", description="Annuleren")]
    scope = BotCommandScopeChat(chat_id=ann.id)

    await bot.set_my_commands(general)
    await bot.set_my_commands(dutch, scope=scope, language_code="nl")

    async def names(**where: Any) -> list[str]:
        return [command.command for command in await bot.get_my_commands(**where)]

    assert await names() == ["start"]
    assert await names(scope=scope, language_code="nl") == ["annuleer"]
    assert await names(scope=scope) == []
    await bot.delete_my_commands()
    assert await names() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_small_methods(bot: Bot, ann: FakeUser) -> None:
    assert await bot.send_chat_action(ann.id, "typing") is True
    assert (await bot.get_chat(ann.id)).first_name == "Ann"
    assert await bot.set_chat_menu_button() is True
    assert await bot.log_out() is True


# -- webhooks -------------------------------------------------------------------------------------


class WebhookReceiver:
    """A tiny web app standing in for the bot's webhook endpoint."""

    def __init__(self, secret: str | None, statuses: list[int] | None = None) -> None:
        self.secret = secret
        self.statuses = list(statuses or [])
        self.received: list[dict[str, Any]] = []
        self.reply: dict[str, Any] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != self.secret:
            return web.Response(status=401, text="Unauthorized")
        self.received.append(await request.json())
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        return web.json_response(self.reply)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    endpoint = WebhookReceiver(secret="s3cr3t")
    await endpoint.start()
    yield endpoint
    assert endpoint.runner is not None
    await endpoint.runner.cleanup()


async def test_webhook_delivers_queued_and_new_updates_with_the_secret(
    fake: FakeTelegram, bot: Bot, ann: FakeUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="s3cr3t")
    await ann.send("after the webhook was set")

    await fake.wait_for(lambda: len(receiver.received) == 2)
    texts = [update["message"]["text"] for update in receiver.received]
    assert texts == ["/start", "after the webhook was set"]
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)


async def test_webhook_retries_and_records_failures(
    fake: FakeTelegram, bot: Bot, ann: FakeUser, receiver: WebhookReceiver
) -> None:
    receiver.statuses = [500, 500]
    await bot.set_webhook(receiver.url, secret_token="s3cr3t")

    await fake.wait_for(lambda: [d.status for d in fake.webhook_deliveries] == [500, 500, 200])
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_deliveries_with_a_wrong_secret_are_recorded_as_401(
    fake: FakeTelegram, bot: Bot, ann: FakeUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="not-the-one-the-bot-expects")

    await fake.wait_for(lambda: len(fake.webhook_deliveries) == 3)

    assert {(d.status, d.secret_sent) for d in fake.webhook_deliveries} == {
        (401, "not-the-one-the-bot-expects")
    }
    assert receiver.received == []
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"


async def test_wrong_secret_is_refused_by_the_endpoint(
    fake: FakeTelegram, bot: Bot, ann: FakeUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="s3cr3t", drop_pending_updates=True)
    update = fake.make_update(
        "message", {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    )

    assert await fake.post_update_to_webhook(update, secret="wrong") == 401
    assert await fake.post_update_to_webhook(update, secret=None) == 401
    assert await fake.post_update_to_webhook(update) == 200
    assert [(d.status, d.manual) for d in fake.webhook_deliveries] == [
        (401, True),
        (401, True),
        (200, True),
    ]


async def test_webhook_reply_body_is_executed_as_an_api_call(
    fake: FakeTelegram, bot: Bot, ann: FakeUser, receiver: WebhookReceiver
) -> None:
    receiver.reply = {"method": "sendMessage", "chat_id": ann.id, "text": "answered inline"}
    await bot.set_webhook(receiver.url, secret_token="s3cr3t")

    reply = await ann.next_message()

    assert reply.text == "answered inline"
    assert fake.calls_to("sendMessage")[-1].via_webhook_reply is True
