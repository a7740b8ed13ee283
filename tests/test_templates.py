"""Every sentence exists in both languages and renders with realistic data.

A new template must get a sample context here, so it is rendered in every
locale under StrictUndefined before any customer sees it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from jinja2.runtime import Macro

from bot.services.locales import LOCALES
from bot.services.money import Money
from bot.services.policy import (
    CustomerFacts,
    ItemFacts,
    OrderFacts,
    RequestFacts,
    decide,
    load_policy,
)
from bot.services.refunds import ActorKind
from bot.services.review import OfferView
from bot.services.status import RefundView, RequestView, TimelineEvent
from bot.services.views import ItemView, OrderView
from bot.texts import Renderer
from storage.enums import (
    ItemCategory,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RequestStatus,
)
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

POLICY = load_policy()
ORDER_FACTS = OrderFacts(
    number=ORDER.number,
    status=OrderStatus.DELIVERED,
    currency="CNY",
    payment_method=PaymentMethod.CARD,
    shipping_fee=Money(Decimal("15.00"), "CNY"),
    placed_at=NOW - timedelta(days=9),
    paid_at=NOW - timedelta(days=9),
    shipped_at=NOW - timedelta(days=8),
    delivered_at=NOW - timedelta(days=3),
    service_at=None,
    promised_delivery_date=None,
    items=(
        ItemFacts(
            item_id=1,
            sku="MUG-1",
            name=TRICKY_NAME,
            category=ItemCategory.HOME,
            ordered_quantity=1,
            unit_price=Money(Decimal("299.00"), "CNY"),
        ),
    ),
)
DECISION = decide(
    ORDER_FACTS,
    RequestFacts(reason=ReasonCode.DEFECTIVE, has_photo=True),
    CustomerFacts(),
    NOW,
    POLICY,
)
OFFERS = tuple(
    OfferView(
        id=number,
        type=offer_type,
        value=Money(Decimal("29.90"), "CNY"),
        percent=Decimal(10),
        params={"attributes": "blue / M"},
    )
    for number, offer_type in enumerate(OfferType, start=1)
)
ARRIVAL = {"unit": "business_days", "min": 3, "max": 5}
REFUND = RefundView(
    id=1,
    order_number="SO-1002345",
    amount=Money(Decimal("314.00"), "CNY"),
    method=PaymentMethod.CARD,
    status=RefundStatus.PROCESSING,
    updated_at=NOW,
    expected_by=NOW + timedelta(days=7),
    expected_from=NOW + timedelta(days=3),
)
# Every status and every kind of actor, so a missing label fails here.
TIMELINE = [
    TimelineEvent(
        at=NOW + timedelta(hours=n),
        status=status,
        actor=list(ActorKind)[n % len(ActorKind)],
        note="<b>out of stock</b> & sorry" if status is RefundStatus.REJECTED else None,
        amount=Money(Decimal("300.00"), "CNY") if status is RefundStatus.REFUNDED else None,
    )
    for n, status in enumerate(RefundStatus)
]
OVERDUE = {
    "order_number": "SO-1002345",
    "status": "processing",
    "amount": Money(Decimal("314.00"), "CNY"),
    "method": "card",
    "since": NOW - timedelta(days=9),
    "expected_by": NOW - timedelta(days=3),
    "arrival": ARRIVAL,
}

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
    "link/used_token": {},
    "notify/account_moved": {"linked_at": NOW, "via": "deep_link"},
    "flood/slow_down": {},
    "errors/outage": {},
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
        "requests": [
            RequestView(
                id=1,
                order_number="SO-1002345",
                status=RequestStatus.PENDING_REVIEW,
                created_at=NOW,
                updated_at=NOW,
                refund_amount=Money(Decimal("314.00"), "CNY"),
            )
        ],
        "refunds": [
            REFUND,
            RefundView(
                id=2,
                order_number="SO-1002346",
                amount=Money(Decimal("314.00"), "CNY"),
                method=PaymentMethod.E_WALLET,
                status=RefundStatus.PROCESSING,
                updated_at=NOW,
                expected_by=NOW + timedelta(days=1),
                expected_from=None,
            ),
        ],
        "more_refunds": 1,
        "more_requests": 2,
        "more_orders": 3,
    },
    "status/timeline": {"refund": REFUND, "events": TIMELINE, "earlier": 2},
    "plain/refund_not_found": {},
    "notify/refund_overdue": OVERDUE,
    "agent/refund_overdue": {
        **OVERDUE,
        "refund_id": 42,
        "customer_name": TRICKY_NAME,
        "customer_id": "C1001",
        "actor": "merchant",
        "note": "bank <batch> 7 & 8",
        "customer_notified": True,
    },
    "status/empty": {},
    "fallback/not_understood": {},
    "fallback/text_expected": {},
    "errors/generic": {},
    "errors/order_not_found": {},
    "errors/case_closed": {},
    "plain/offer_unavailable": {},
    "cancel/no_orders": {"intro": "I could not find “x”."},
    "cancel/choose_order": {"intro": None, "page": 0, "pages": 3},
    "cancel/did_you_mean": {"order": ORDER},
    "cancel/several": {},
    "cancel/not_found": {"text": "<b>SO-1</b>"},
    "cancel/throttled": {"retry_at": NOW},
    "cancel/order_closed": {"order": ORDER},
    "cancel/order_in_progress": {"order": ORDER, "status": RequestStatus.APPROVED},
    "cancel/choose_items": {"order": ORDER},
    "cancel/choose_reason": {"order": ORDER},
    "cancel/describe_other": {},
    "cancel/reason_unclear": {},
    "cancel/choose_condition": {},
    "cancel/ask_photo": {"required": True},
    "cancel/photo_received": {},
    "cancel/photo_expected": {},
    "cancel/decision": {"order": ORDER, "decision": DECISION, "offers": OFFERS},
    "cancel/choose_method": {"options": DECISION.refund_options},
    "cancel/summary": {
        "order": ORDER,
        "decision": DECISION,
        "option": DECISION.refund_options[0],
    },
    "cancel/already_confirmed": {"order": ORDER},
    "cancel/terms_changed": {},
    "cancel/use_buttons": {},
    "person/offer": {"misunderstood": True},
    "person/declined": {},
    "person/ticket_opened": {},
    "person/ticket_waiting": {},
    "notify/cancellation_confirmed": {
        "order_number": "SO-1",
        "kind": "cancel",
        "refund": Money(Decimal("314.00"), "CNY"),
        "method": "card",
        "approved": True,
        "return_required": False,
        "arrival": ARRIVAL,
        "voucher": None,
        "by_agent": False,
    },
    "notify/offer_accepted": {
        "order_number": "SO-1",
        "type": "exchange",
        "value": Money(Decimal("99.00"), "CNY"),
        "details": {"new_order": "SO-1-X1", "variant": "blue / L"},
    },
    "notify/refund_status": {
        "order_number": "SO-1",
        "status": "approved",
        "amount": Money(Decimal("314.00"), "CNY"),
        "method": "card",
        "arrival": ARRIVAL,
        "expected_by": NOW + timedelta(days=5),
        "note": None,
        "voucher": None,
    },
    "notify/merchant_cancelled": {
        "order_number": "SO-1",
        "reason": "out_of_stock",
        "refund": Money(Decimal("314.00"), "CNY"),
        "method": "card",
        "arrival": ARRIVAL,
        "voucher": None,
        "offers": [
            {"type": "compensation_voucher", "value": Money(Decimal("31.40"), "CNY"), "params": {}},
            {"type": "exchange", "value": Money(Decimal("299.00"), "CNY"), "params": {}},
        ],
        "valid_until": NOW + timedelta(days=7),
    },
    "notify/merchant_offer_accepted": {
        "order_number": "SO-1",
        "type": "compensation_voucher",
        "value": Money(Decimal("31.40"), "CNY"),
        "details": {"code": "VC-ABCD-EFGH"},
    },
    "plain/merchant_offer_unavailable": {},
    "notify/survey": {"order_number": "SO-1", "rating": None},
    "survey/thanks": {"ask_comment": True, "minutes": 30},
    "survey/comment_saved": {},
    "plain/survey_rating_changed": {"stars": 4},
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


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rule_of_the_default_policy_is_explained(locale: str) -> None:
    """A rule the merchant ships must not fall to the generic sentence."""
    generic = {
        RENDERER.render(
            locale,
            "cancel/decision",
            order=ORDER,
            offers=(),
            decision=replace(DECISION, rule="merchant_added_rule", eligible=eligible),
        ).split("\n")[0]
        for eligible in (True, False)
    }
    facts = {
        "hours_before_service": 48,
        "days_since_delivery": 9,
        "window_days": 7,
        "percent": 50,
        "merchant_fault": False,
    }
    for rule in POLICY.rules:
        decision = replace(DECISION, rule=rule.id, eligible=rule.then.eligible, facts=facts)
        text = RENDERER.render(locale, "cancel/decision", order=ORDER, decision=decision, offers=())
        assert text.split("\n")[0] not in generic, rule.id


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("kind", "approved", "method", "amount"),
    [
        ("cancel", True, "card", "314.00"),
        ("cancel", True, "card", "0.00"),
        ("booking", True, "store_credit", "50.00"),
        ("return", True, "e_wallet", "100.00"),
        ("cancel", False, "card", "900.00"),
    ],
)
def test_every_receipt_variant_renders(
    locale: str, kind: str, approved: bool, method: str, amount: str
) -> None:
    context = {
        **SAMPLES["notify/cancellation_confirmed"],
        "kind": kind,
        "approved": approved,
        "method": method,
        "refund": Money(Decimal(amount), "CNY"),
        "voucher": "VC-ABCD-EFGH" if method == "store_credit" else None,
    }
    assert "SO-1" in RENDERER.render(locale, "notify/cancellation_confirmed", **context)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("offer", OFFERS, ids=lambda offer: offer.type.value)
def test_every_offer_type_has_words_and_a_button(locale: str, offer: OfferView) -> None:
    assert RENDERER.macro(locale, "labels", "offer_line", offer)
    assert RENDERER.button(locale, "offer", offer.type.value, offer.value, offer.params)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "offer",
    # Store credit is taken as a refund method: its receipt is the cancellation's.
    [offer for offer in OFFERS if offer.type is not OfferType.STORE_CREDIT],
    ids=lambda offer: offer.type.value,
)
def test_every_accepted_offer_has_a_receipt(locale: str, offer: OfferView) -> None:
    details = {
        "new_order": "X",
        "variant": "M",
        "code": "VC-1",
        "method": "card",
        "approved": "yes",
    }
    text = RENDERER.render(
        locale,
        "notify/offer_accepted",
        order_number="SO-1",
        type=offer.type.value,
        value=offer.value,
        details=details,
    )
    assert text.strip(), f"no receipt for {offer.type}"


def test_money_and_dates_follow_the_locale() -> None:
    en = RENDERER.render("en", "link/guest_locked", retry_at=NOW)
    zh = RENDERER.render("zh", "link/guest_locked", retry_at=NOW)
    assert "23 Nov 2026, 10:00" in en
    assert "2026年11月23日 10:00" in zh
    overview = RENDERER.render("zh", "status/overview", **SAMPLES["status/overview"])
    assert "¥314.00" in overview


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("order_number", ["SO-1", None])
@pytest.mark.parametrize("rating", [None, 1, 5])
def test_every_survey_variant_renders(
    locale: str, order_number: str | None, rating: int | None
) -> None:
    text = RENDERER.render(locale, "notify/survey", order_number=order_number, rating=rating)
    assert (order_number or "") in text
    assert text.count("⭐") == (rating or 0)
    thanks = RENDERER.render(locale, "survey/thanks", ask_comment=False, minutes=30)
    assert "/cancel" not in thanks
    assert [RENDERER.button(locale, "stars", n) for n in (1, 5)] == ["⭐", "⭐⭐⭐⭐⭐"]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_timeline_names_every_step_and_actor(locale: str) -> None:
    text = RENDERER.render(locale, "status/timeline", refund=REFUND, events=TIMELINE, earlier=0)
    assert text.count("• ") == len(RefundStatus)
    assert "&lt;b&gt;out of stock&lt;/b&gt; &amp; sorry" in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", ["pending_review", "approved", "processing", "failed"])
@pytest.mark.parametrize("told", [True, False])
def test_every_overdue_variant_renders(locale: str, status: str, told: bool) -> None:
    customer = RENDERER.render(locale, "notify/refund_overdue", **{**OVERDUE, "status": status})
    assert "SO-1002345" in customer
    assert "/status" in customer
    agents = RENDERER.render(
        locale,
        "agent/refund_overdue",
        **{**SAMPLES["agent/refund_overdue"], "status": status, "customer_notified": told},
    )
    assert "#42" in agents
    assert "&lt;batch&gt;" in agents
