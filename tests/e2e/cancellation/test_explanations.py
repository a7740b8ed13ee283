"""The explanation follows the policy file, not the rule's name, and the money is shown
once, part by part: walked in the chat with the shipped policy and an edited one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.services.policy import DEFAULT_POLICY_FILE
from tests.api.support import SECRET
from tests.e2e.cancellation.chat import Chat, give_reason, money, offer, shown, to_reason
from tests.e2e.cancellation.conftest import Scenario, ago, ahead, item


def edited_policy(tmp_path: Path) -> Path:
    """The shipped policy with bookings refunded in full from 48 hours (not 72), its
    "delivered_unopened" rule renamed with 14 days (not 7), and a new rule for clothes
    tried on."""
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    edits = [
        ("hours_before_service = { min = 72 }", "hours_before_service = { min = 48 }"),
        ("{ min = 24, below = 72 }", "{ min = 24, below = 48 }"),
        (
            'id = "delivered_unopened"\n# Any other reason within 7 days, unopened: refund the '
            "items, not the shipping;\n# the bot sends return instructions.\n[rules.when]\n"
            'order_status = ["delivered"]\ndays_since_delivery = { max = 7 }',
            'id = "unopened_within_two_weeks"\n[rules.when]\norder_status = ["delivered"]\n'
            "days_since_delivery = { max = 14 }",
        ),
        (
            '[[rules]]\nid = "delivered_opened"',
            '[[rules]]\nid = "clothes_tried_on"\n[rules.when]\ncategory = ["apparel"]\n'
            'order_status = ["delivered"]\ncondition = ["opened"]\n'
            "days_since_delivery = { max = 14 }\n[rules.then]\neligible = true\n"
            'kind = "return"\nrefund_items_percent = 100\nreturn_required = true\n\n'
            '[[rules]]\nid = "delivered_opened"',
        ),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The shipped policy, or the edited one for tests marked `edited_policy`."""
    changes: dict[str, object] = {"merchant_api_secret": SecretStr(SECRET)}
    if request.node.get_closest_marker("edited_policy"):
        changes["policy_file"] = edited_policy(tmp_path)
    return settings.model_copy(update=changes)


def words_of(chat: Chat) -> str:
    """The bot's last message as the customer reads it."""
    return chat.person.last.text


# -- an edited policy file -----------------------------------------------------------------------


@pytest.mark.edited_policy
async def test_a_booking_48_hours_ahead_reads_48_hours_when_the_file_says_48(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "BK-9000001",
        item("Yoga Retreat", "300.00", zh="瑜伽课", category="booking"),
        shipping="0.00",
        service=ahead(hours=50),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "booking_changed")
    decision = await chat.expect(chat.label("part", "booking"))
    said = decision.text
    expected = {
        "en": "Your booking is 50 hours away, which is 48 hours or more.",
        "zh": "距离您的预约还有 50 小时，不少于 48 小时。",
    }[lang]
    assert said.startswith(expected), said
    assert "72" not in said
    assert "¥300.00" in said


@pytest.mark.edited_policy
async def test_a_renamed_rule_explains_itself_with_its_own_numbers(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9000002", item("Desk Lamp", "120.00", category="home"), status="delivered",
        delivered=ago(days=10),
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    decision = await chat.expect(chat.label("part", "items"))
    assert decision.text.startswith(
        "It was delivered 10 days ago, which is within 14 days. It is unopened. "
        "You can return it: you get your refund once it is back with us."
    ), decision.text


@pytest.mark.edited_policy
async def test_a_new_rule_is_explained_from_its_own_conditions(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9000003", item("Linen Shirt", "199.00", zh="亚麻衬衫", category="apparel"),
        status="delivered", delivered=ago(days=3),
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "wrong_size")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "opened")
    decision = await chat.expect(chat.label("part", "items"))
    expected = {
        "en": "It is clothing. It was delivered 3 days ago, which is within 14 days. "
        "It has been opened. You can return it",
        "zh": "这是服饰。商品已签收 3 天，在 14 天以内。商品已拆封。可以退货",
    }[lang]
    assert decision.text.startswith(expected), decision.text


# -- fault, and the money part by part -----------------------------------------------------------


async def test_a_wrong_size_is_not_the_shops_fault_but_a_wrong_item_is(scenario: Scenario) -> None:
    ann = scenario.customer()
    shirt = item("Linen Shirt", "199.00", category="apparel")
    size = scenario.order(ann, "SO-9100001", shirt, status="delivered", delivered=ago(days=3))
    sent = scenario.order(ann, "SO-9100002", shirt, status="delivered", delivered=ago(days=3))
    await scenario.load()
    chat = await scenario.link(ann)

    # Tried on, too small: like any change of mind, an opened item stays.
    await chat.send(f"/cancel_order {size.number}")
    await chat.expect_text("cancel/choose_reason", order=shown(size, "en"))
    await chat.send("it's too small")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "opened")
    refusal = await chat.expect("It has been opened.")
    assert "I cannot take it back myself." in refusal.text

    # The shop sent the wrong one: a fault, so it comes back (a photo shows it).
    await chat.send("/cancel")
    await chat.expect_text("common/stopped")
    await chat.send(f"/cancel_order {sent.number}")
    await chat.expect_text("cancel/choose_reason", order=shown(sent, "en"))
    await chat.send("you sent me the wrong item")
    await chat.expect_text("cancel/ask_photo", required=True)


async def test_the_money_is_shown_part_by_part_once(scenario: Scenario, lang: str) -> None:
    """In transit: the price refunded, the shipping fee kept, each said once."""
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9200001", item("Desk Lamp", "120.00", category="home"), status="shipped",
        shipping="12.00",
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    decision = await chat.expect(chat.label("part", "items"))
    said = decision.text
    shipping = {"en": "Shipping: ¥12.00, not refunded", "zh": "运费：¥12.00，不退"}[lang]
    assert shipping in said.splitlines()
    assert said.count(chat.label("part", "shipping")) == 1
    assert said.count("12.00") == 1


async def test_free_shipping_is_never_promised_back(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9200002", item("Desk Lamp", "120.00", category="home"), status="paid",
        shipping="0.00",
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    decision = await chat.expect(chat.label("part", "items"))
    said = decision.text
    assert "hipping" not in said  # no "shipping included", no ¥0.00 shipping line
    assert "Items: ¥120.00, refunded" in said.splitlines()


async def test_an_unpaid_order_shows_what_was_owed(scenario: Scenario) -> None:
    """Cash on delivery, still on its way: nothing paid, so nothing promised back."""
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9200003", item("Desk Lamp", "120.00", category="home"), status="shipped",
        payment="cash_on_delivery", paid=None,
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    decision = await chat.expect(chat.label("part", "not_paid"))
    said = decision.text
    assert "Order total: ¥130.00, not paid yet" in said.splitlines()
    assert "nothing to refund" in said
    assert "get your refund" not in said


async def test_a_parcel_on_its_way_is_not_offered_keep_the_item(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann, "SO-9200004", item("Desk Lamp", "120.00", category="home"), status="shipped",
    )  # fmt: skip
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "found_cheaper")
    match = offer("partial_refund", "12.00", percent=10, of="selected_items", keep="order")
    decision = await chat.expect(chat.label("part", "items"))
    assert chat.button("offer", match.type, match.value, match.params) in decision.buttons()
    assert all("item" not in label for label in decision.buttons())
    assert money("12.00").format() in decision.text
