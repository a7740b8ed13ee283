"""Which order: buttons and pages, a typed number with the usual slips, a product's name,
and what is not the customer's or cannot be cancelled again."""

from __future__ import annotations

import pytest

from bot.services.imports.records import CustomerRecord, OrderRecord
from storage.enums import CaseStatus, RequestStatus
from tests.e2e.cancellation.chat import (
    Chat,
    confirm,
    give_reason,
    shown,
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
    requests_for,
    snapshot,
)


def headphones_and_kettle(
    scenario: Scenario, customer: CustomerRecord
) -> tuple[OrderRecord, OrderRecord]:
    headphones = scenario.order(
        customer,
        "SO-1002345",
        item("Bluetooth Headphones", "399.00", zh="蓝牙耳机", color="black"),
        placed=ago(days=2),
    )
    kettle = scenario.order(
        customer,
        "SO-1007788",
        item("Electric Kettle", "159.00", zh="电热水壶", category="home", color="blue"),
        placed=ago(days=5),
    )
    return headphones, kettle


async def reason_step(chat: Chat, order: OrderRecord) -> None:
    await chat.expect_text("cancel/choose_reason", order=shown(order, chat.locale))


async def order_list(chat: Chat, orders: list[OrderRecord], **context: object) -> None:
    """The list of orders to pick from: its text, and one button per order, newest first."""
    message = await chat.expect_text(
        "cancel/choose_order", **{"intro": None, "page": 0, "pages": 1, **context}
    )
    arrows = [b for b in message.buttons() if b in (chat.button("next"), chat.button("previous"))]
    assert [b for b in message.buttons() if b not in arrows] == [
        chat.order_button(order) for order in orders
    ]


# -- typed numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "so-1002345",  # lower case
        "SO 100 2345",  # spaces
        "#SO-1002345",
        "SO-10O2345",  # the letter O for a zero
        "SO-l002345",  # l for 1
        "SO-I002345",  # I for 1
        "1002345",  # without the prefix
    ],
)
async def test_a_number_typed_loosely_is_still_that_order(scenario: Scenario, typed: str) -> None:
    ann = scenario.customer()
    headphones, _ = headphones_and_kettle(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.press("cancel_order")
    await chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    await chat.send(typed)
    await reason_step(chat, headphones)


@pytest.mark.parametrize(
    ("typed", "lang"),
    [
        ("SO-100245", "en"),  # a digit missing
        ("SO-10023455", "zh"),  # one too many
        ("SO-1003245", "en"),  # two swapped
    ],
)
async def test_a_number_with_one_slip_is_confirmed_before_it_is_used(
    scenario: Scenario, typed: str, lang: str
) -> None:
    ann = scenario.customer()
    headphones, _ = headphones_and_kettle(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.send(f"/cancel_order {typed}")
    question = await chat.expect_text("cancel/did_you_mean", order=shown(headphones, chat.locale))
    assert question.buttons() == [chat.button("yes_that_one"), chat.button("show_my_orders")]
    await chat.press("yes_that_one")
    await reason_step(chat, headphones)


async def test_no_it_is_not_that_one_shows_the_list(scenario: Scenario) -> None:
    ann = scenario.customer()
    headphones, kettle = headphones_and_kettle(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.send("/cancel_order SO-100245")
    await chat.expect_text("cancel/did_you_mean", order=shown(headphones, "en"))
    await chat.press("show_my_orders")
    await order_list(chat, [headphones, kettle])
    await chat.person.press(chat.order_button(kettle))
    await reason_step(chat, kettle)


# -- product names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "lang", "meant"),
    [
        ("the bluetooth headphones", "en", "SO-1002345"),
        ("蓝牙耳机", "zh", "SO-1002345"),
        ("blue kettle", "en", "SO-1007788"),
        ("电热水壶", "zh", "SO-1007788"),
    ],
)
async def test_what_was_bought_names_the_order(
    scenario: Scenario, said: str, lang: str, meant: str
) -> None:
    ann = scenario.customer()
    orders = {order.number: order for order in headphones_and_kettle(scenario, ann)}
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.press("cancel_order")
    await chat.expect_text("cancel/choose_order", intro=None, page=0, pages=1)
    await chat.send(said)
    await chat.expect_text("cancel/did_you_mean", order=shown(orders[meant], chat.locale))
    await chat.press("yes_that_one")
    await reason_step(chat, orders[meant])


async def test_several_orders_that_fit_are_offered_as_buttons(scenario: Scenario) -> None:
    ann = scenario.customer()
    black, _ = headphones_and_kettle(scenario, ann)
    white = scenario.order(
        ann,
        "SO-1009911",
        item("Bluetooth Headphones", "399.00", sku="HP-W", color="white"),
        placed=ago(days=9),
    )
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.send("/cancel_order headphones")
    message = await chat.expect_text("cancel/several")
    # They look alike: each says what tells it apart, its colour.
    assert message.buttons() == [
        chat.order_button(black, ("black",)),
        chat.order_button(white, ("white",)),
    ]
    await chat.person.press(chat.order_button(white, ("white",)))
    await reason_step(chat, white)


async def test_nothing_that_fits_says_so_and_lists_the_orders(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    headphones, kettle = headphones_and_kettle(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.send("/cancel_order garden hose")
    await order_list(
        chat, [headphones, kettle], intro=chat.text("cancel/not_found", text="garden hose")
    )


async def test_more_than_five_orders_are_paged(scenario: Scenario) -> None:
    ann = scenario.customer()
    orders = [
        scenario.order(
            ann, f"SO-50000{n:02d}", item(f"Gadget {n}", "10.00"), placed=ago(days=n + 1)
        )
        for n in range(1, 7)
    ]
    closed = scenario.order(
        ann, "SO-5000099", item("Old Gadget", "10.00"), status="cancelled", placed=ago(hours=5)
    )
    await scenario.load()
    chat = await scenario.link(ann)

    await chat.press("cancel_order")
    await order_list(chat, orders[:5], page=0, pages=2)
    assert chat.button("next") in chat.person.last.buttons()
    assert chat.order_button(closed) not in chat.person.last.buttons()
    await chat.press("next")
    await order_list(chat, orders[5:], page=1, pages=2)
    assert chat.button("previous") in chat.person.last.buttons()
    await chat.person.press(chat.order_button(orders[5]))
    await reason_step(chat, orders[5])


# -- not the customer's, or not cancellable again ------------------------------------------------


async def test_another_customers_order_number_is_answered_like_one_that_does_not_exist(
    scenario: Scenario,
) -> None:
    ann, bob = scenario.customer("Ann Lee"), scenario.customer("Bob Chan")
    headphones, kettle = headphones_and_kettle(scenario, ann)
    bobs = scenario.order(bob, "SO-8864201", item("Road Bike", "2999.00"))
    await scenario.load()
    chat = await scenario.link(ann)
    before = await snapshot(scenario.deps)

    answers = []
    for typed in (bobs.number, "SO-8864209"):  # Bob's, and one that nobody has
        await chat.send(f"/cancel_order {typed}")
        intro = chat.text("cancel/not_found", text=typed)
        await order_list(chat, [headphones, kettle], intro=intro)
        answers.append(chat.person.last)
    theirs, nobodys = answers
    assert theirs.text.replace(bobs.number, "?") == nobodys.text.replace("SO-8864209", "?")
    assert theirs.buttons() == nobodys.buttons()
    assert "Road Bike" not in theirs.text
    assert await snapshot(scenario.deps) == before


@pytest.mark.parametrize("status", ["cancelled", "refunded", "returned"])
async def test_an_order_already_closed_shows_its_status_instead(
    scenario: Scenario, lang: str, status: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(ann, "SO-6000001", item("Desk Lamp", "120.00", zh="台灯"), status=status)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await chat.send(f"/cancel_order {order.number}")
    await chat.expect_text("cancel/order_closed", order=shown(order, chat.locale))
    await settle(scenario.server)  # the case is closed after that answer
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.status is CaseStatus.ABANDONED
    assert await requests_for(scenario.deps, order.number) == []


async def test_an_order_with_a_request_under_way_is_not_started_again(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-6000002", item("Road Bike", "2999.00", zh="公路车", category="other")
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.press("no_thanks_cancel")
    await confirm(chat)  # over 500.00: waits for an agent
    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.PENDING_REVIEW

    await chat.send(f"/cancel_order {order.number}")
    await chat.expect_text(
        "cancel/order_in_progress",
        order=shown(order, chat.locale),
        status=RequestStatus.PENDING_REVIEW.value,
    )
    await chat.press("cancel_order")
    await chat.expect_text("cancel/no_orders", intro=None)
    assert len(await requests_for(scenario.deps, order.number)) == 1
