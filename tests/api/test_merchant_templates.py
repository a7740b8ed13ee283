"""Every branch of the merchant messages says something, in both languages.

tests/test_templates.py renders one sample of each template; these render each status,
reason, refund method and offer the services can put in a context.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.services.domain.locales import LOCALES
from bot.services.domain.money import Money
from bot.services.policy.model import MerchantReason
from bot.services.refunds.updates import CUSTOMER_VISIBLE
from bot.texts import Renderer
from storage.enums import OfferType, PaymentMethod
from tests.conftest import NOW

RENDERER = Renderer()
ARRIVALS = {
    "card": {"unit": "business_days", "min": 3, "max": 5},
    "e_wallet": {"unit": "hours", "min": 0, "max": 24},
    "bank_transfer": {"unit": "business_days", "min": 1, "max": 3},
    "store_credit": {"unit": "instant", "min": 0, "max": 0},
}
REFUND_METHODS = [m.value for m in PaymentMethod if m is not PaymentMethod.CASH_ON_DELIVERY]
TRICKY = "<b>Tom & Jerry</b>"
VOUCHER = {
    "code": "VC-ABCD-EFGH",
    "value": Money(Decimal("314.00"), "CNY"),
    "expires_at": NOW + timedelta(days=365),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", sorted(CUSTOMER_VISIBLE))
@pytest.mark.parametrize("method", REFUND_METHODS)
def test_every_refund_status_has_words(locale: str, status: str, method: str) -> None:
    text = RENDERER.render(
        locale,
        "notify/refund_status",
        order_number="SO-1",
        status=status,
        amount=Money(Decimal("314.00"), "CNY"),
        method=method,
        arrival=ARRIVALS[method],
        expected_by=NOW + timedelta(days=3),
        note=TRICKY,
        voucher=VOUCHER,
    )
    assert "SO-1" in text
    if status == "refunded" and method == "store_credit":
        assert "VC-ABCD-EFGH" in text  # the code, to spend it
    assert "<b>Tom" not in text  # the merchant's note is escaped


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", list(MerchantReason))
@pytest.mark.parametrize("method", [None, *REFUND_METHODS])
def test_every_apology_has_words(locale: str, reason: MerchantReason, method: str | None) -> None:
    offers = [
        {"type": "compensation_voucher", "value": Money(Decimal("31.40"), "CNY"), "params": {}},
        {
            "type": "exchange",
            "value": Money(Decimal("299.00"), "CNY"),
            "params": {"attributes": TRICKY},
        },
    ]
    text = RENDERER.render(
        locale,
        "notify/merchant_cancelled",
        order_number="SO-1",
        reason=reason.value,
        refund=Money(Decimal("314.00"), "CNY") if method else None,
        method=method,
        arrival=ARRIVALS[method] if method else None,
        voucher=VOUCHER if method == "store_credit" else None,
        offers=offers,
        valid_until=NOW,
    )
    assert "SO-1" in text
    assert "¥31.40" in text
    assert "&lt;b&gt;Tom" in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("offer", [OfferType.COMPENSATION_VOUCHER, OfferType.EXCHANGE])
def test_every_merchant_offer_has_a_button_and_a_receipt(locale: str, offer: OfferType) -> None:
    value = Money(Decimal("31.40"), "CNY")
    assert RENDERER.button(locale, "merchant_offer", offer.value, value, {"attributes": "L"})
    text = RENDERER.render(
        locale,
        "notify/merchant_offer_accepted",
        order_number="SO-1",
        type=offer.value,
        value=value,
        details={"code": "VC-1", "new_order": "SO-1-X1", "variant": "blue / L"},
    )
    assert ("VC-1" if offer is OfferType.COMPENSATION_VOUCHER else "SO-1-X1") in text
