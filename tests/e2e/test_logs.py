"""Logs never show what customers wrote or their unmasked phone numbers: not at DEBUG, not in
tracebacks, not as SQL parameters."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from bot.channels.telegram import BotServer
from bot.logs import MaskingFormatter, configure_logging, mask
from bot.wiring import AppDeps
from tests.e2e.conftest import StartBot, stop_bot
from tests.storage.helpers import add_all, make_customer
from tests.support.fake_telegram import FakeTelegram

SECRET_WORDS = "Bartholomew-knows-my-pin-4711"
PHONE_DIGITS = "8613800000001"


@pytest.mark.parametrize(
    ("line", "hidden", "kept"),
    [
        ("Contact(phone_number='8613800138000', user_id=7001)", "13800138", "7001"),
        ('{"phone_number": "15550100222"}', "5550100", "0222"),
        ("phone: 138 0013 8000", "138 0013", "8000"),
        ("+86 138-0013-8000 called", "138-0013", "8000"),
        ("bare 13800138000 in a message", "13800138", "8000"),
        ("update=100000001 user=7001234567 chat=-1001234567890", "***", "7001234567"),
    ],
)
def test_phone_numbers_are_masked_with_or_without_plus(line: str, hidden: str, kept: str) -> None:
    masked = mask(line)
    assert hidden not in masked
    assert kept in masked


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The production logging set-up at LOG_LEVEL=DEBUG, written to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("text", "DEBUG")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(MaskingFormatter("%(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    try:
        yield buffer
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite"):
            logging.getLogger(name).setLevel(logging.NOTSET)


async def test_debug_logs_do_not_show_what_customers_wrote(
    debug_log: io.StringIO, start_bot: StartBot, fake: FakeTelegram, shop: AppDeps
) -> None:
    bot: BotServer = await start_bot()
    person = fake.user(7301, "Ann", phone="+86 138 0000 0001")
    await person.send(f"/start {SECRET_WORDS}")
    await person.next_message()
    await person.send(SECRET_WORDS)
    await person.next_message()
    await person.share_contact(PHONE_DIGITS)
    await person.next_message()
    await stop_bot(bot)  # everything it logs is written
    written = debug_log.getvalue()
    assert "DEBUG" in written  # the level really was DEBUG
    assert "update=" in written
    assert SECRET_WORDS not in written
    assert PHONE_DIGITS not in written


async def test_a_database_error_in_a_traceback_shows_no_values(
    debug_log: io.StringIO, deps: AppDeps
) -> None:
    async with deps.uow() as uow:
        await add_all(uow, make_customer("C-1"))
    try:
        async with deps.uow() as uow:
            await add_all(uow, make_customer("C-1", name=SECRET_WORDS, phone="+" + PHONE_DIGITS))
    except IntegrityError:
        logging.getLogger("tests").exception("import failed")
    written = debug_log.getvalue()
    assert "IntegrityError" in written
    assert SECRET_WORDS not in written
    assert PHONE_DIGITS not in written
