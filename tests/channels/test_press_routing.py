"""Presses skip routers with no handler for their prefix, and reach the same handler
as they would without the root filters (dialogs/press_routing.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bench.session import MemorySession
from dialogs.press_routing import CallbackPrefixes, route_presses_by_prefix
from tests.conftest import TEST_TOKEN


class Pick(CallbackData, prefix="pk1"):
    number: int


class Page(CallbackData, prefix="pg1"):
    number: int


class Picky(CallbackData, prefix="pk", sep="|"):
    """Shares the start of `Pick`'s prefix: the separator tells them apart."""

    number: int


def _tree() -> tuple[Dispatcher, dict[str, Router]]:
    dp = Dispatcher()
    steps, pages, stale, texts, nested = (
        Router(name="steps"),
        Router(name="pages"),
        Router(name="stale"),
        Router(name="texts"),
        Router(name="nested"),
    )

    @steps.callback_query(Pick.filter())
    async def picked(_: CallbackQuery, callback_data: Pick) -> str:
        return f"picked {callback_data.number}"

    @pages.callback_query(Page.filter())
    async def paged(_: CallbackQuery, callback_data: Page) -> str:
        return f"page {callback_data.number}"

    @pages.callback_query(Picky.filter())
    async def picky(_: CallbackQuery, callback_data: Picky) -> str:
        return f"picky {callback_data.number}"

    @stale.callback_query()
    async def any_press(query: CallbackQuery) -> str:
        return f"stale {query.data}"

    @texts.message()
    async def text(_: Message) -> str:
        return "text"

    nested.include_routers(steps, pages)
    dp.include_routers(nested, texts, stale)
    return dp, {"steps": steps, "pages": pages, "stale": stale, "texts": texts, "nested": nested}


def _press(data: str) -> Update:
    user = User(id=7, is_bot=False, first_name="Ann")
    message = Message(
        message_id=1, date=datetime(2026, 1, 1, tzinfo=UTC), chat=Chat(id=7, type="private")
    )
    return Update(
        update_id=1,
        callback_query=CallbackQuery(
            id="q", from_user=user, chat_instance="c", message=message, data=data
        ),
    )


def _heads(router: Router) -> tuple[str, ...] | None:
    found = [
        f.callback
        for f in router.callback_query._handler.filters or ()
        if isinstance(f.callback, CallbackPrefixes)
    ]
    return found[0].heads if found else None


def test_each_router_is_given_the_prefixes_its_handlers_parse() -> None:
    dp, routers = _tree()
    assert route_presses_by_prefix(dp) is None  # `stale` takes any press
    assert _heads(routers["steps"]) == ("pk1:",)
    assert _heads(routers["pages"]) == ("pg1:", "pk|")
    assert _heads(routers["nested"]) == ("pg1:", "pk1:", "pk|")
    assert _heads(routers["texts"]) == ()  # no press handler: no press goes in
    assert _heads(routers["stale"]) is None
    assert _heads(dp) is None


async def test_a_press_reaches_the_handler_it_reached_before() -> None:
    bot = Bot(TEST_TOKEN, session=MemorySession())
    plain, _ = _tree()
    routed, _ = _tree()
    route_presses_by_prefix(routed)
    for data in ("pk1:4", "pg1:2", "pk|9", "pk1:x", "pk2:4", "pk:4", "zz", "pg1"):
        expected = await plain.feed_update(bot, _press(data))
        assert await routed.feed_update(bot, _press(data)) == expected, data
    assert await routed.feed_update(bot, _press("pk1:4")) == "picked 4"
    assert await routed.feed_update(bot, _press("pk|9")) == "picky 9"
    assert await routed.feed_update(bot, _press("pk1:x")) == "stale pk1:x"
    await bot.session.close()
