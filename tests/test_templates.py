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

from bot.services.cancellation.review import OfferView
from bot.services.conversation.status import ExchangeView, RefundView, RequestView, TimelineEvent
from bot.services.conversation.views import ItemView, OrderView
from bot.services.domain.locales import LOCALES
from bot.services.domain.money import Money
from bot.services.policy import (
    Approval,
    ApprovalReason,
    CustomerFacts,
    ItemFacts,
    OrderFacts,
    RequestFacts,
    decide,
    load_policy,
)
from bot.services.policy.explain import because
from bot.services.policy.model import Rule, Span
from bot.services.refunds.service import ActorKind
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
            ),
            RequestView(
                id=2,
                order_number="SO-1002347",
                status=RequestStatus.APPROVED,
                created_at=NOW,
                updated_at=NOW,
                refund_amount=Money(Decimal("0.00"), "CNY"),
                exchange=ExchangeView(
                    new_order="SO-1002347-X1", variant="blue / L", was="blue / M"
                ),
            ),
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
    "cancel/describe_without_photo": {},
    "cancel/reason_unclear": {},
    "cancel/choose_condition": {},
    "cancel/choose_variant": {},
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
    "cancel/use_buttons": {"courtesy": "thanks"},
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
        "voucher": None,
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
        "given": [
            {
                "code": "given_voucher_unused",
                "price": Money(Decimal("20.00"), "CNY"),
                "reference": "VC-ABCD-EFGH",
            }
        ],
        "paid": True,
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
    "smalltalk/thanks": {},
    "smalltalk/goodbye": {},
    "smalltalk/ack": {},
}

# -- the agents' side (issue 9) ------------------------------------------------------------------

CARD = {
    "ticket": {"id": 12, "reason": "needs_approval", "created_at": NOW},
    "state": "taken",
    "taken_by": "Alex <admin>",
    "customer": {
        "name": TRICKY_NAME,
        "external_id": "C1001",
        "tier": "vip",
        "linked_via": "contact",
    },
    "account": {"first_name": "Ann", "username": "ann", "language": "zh", "blocked": True},
    "order": ORDER,
    "case": {
        "reason_code": "defective",
        "reason_text": "the <lid> is cracked & leaks",
        "condition": "damaged",
        "photo": True,
    },
    "decision": {
        "eligible": True,
        "rule": "faulty_30_days",
        "approval": "agent",
        "approval_reasons": ["no_photo"],
        "refund": Money(Decimal("314.00"), "CNY"),
        "breakdown": [
            {
                "code": "items",
                "price": Money(Decimal("299.00"), "CNY"),
                "amount": Money(Decimal("299.00"), "CNY"),
                "percent": Decimal(100),
                "kept": None,
            },
            {
                "code": "shipping",
                "price": Money(Decimal("15.00"), "CNY"),
                "amount": Money(Decimal("15.00"), "CNY"),
                "percent": None,
                "kept": None,
            },
        ],
    },
    "offers": [
        {"type": "exchange", "value": Money(Decimal("299.00"), "CNY"), "status": "declined"}
    ],
    "refunds": [
        {
            "id": 7,
            "amount": Money(Decimal("314.00"), "CNY"),
            "method": "card",
            "status": "pending_review",
        }
    ],
    "messages": [
        {"direction": "in", "kind": "text", "text": "where is <my> money?", "at": NOW},
        {"direction": "out", "kind": "notice", "text": None, "at": NOW},
    ],
    "actions": [
        {
            "action": "deny",
            "agent": "Alex",
            "at": NOW,
            "amount": Money(Decimal("314.00"), "CNY"),
            "note": "used & worn",
        }
    ],
    "open": True,
}
# /stats at its longest: every reason, as many agents as it lists, long names.
STATS = {
    "days": 30,
    "since": NOW - timedelta(days=30),
    "until": NOW,
    "intents": 1234,
    "requests": 456,
    "kept": 78,
    "save_rate": "6.3",
    "refunds_paid": 400,
    "refund_p50": 93784,
    "refund_p90": 777600,
    "answers": 321,
    "average": "4.12",
    "satisfied": "80.1",
    "cases": 99,
    "by_reason": [
        {"key": key, "count": 12}
        for key in (
            "customer_asked",
            "not_understood",
            "needs_approval",
            "not_eligible",
            "complete_transfer",
            "refund_failed",
            "refund_overdue",
        )
    ],
    "answered": 90,
    "answer_rate": "90.9",
    "untouched": 2,
    "reply_p50": 45,
    "reply_p90": 5400,
    "approvals": 30,
    "denials": 0,
    "approval_rate": "100.0",
    "agents": [
        {
            "name": f"{TRICKY_NAME} Agent Number {n} With A Long Telegram Name",
            "cases": 10,
            "reply_p50": None if n == 1 else 60 * n,
            "approvals": 2,
            "denials": 1,
            "answers": 0 if n == 1 else 7,
            "satisfied": None if n == 1 else "71.4",
        }
        for n in range(1, 16)
    ],
    "more_agents": 4,
}
SAMPLES.update(
    {
        "agent/card": CARD,
        "agent/photo": {"file_id": "AgAC", "reason_text": "cracked <lid>"},
        "agent/digest": {"lines": CARD["messages"]},
        "agent/refund_failed": {
            "refund_id": 7,
            "amount": Money(Decimal("314.00"), "CNY"),
            "method": "bank_transfer",
            "note": "IBAN <invalid>",
            "actor": "merchant",
        },
        "agent/customer_left": {},
        "agent/customer_blocked": {"at": NOW},
        "agent/action_done": {
            "action": "approve",
            "agent": "Alex",
            "details": {"refund_id": 7, "amount": Money(Decimal("314.00"), "CNY")},
        },
        "agent/action_refused": {
            "action": "approve",
            "result": "already",
            "by": "Sam",
            "at": NOW,
            "problem": None,
            "detail": None,
        },
        "agent/alias_set": {"agent": "Alex", "alias": "Anna <support>"},
        "agent/reannounce": {
            "ticket_id": 12,
            "topic_name": "🆕 SO-1 · Ann",
            "customer_name": TRICKY_NAME,
            "since": NOW,
            "minutes": 15,
            "link": "https://t.me/c/1234567890/5",
        },
        "agent/plain/topic_name": {
            "state": "waiting",
            "order_number": "SO-1002345",
            "customer_name": "Ann & Bob",
            "chat_id": 1001,
        },
        "agent/stats": STATS,
        "agent/stats_usage": {"periods": [7, 30], "default": 30},
        "agent/plain/button": {"name": "ap"},
        "agent/plain/answer": {
            "kind": "result",
            "action": "approve",
            "result": "already",
            "by": "Sam",
            "at": NOW,
            "problem": None,
            "detail": None,
        },
        "person/ticket_opened": {
            "with_agents": True,
            "position": 3,
            "opens_at": NOW,
            "linked": True,
        },
        "person/ticket_waiting": {
            "with_agents": True,
            "position": 2,
            "opens_at": None,
            "linked": True,
        },
        "person/with_agents": {},
        "person/left": {},
        "person/handed_back": {},
        "person/voucher": {
            "value": Money(Decimal("30.00"), "CNY"),
            "code": "VC-ABCD-EFGH",
            "expires_at": NOW,
        },
        "person/agent_message": {"alias": "Anna <support>", "html": "<b>Hello</b> &amp; welcome"},
        "person/plain/paused": {},
    }
)


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


def _inside(span: Span | None) -> int | None:
    """A whole number the span holds: its lower bound, or just inside its upper one."""
    if span is None:
        return None
    if span.min is not None:
        return span.min
    if span.above is not None:
        return span.above + 1
    return span.max if span.max is not None else (span.below or 1) - 1


def _explained(rule: Rule, locale: str) -> str:
    """The decision message for a request `rule` decides, built from its own conditions."""
    when = rule.when
    status = (when.order_status or (OrderStatus.DELIVERED,))[0]
    reason = (when.reason or [r for r in ReasonCode if r not in (when.reason_not or ())])[0]
    clauses = because(
        when,
        status=status,
        categories=when.category or (ItemCategory.HOME,),
        reason=reason,
        merchant_fault=bool(when.merchant_fault),
        condition=(when.condition or (None,))[0],
        days_since_delivery=_inside(when.days_since_delivery),
        hours_before_service=_inside(when.hours_before_service),
        non_returnable=POLICY.general.non_returnable_categories,
    )
    decision = replace(
        DECISION, rule=rule.id, eligible=rule.then.eligible, kind=rule.then.kind, because=clauses
    )
    order = replace(ORDER, status=status)
    return RENDERER.render(locale, "cancel/decision", order=order, decision=decision, offers=())


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rule_of_the_default_policy_is_explained(locale: str) -> None:
    """Every shipped rule says why, with its own numbers, never the "no rule" sentence."""
    no_rule = RENDERER.render(
        locale,
        "cancel/decision",
        order=ORDER,
        offers=(),
        decision=replace(DECISION, rule="no_rule", eligible=False, kind=None, because=()),
    ).split("\n")[0]
    for rule in POLICY.rules:
        first_line = _explained(rule, locale).split("\n")[0]
        assert first_line != no_rule, rule.id
        for span in (rule.when.days_since_delivery, rule.when.hours_before_service):
            bounds = (span.min, span.max, span.above, span.below) if span else ()
            for bound in (b for b in bounds if b is not None):
                assert f"{bound} " in first_line, (rule.id, bound, first_line)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_renamed_rule_explains_itself_the_same_way(locale: str) -> None:
    for rule in POLICY.rules:
        renamed = rule.model_copy(update={"id": f"renamed_{rule.id}"[:64]})
        assert _explained(renamed, locale) == _explained(rule, locale)


# How each reason a colleague must approve the refund is told, in part.
APPROVAL_SAID = {
    "en": {
        ApprovalReason.OVER_LIMIT: "refunds of this size",
        ApprovalReason.FREQUENT_REQUESTS: "several refunds recently",
        ApprovalReason.NO_PHOTO: "Without a photo",
    },
    "zh": {
        ApprovalReason.OVER_LIMIT: "这个金额",
        ApprovalReason.FREQUENT_REQUESTS: "次数较多",
        ApprovalReason.NO_PHOTO: "没有照片",
    },
}


def _approval_sentences(locale: str, *reasons: ApprovalReason) -> str:
    decision = replace(DECISION, approval=Approval.AGENT, approval_reasons=reasons)
    return RENDERER.render(locale, "cancel/decision", order=ORDER, decision=decision, offers=())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", list(ApprovalReason))
def test_the_approval_sentence_names_the_policys_reason(
    locale: str, reason: ApprovalReason
) -> None:
    text = _approval_sentences(locale, reason)
    for other, said in APPROVAL_SAID[locale].items():
        assert (said in text) is (other is reason), (other, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_frequent_requests_are_not_said_to_be_about_the_size(locale: str) -> None:
    """The engine's own decision for a third request in the window, under the limit."""
    earlier = (NOW - timedelta(days=1), NOW - timedelta(days=2))
    request = RequestFacts(reason=ReasonCode.DEFECTIVE, has_photo=True)
    frequent = CustomerFacts(previous_request_times=earlier)
    decision = decide(ORDER_FACTS, request, frequent, NOW, POLICY)
    assert decision.approval_reasons == (ApprovalReason.FREQUENT_REQUESTS,)
    text = RENDERER.render(locale, "cancel/decision", order=ORDER, decision=decision, offers=())
    assert APPROVAL_SAID[locale][ApprovalReason.FREQUENT_REQUESTS] in text
    assert APPROVAL_SAID[locale][ApprovalReason.OVER_LIMIT] not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_approval_reason_is_said_once_when_there_are_several(locale: str) -> None:
    text = _approval_sentences(locale, *ApprovalReason)
    assert all(text.count(said) == 1 for said in APPROVAL_SAID[locale].values()), text


@pytest.mark.parametrize(
    ("locale", "said"),
    [("en", "(frequent requests by this customer)"), ("zh", "该客户近期申请频繁")],
)
def test_the_agents_card_names_every_approval_reason(locale: str, said: str) -> None:
    card = SAMPLES["agent/card"]
    decision = {**card["decision"], "approval_reasons": ["frequent_requests", "no_photo"]}
    text = RENDERER.render(locale, "agent/card", **{**card, "decision": decision})
    assert said in text
    assert APPROVAL_SAID[locale][ApprovalReason.OVER_LIMIT] not in text


VOUCHER = {
    "code": "VC-ABCD-EFGH",
    "value": Money(Decimal("110.00"), "CNY"),
    "expires_at": NOW + timedelta(days=365),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("kind", "approved", "method", "amount"),
    [
        ("cancel", True, "card", "314.00"),
        ("cancel", True, "card", "0.00"),
        ("booking", True, "store_credit", "50.00"),
        ("return", True, "e_wallet", "100.00"),
        ("return", True, "store_credit", "110.00"),
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
        "voucher": VOUCHER if method == "store_credit" else None,
    }
    text = RENDERER.render(locale, "notify/cancellation_confirmed", **context)
    assert "SO-1" in text
    # Store credit paid at once shows the voucher's code, value and expiry.
    if method == "store_credit" and approved and kind != "return":
        assert all(part in text for part in ("VC-ABCD-EFGH", "¥110.00", "2027")), text


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
        voucher=VOUCHER if offer.type is OfferType.COMPENSATION_VOUCHER else None,
    )
    assert text.strip(), f"no receipt for {offer.type}"


def test_variant_values_render_in_the_readers_language() -> None:
    """Colours and sizes come from bot/data/variants.toml, not from Python strings; a value
    the vocabulary does not list is shown as the merchant wrote it."""
    details = {"swapped": "SO-1", "variant": "blue / L", "was": "black / M"}
    receipt = {"order_number": "SO-1", "type": "exchange", "value": Money(Decimal("99"), "CNY")}
    zh = RENDERER.render("zh", "notify/offer_accepted", **receipt, details=details)
    en = RENDERER.render("en", "notify/offer_accepted", **receipt, details=details)
    assert "蓝色 / L码" in zh
    assert "黑色 / M码" in zh
    assert "blue" not in zh
    assert "blue / L" in en
    assert "black / M" in en
    assert (
        RENDERER.button("zh", "variant_choice", {"size": "42", "color": "white"}) == "🔁 白色 / 42"
    )
    overview = RENDERER.render("zh", "status/overview", **SAMPLES["status/overview"])
    assert "蓝色 / M码 → 蓝色 / L码" in overview
    assert "SO-1002347-X1" in overview
    assert "（¥0.00）" not in overview  # an exchange is not a ¥0.00 cancellation


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
    customer = RENDERER.render(
        locale, "notify/refund_overdue", **{**OVERDUE, "status": status, "team_told": told}
    )
    assert "SO-1002345" in customer
    assert "/status" in customer
    assert (("asked the team", "请同事")[locale == "zh"] in customer) is told
    agents = RENDERER.render(
        locale,
        "agent/refund_overdue",
        **{**SAMPLES["agent/refund_overdue"], "status": status, "customer_notified": told},
    )
    assert "#42" in agents
    assert "&lt;batch&gt;" in agents


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("Asia/Shanghai", "en", "23 Nov 2026, 18:00 (UTC+8)"),
        ("Asia/Shanghai", "zh", "2026年11月23日 18:00（UTC+8）"),
        ("UTC", "en", "23 Nov 2026, 10:00 (UTC)"),
        ("Asia/Kolkata", "en", "23 Nov 2026, 15:30 (UTC+5:30)"),
        ("America/New_York", "en", "23 Nov 2026, 05:00 (UTC-5)"),
    ],
)
def test_times_shown_to_customers_name_the_shops_time_zone(
    zone: str, locale: str, expected: str
) -> None:
    renderer = Renderer(timezone=zone)
    text = renderer.render(locale, "cancel/throttled", retry_at=NOW)
    assert expected in text
