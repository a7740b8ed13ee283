"""Every sentence exists in both languages and renders with realistic data.

A new template must get a sample context here, so it is rendered in every
locale under StrictUndefined before any customer sees it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from jinja2.runtime import Macro

from bot.services.locales import LOCALES
from bot.services.money import Money
from bot.services.status import RefundView, RequestView
from bot.services.views import ItemView, OrderView
from bot.texts import Renderer
from storage.enums import ItemCategory, OrderStatus, PaymentMethod, RefundStatus, RequestStatus
from tests.conftest import NOW

RENDERER = Renderer()
MACRO_MODULES = ("buttons", "labels", "plain/commands")
TRICKY_NAME = "<b>Tom & Jerry</b> Mug"

ORDER = OrderView(
    id=1,
    number="SO-1002345",
    status=OrderStatus.DELIVERED,
    placed_at=NOW - timedelta(days=9),
    delivered_at=NOW - timedelta(days=3),
    service_at=None,
    promised_delivery_date=None,
    payment_method=PaymentMethod.CARD,
    shipping_fee=Money(Decimal("15.00"), "CNY"),
    total=Money(Decimal("314.00"), "CNY"),
    items=(
        ItemView(
            id=1,
            sku="MUG-1",
            name=TRICKY_NAME,
            category=ItemCategory.HOME,
            quantity=1,
            unit_price=Money(Decimal("299.00"), "CNY"),
            returnable=True,
        ),
    ),
)

SAMPLES: dict[str, dict[str, Any]] = {
    "plain/stale_button": {},
    "plain/language_saved": {},
    "start/welcome_linked": {"name": TRICKY_NAME},
    "start/welcome_guest": {"first_name": "Ann & Co"},
    "start/resume": {"state": "LinkFlow:guest_secret"},
    "link/linked": {"name": "Ann"},
    "link/not_own_contact": {},
    "link/invalid_phone": {},
    "link/no_match": {},
    "link/ambiguous": {},
    "link/invalid_token": {},
    "link/expired_token": {},
    "link/needed": {},
    "link/guest_ask_order": {},
    "link/guest_ask_secret": {},
    "link/guest_verified": {"order_number": "SO-1002345"},
    "link/guest_mismatch": {"attempts_left": 1},
    "link/guest_locked": {"retry_at": NOW + timedelta(hours=1)},
    "link/guest_bad_secret": {},
    "help/help": {"linked": False},
    "common/stopped": {},
    "common/nothing_to_stop": {},
    "language/choose": {},
    "language/changed": {},
    "menu/main": {},
    "status/overview": {
        "orders": [ORDER, ORDER],
        "requests": [RequestView(1, "SO-1002345", RequestStatus.PENDING_REVIEW, NOW)],
        "refunds": [
            RefundView(
                id=1,
                order_number="SO-1002345",
                amount=Money(Decimal("314.00"), "CNY"),
                method=PaymentMethod.E_WALLET,
                status=RefundStatus.PROCESSING,
                updated_at=NOW,
                expected_by=NOW + timedelta(days=1),
            )
        ],
    },
    "status/empty": {},
    "fallback/not_understood": {},
    "fallback/text_expected": {},
    "errors/generic": {},
    "errors/order_not_found": {},
}


def _message_templates(locale: str) -> list[str]:
    return [name for name in RENDERER.template_names(locale) if name not in MACRO_MODULES]


def test_every_locale_has_the_same_templates() -> None:
    names = {locale: set(RENDERER.template_names(locale)) for locale in LOCALES}
    assert names["zh"] == names["en"]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_has_a_sample_and_renders(locale: str) -> None:
    assert set(_message_templates(locale)) == set(SAMPLES)
    for name, context in SAMPLES.items():
        text = RENDERER.render(locale, name, **context)
        assert text.strip(), f"{locale}/{name} rendered empty"
        assert len(text) <= 4096, f"{locale}/{name} is over Telegram's limit"


@pytest.mark.parametrize("module", MACRO_MODULES)
def test_macro_modules_match_across_locales(module: str) -> None:
    def signature(locale: str) -> dict[str, tuple[str, ...]]:
        exported = RENDERER.env.get_template(f"{locale}/{module}.j2").module
        return {
            name: tuple(value.arguments)
            for name, value in vars(exported).items()
            if isinstance(value, Macro)
        }

    assert signature("zh") == signature("en")
    assert signature("en")


def test_html_is_escaped_in_messages_but_not_in_buttons() -> None:
    text = RENDERER.render("en", "start/welcome_linked", name=TRICKY_NAME)
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; Mug" in text
    assert RENDERER.button("en", "locale_zh") == "中文"
    assert "&" not in RENDERER.macro("en", "plain/commands", "status")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_of_every_stored_value_exists(locale: str) -> None:
    for status in OrderStatus:
        assert RENDERER.macro(locale, "labels", "order_status", status.value)
    for status in RefundStatus:
        assert RENDERER.macro(locale, "labels", "refund_status", status.value)
    for status in RequestStatus:
        assert RENDERER.macro(locale, "labels", "request_status", status.value)
    for method in PaymentMethod:
        assert RENDERER.macro(locale, "labels", "payment_method", method.value)


def test_money_and_dates_follow_the_locale() -> None:
    en = RENDERER.render("en", "link/guest_locked", retry_at=NOW)
    zh = RENDERER.render("zh", "link/guest_locked", retry_at=NOW)
    assert "23 Nov 2026, 10:00" in en
    assert "2026年11月23日 10:00" in zh
    overview = RENDERER.render("zh", "status/overview", **SAMPLES["status/overview"])
    assert "¥314.00" in overview
