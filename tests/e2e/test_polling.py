"""A person talks to the real bot over long polling: greeting, linking, status, language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.wiring import AppDeps
from storage.enums import Direction
from storage.models import TranscriptEntry
from tests.conftest import NOW
from tests.e2e.conftest import RENDERER, StartBot, customer, label, order_numbers, stop_bot
from tests.support.fake_telegram import FakeTelegram


async def test_newcomer_links_by_sharing_own_contact_and_sees_only_own_orders(
    fake: FakeTelegram, shop: AppDeps, start_bot: StartBot
) -> None:
    await start_bot()
    ann = await customer(shop, "C1001")
    person = fake.user(5001, "Alice", phone=ann.phone)

    await person.send("/start")
    welcome = await person.expect("let me find your account")
    assert label("share_contact") in welcome.buttons()

    await person.press(label("share_contact"))
    await person.expect(f"Thank you, {ann.name}, your account is linked")
    menu = await person.expect("What would you like to do?")
    assert person.reply_keyboard is None or person.reply_keyboard.get("remove_keyboard")

    await person.press_in(menu, label("status"))
    overview = await person.expect("Your orders")
    own = await order_numbers(shop, "C1001")
    others = await order_numbers(shop, "C1002") | await order_numbers(shop, "C1006")
    assert any(number in overview.text for number in own)
    assert not any(number in overview.text for number in others)


async def test_someone_elses_contact_card_links_nothing(
    fake: FakeTelegram, shop: AppDeps, start_bot: StartBot
) -> None:
    await start_bot()
    victim = await customer(shop, "C1002")
    mallory = fake.user(5002, "Mallory", phone="+15550000000")
    await mallory.send("/start")
    await mallory.next_message()
    await mallory.share_contact(victim.phone, own=False)
    await mallory.expect("someone else's contact card")
    await mallory.send("/status")
    await mallory.expect("I need to know who you are")
    async with shop.uow() as uow:
        assert await uow.customers.by_telegram_user(5002) is None


async def test_guest_verifies_one_order_with_last_four_digits(
    fake: FakeTelegram, shop: AppDeps, start_bot: StartBot
) -> None:
    await start_bot()
    owner = await customer(shop, "C1003")
    number = sorted(await order_numbers(shop, "C1003"))[0]
    guest = fake.user(5003, "Guest")
    await guest.send("/start")
    await guest.next_message()
    await guest.press(label("guest"))
    await guest.expect("type your order number")
    await guest.send("1234")  # digits that are not an order number: asked again later
    await guest.expect("last four digits")
    await guest.send("0000" if not (owner.phone or "").endswith("0000") else "9999")
    await guest.expect("does not match our records. You can try 4 more times")
    await guest.send(number.lower())
    await guest.expect("last four digits")
    await guest.send((owner.phone or "")[-4:])
    await guest.expect(f"Verified. You can now manage order {number}")
    await guest.send("/status")
    overview = await guest.expect("Your orders")
    assert number in overview.text
    assert all(
        other not in overview.text for other in await order_numbers(shop, "C1003") - {number}
    )


async def test_chinese_speaker_is_answered_in_chinese_and_can_switch(
    fake: FakeTelegram, start_bot: StartBot
) -> None:
    await start_bot()
    li = fake.user(5004, "Li", language_code="zh-hans")
    await li.send("/start")
    await li.expect("您好，Li")
    await li.send("/language")
    await li.expect("选择语言")
    press = await li.press(label("locale_en"))
    assert (await li.answer_to(press)).text == "Language saved"
    await li.expect("I will speak English from now on")
    await li.send("/help")
    await li.expect("What I can do")


async def test_cancel_and_resume_and_hints(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    guest = fake.user(5005, "Sam")
    await guest.send("/start")
    await guest.next_message()
    await guest.press(label("guest"))
    await guest.expect("type your order number")

    await guest.send_sticker()
    await guest.expect("I can only read text at this step")
    await guest.expect("type your order number")

    await guest.send("/start")
    await guest.expect("We were in the middle of something: checking your order number")
    await guest.press(label("resume"))
    await guest.expect("type your order number")

    await guest.send("stop")
    await guest.expect("Stopped. Nothing was changed.")
    await guest.send("stop")
    await guest.expect("There is nothing to stop right now.")
    # With nothing under way, /cancel means "cancel my order": a guest is asked who they are.
    await guest.send("/cancel")
    await guest.expect(RENDERER.render("en", "link/needed").split("<b>")[0])


async def test_old_buttons_get_an_alert_not_silence(
    fake: FakeTelegram, start_bot: StartBot
) -> None:
    await start_bot()
    person = fake.user(5006, "Ann")
    await person.send("/start")
    await person.next_message()
    await person.send("/help")
    help_message = await person.expect("What I can do")
    press = await person.press_data(help_message, "zz9:stale:button")
    answer = await person.answer_to(press)
    assert answer.show_alert
    assert "no longer active" in (answer.text or "")


async def test_deep_link_links_and_an_expired_one_is_refused(
    fake: FakeTelegram, shop: AppDeps, start_bot: StartBot
) -> None:
    await start_bot()
    tokens = shop.service_config.link_tokens
    assert tokens is not None
    fresh = tokens.issue("C1005", NOW + timedelta(days=1))
    stale = tokens.issue("C1005", NOW - timedelta(seconds=1))
    emily = fake.user(5007, "Emily")
    await emily.send(f"/start {stale}")
    await emily.expect("This link has expired")
    await emily.send(f"/start {fresh}")
    await emily.expect("your account is linked")
    async with shop.uow() as uow:
        linked = await uow.customers.by_telegram_user(5007)
    assert linked is not None
    assert linked.external_id == "C1005"


async def test_a_restart_resumes_the_conversation_and_every_message_is_transcribed(
    fake: FakeTelegram, shop: AppDeps, start_bot: StartBot
) -> None:
    first = await start_bot()
    guest = fake.user(5009, "Guest")
    await guest.send("/start")
    await guest.next_message()
    await guest.press(label("guest"))
    await guest.expect("type your order number")
    await stop_bot(first)

    second = await start_bot()
    await guest.send("SO-0000000")
    await guest.expect("last four digits")
    await stop_bot(second)  # a graceful stop lets the update finish writing its transcript

    async with shop.uow() as uow:
        entries = (
            await uow.session.scalars(select(TranscriptEntry).order_by(TranscriptEntry.id))
        ).all()
    incoming = [e.text for e in entries if e.direction is Direction.IN]
    outgoing = [e.text or "" for e in entries if e.direction is Direction.OUT]
    assert incoming == ["/start", label("guest"), "SO-0000000"]
    assert any("last four digits" in text for text in outgoing)
    assert len(outgoing) == 3
