"""Talking like people do: starting in words, asking for a person, being misunderstood,
stopping, coming back with /start, and sending a sticker where words were asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.services.imports.records import OrderRecord
from storage.enums import CaseStatus, OfferStatus, TicketReason
from storage.models import Offer
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
    Chat,
    give_reason,
    offer,
    option,
    shown,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import (
    Scenario,
    ago,
    item,
    settle,
)
from tests.e2e.cancellation.rows import (
    cases_of,
    offers_for,
    snapshot,
    tickets_of,
)
from tests.support.fake_telegram import SentMessage


@dataclass
class Shop:
    """One customer with an order for every step of the dialog."""

    paid: OrderRecord  # changed_mind: the decision with an offer, then the summary
    late: OrderRecord  # late_delivery: two offers, so a choice of refund method after
    delivered: OrderRecord  # asks for the condition, or a photo
    tea_set: OrderRecord  # several items to choose from


async def open_shop(scenario: Scenario, lang: str = "en") -> tuple[Chat, Shop]:
    ann = scenario.customer()
    shop = Shop(
        paid=scenario.order(
            ann, "SO-9100001", item("Desk Lamp", "120.00", zh="台灯"), placed=ago(days=1)
        ),
        late=scenario.order(
            ann,
            "SO-9100002",
            item("Espresso Machine", "390.00", zh="咖啡机"),
            status="processing",
            placed=ago(days=9),
            promised=(NOW - timedelta(days=2)).date(),
        ),
        delivered=scenario.order(
            ann,
            "SO-9100003",
            item("Linen Shirt", "180.00", zh="亚麻衬衫", category="apparel"),
            status="delivered",
            delivered=ago(days=3),
        ),
        tea_set=scenario.order(
            ann,
            "SO-9100004",
            item("Porcelain Mug", "30.00", zh="瓷杯", quantity=2),
            item("Teapot", "80.00", zh="茶壶"),
            status="delivered",
            delivered=ago(days=2),
        ),
    )
    await scenario.load()
    return await scenario.link(ann, lang), shop


STATES = {
    "order": "order",
    "items": "items",
    "reason": "reason",
    "reason_text": "reason_text",
    "condition": "condition",
    "photo": "photo",
    "decision": "decision",
    "method": "method",
    "summary": "confirm",
}
"""Each step a customer can be at, and its FSM state in CancelFlow."""


async def walk_to(chat: Chat, shop: Shop, step: str) -> SentMessage:
    """Bring the conversation to `step`; returns the message that asks its question."""
    if step == "order":
        await chat.press("cancel_order")
        return await chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    if step == "items":
        await chat.send(f"/cancel_order {shop.tea_set.number}")
        return await chat.expect_text("cancel/choose_items", order=shown(shop.tea_set, chat.locale))
    if step in ("reason", "reason_text", "decision", "summary"):
        prompt = await to_reason(chat, shop.paid)
        if step == "reason":
            return prompt
        if step == "reason_text":
            await give_reason(chat, "other")
            return await chat.expect_text("cancel/describe_other")
        await give_reason(chat, "changed_mind")
        decision = await chat.expect_exactly(paid_decision(chat, shop))
        if step == "decision":
            return decision
        await chat.press("no_thanks_cancel")
        return await chat.expect_exactly(chat.summary(shop.paid, option("card", "130.00")))
    if step in ("condition", "photo"):
        await to_reason(chat, shop.delivered)
        if step == "condition":
            await give_reason(chat, "changed_mind")
            return await chat.expect_text("cancel/choose_condition")
        await give_reason(chat, "not_as_described")
        return await chat.expect_text("cancel/ask_photo", required=False)
    assert step == "method"
    await to_reason(chat, shop.late)
    await give_reason(chat, "late_delivery")
    await chat.expect_exactly(
        chat.decision(
            shop.late,
            "before_shipping",
            lines=[("items", "390.00", "390.00"), ("shipping", "10.00", "10.00")],
            refund="400.00",
            offers=[
                offer("compensation_voucher", "40.00", percent=10, of="order_total"),
                offer("expedited_shipping", "0.00"),
            ],
        )
    )
    await chat.press("no_thanks_cancel")
    card, credit = option("card", "400.00"), option("store_credit", "440.00", "40.00")
    return await chat.expect_text("cancel/choose_method", options=[card, credit])


def paid_decision(chat: Chat, shop: Shop) -> str:
    return chat.decision(
        shop.paid,
        "before_shipping",
        lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
        refund="130.00",
        offers=[store_credit("130.00")],
    )


# -- ways in -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "lang", "then"),
    [
        ("I want to cancel my order", "en", "list"),
        ("cancel 10O2345", "en", "reason"),
        ("退掉我买的耳机", "zh", "did_you_mean"),
        ("取消订单", "zh", "list"),
    ],
)
async def test_saying_so_in_words_starts_a_cancellation(
    scenario: Scenario, said: str, lang: str, then: str
) -> None:
    ann = scenario.customer()
    headphones = scenario.order(
        ann, "SO-1002345", item("Bluetooth Headphones", "399.00", zh="蓝牙耳机")
    )
    kettle = scenario.order(
        ann,
        "SO-1007788",
        item("Electric Kettle", "159.00", zh="电热水壶"),
        placed=ago(days=6),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.send(said)
    if then == "list":
        message = await chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
        assert message.buttons() == [chat.order_button(headphones), chat.order_button(kettle)]
    elif then == "reason":
        await chat.expect_text("cancel/choose_reason", order=shown(headphones, lang))
    else:
        await chat.expect_text("cancel/did_you_mean", order=shown(headphones, lang))
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.status is CaseStatus.OPEN


# -- a person --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("said", "lang"), [("agent", "en"), ("人工", "zh")])
async def test_asking_for_a_person_mid_flow_opens_a_ticket(
    scenario: Scenario, said: str, lang: str
) -> None:
    chat, shop = await open_shop(scenario, lang)
    await walk_to(chat, shop, "reason")

    await chat.send(said)
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("yes_person")
    await chat.expect_text("person/ticket_opened")
    await chat.expect_text("menu/main")

    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.case_id, ticket.customer_id) == (
        TicketReason.CUSTOMER_ASKED,
        case.id,
        case.customer_id,
    )


async def test_no_thanks_to_a_person_carries_on_with_nothing_opened(scenario: Scenario) -> None:
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "reason")
    await chat.send("can I talk to a real person")
    await chat.expect_text("person/offer", misunderstood=False)
    await chat.press("no_person")
    await chat.expect_text("person/declined")
    assert await tickets_of(scenario.deps, chat.chat_id) == []
    await give_reason(chat, "changed_mind")  # the step is still there to answer
    await chat.expect_exactly(paid_decision(chat, shop))


async def test_misunderstood_twice_in_a_row_offers_a_person(scenario: Scenario, lang: str) -> None:
    chat, shop = await open_shop(scenario, lang)
    await walk_to(chat, shop, "reason")

    await chat.send("hmm")
    await chat.expect_text("cancel/reason_unclear")
    await chat.send("well, you know")
    await chat.expect_text("cancel/reason_unclear")
    offered = await chat.expect_text("person/offer", misunderstood=True)
    assert offered.buttons() == [chat.button("yes_person"), chat.button("no_person")]
    await chat.press("yes_person")
    await chat.expect_text("person/ticket_opened")
    assert len(await tickets_of(scenario.deps, chat.chat_id)) == 1
    offers = chat.text("person/offer", misunderstood=True)
    assert [m.text for m in chat.person.inbox].count(offers) == 1  # not after the first


async def test_an_answer_understood_in_between_starts_the_count_again(
    scenario: Scenario,
) -> None:
    """Text where buttons are, a right answer, text again: not twice in a row."""
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "condition")
    await chat.send("it is fine")
    await chat.expect_text("cancel/use_buttons")
    await chat.press("condition", "unopened")
    await chat.expect(chat.label("part", "items"))
    await chat.send("hm?")
    await chat.expect_text("cancel/use_buttons")
    await settle(scenario.server)  # anything that answer was going to send is sent
    assert chat.text("person/offer", misunderstood=True) not in [m.text for m in chat.person.inbox]


async def test_thanks_where_buttons_are_is_answered_kindly_and_is_no_misunderstanding(
    scenario: Scenario,
) -> None:
    """ "thanks" between two texts the bot does not understand: not twice in a row."""
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "condition")
    await chat.send("zzqx qqzz")
    await chat.expect_text("cancel/use_buttons")
    await chat.send("thanks!")
    await chat.expect_text("cancel/use_buttons", courtesy="thanks")
    await chat.send("zzqx qqzz")
    await chat.expect_text("cancel/use_buttons")
    await settle(scenario.server)
    assert chat.text("person/offer", misunderstood=True) not in [m.text for m in chat.person.inbox]


MISSES = {
    "order": ("zzqx qqzz", "cancel/choose_order"),
    "items": ("zzqx qqzz", "cancel/use_buttons"),
    "reason": ("zzqx qqzz", "cancel/reason_unclear"),
    "reason_text": (None, "fallback/text_expected"),  # any words are a description here
    "condition": ("zzqx qqzz", "cancel/use_buttons"),
    "photo": ("zzqx qqzz", "cancel/photo_expected"),
    "decision": ("zzqx qqzz", "cancel/use_buttons"),
    "method": ("zzqx qqzz", "cancel/use_buttons"),
    "summary": ("zzqx qqzz", "cancel/use_buttons"),
    "idle": ("zzqx qqzz", "fallback/not_understood"),
}
"""At each step (and with nothing under way), something the bot cannot read there, and
the template of its answer."""


async def miss(chat: Chat, step: str) -> None:
    words, answer = MISSES[step]
    if words is None:
        await chat.person.send_sticker()
    else:
        await chat.send(words)
    if answer == "cancel/choose_order":  # not found: says so above the list
        await chat.expect(chat.text("cancel/not_found", text=words).splitlines()[0])
    else:
        await chat.expect_text(answer)


async def walk_or_idle(chat: Chat, shop: Shop, step: str) -> None:
    if step != "idle":
        await walk_to(chat, shop, step)


@pytest.mark.parametrize("step", list(MISSES))
async def test_two_misunderstandings_in_a_row_offer_a_person_at_every_step(
    scenario: Scenario, step: str
) -> None:
    chat, shop = await open_shop(scenario)
    await walk_or_idle(chat, shop, step)

    await miss(chat, step)
    await miss(chat, step)
    offered = await chat.expect_text("person/offer", misunderstood=True)
    assert offered.buttons() == [chat.button("yes_person"), chat.button("no_person")]
    await chat.press("yes_person")
    await chat.expect_text("person/ticket_opened")
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    assert ticket.reason is TicketReason.NOT_UNDERSTOOD
    offers = chat.text("person/offer", misunderstood=True)
    assert [m.text for m in chat.person.inbox].count(offers) == 1  # not after the first


@pytest.mark.parametrize("step", ["idle", "photo", "decision"])
async def test_something_understood_in_between_starts_the_count_again(
    scenario: Scenario, step: str
) -> None:
    """A miss, a greeting or a press the bot understands, a miss: not twice in a row."""
    chat, shop = await open_shop(scenario, "zh")
    await walk_or_idle(chat, shop, step)
    await miss(chat, step)
    if step == "idle":
        await chat.send("谢谢")
        await chat.expect_text("smalltalk/thanks")
    else:
        await chat.send("/start")
        await chat.expect(chat.text("start/resume", state=f"CancelFlow:{STATES[step]}"))
        await chat.press("resume")
    await miss(chat, step)
    await settle(scenario.server)  # anything that answer was going to send is sent
    assert chat.text("person/offer", misunderstood=True) not in [m.text for m in chat.person.inbox]


async def test_misunderstood_twice_with_nothing_under_way_in_chinese(scenario: Scenario) -> None:
    chat, _ = await open_shop(scenario, "zh")
    await chat.send("嗯嗯嗯嗯")
    await chat.expect_text("fallback/not_understood")
    await chat.send("啊啊啊啊")
    await chat.expect_text("fallback/not_understood")
    await chat.expect_text("person/offer", misunderstood=True)


# -- stopping and coming back -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "word", "lang"),
    [
        ("order", "/cancel", "en"),
        ("items", "stop", "en"),
        ("reason", "停止", "zh"),
        ("reason_text", "/cancel", "zh"),
        ("condition", "never mind", "en"),
        ("photo", "/cancel", "en"),
        ("decision", "算了", "zh"),
        ("method", "/cancel", "en"),
        ("summary", "stop", "zh"),
    ],
)
async def test_stop_leaves_the_flow_at_any_step_and_changes_nothing(
    scenario: Scenario, step: str, word: str, lang: str
) -> None:
    chat, shop = await open_shop(scenario, lang)
    before = await snapshot(scenario.deps)
    prompt = await walk_to(chat, shop, step)

    await chat.send(word)
    stopped = await chat.expect_text("common/stopped")
    assert chat.button("cancel_order") in stopped.buttons()

    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.status is CaseStatus.ABANDONED
    after = await snapshot(scenario.deps)
    offers: list[Offer] = []
    for order in (shop.paid, shop.late):
        offers += await offers_for(scenario.deps, order.number)
    assert {o.status for o in offers} <= {OfferStatus.EXPIRED}
    assert {**after, "offers": []} == {**before, "offers": []}
    if prompt.inline_buttons():  # its buttons are dead now
        press = await chat.person.press_in(prompt, prompt.inline_buttons()[0]["text"])
        assert await chat.alert(press) == chat.text("plain/stale_button")


@pytest.mark.parametrize("step", list(STATES))
async def test_start_during_the_flow_offers_to_resume_on_the_same_step(
    scenario: Scenario, step: str
) -> None:
    chat, shop = await open_shop(scenario)
    prompt = await walk_to(chat, shop, step)
    if step == "items":
        await chat.press("item", "Porcelain Mug", 0, 2)
    offers_before = [(o.id, o.status) for o in await offers_for(scenario.deps, shop.paid.number)]

    await chat.send("/start")
    question = await chat.expect_text("start/resume", state=f"CancelFlow:{STATES[step]}")
    assert question.buttons() == [chat.button("resume"), chat.button("restart")]
    await chat.press("resume")

    again = chat.person.last
    assert again.message_id != prompt.message_id
    assert (again.text, again.buttons()) == (prompt.text, prompt.buttons())
    offers_after = [(o.id, o.status) for o in await offers_for(scenario.deps, shop.paid.number)]
    assert offers_after == offers_before  # shown again, not recorded again


async def test_start_over_abandons_the_case(scenario: Scenario) -> None:
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "decision")
    await chat.send("/start")
    await chat.expect_text("start/resume", state="CancelFlow:decision")
    await chat.press("restart")
    await chat.expect_text("start/welcome_linked", name=chat.customer.name)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.status is CaseStatus.ABANDONED
    [expired] = await offers_for(scenario.deps, shop.paid.number)
    assert expired.status is OfferStatus.EXPIRED


# -- the wrong kind of message ------------------------------------------------------------------


async def test_a_photo_where_the_order_is_asked_for_gets_a_hint(scenario: Scenario) -> None:
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "order")
    await chat.person.send_photo()
    await chat.expect_text("fallback/text_expected")
    await chat.send(shop.paid.number)  # and the step still works
    await chat.expect_text("cancel/choose_reason", order=shown(shop.paid, "en"))


async def test_a_sticker_where_the_reason_is_asked_for_gets_a_hint(
    scenario: Scenario, lang: str
) -> None:
    chat, shop = await open_shop(scenario, lang)
    await walk_to(chat, shop, "reason")
    await chat.person.send_sticker()
    await chat.expect_text("fallback/text_expected")
    await chat.send("I ordered it by mistake" if lang == "en" else "下错单了")
    await chat.expect(chat.label("part", "items"))
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.reason_code == "mistake"


async def test_a_sticker_where_a_photo_is_asked_for_gets_a_hint(scenario: Scenario) -> None:
    chat, shop = await open_shop(scenario)
    await walk_to(chat, shop, "photo")
    await chat.person.send_sticker()
    hint = await chat.expect_text("cancel/photo_expected")
    assert hint.buttons() == [chat.button("skip_photo")]  # the way on, under the hint too
    await chat.person.send_voice()
    await chat.expect_text("cancel/photo_expected")
    await chat.person.send_photo()
    await chat.expect_text("cancel/photo_received")
