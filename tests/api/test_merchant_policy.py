"""The policy's optional [merchant_cancellation] section, and the offers it makes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.policy import OfferType, PolicyError, StockFacts, parse_policy
from bot.services.policy.merchant import merchant_offers
from bot.services.policy.model import MerchantReason
from storage.enums import OrderStatus
from tests.services.policy import DEFAULT_POLICY, cny, default_policy_data, item, order


def with_section(section: dict[str, Any] | None) -> dict[str, Any]:
    data = default_policy_data()
    if section is None:
        del data["merchant_cancellation"]
    else:
        data["merchant_cancellation"] = section
    return data


def test_the_shipped_default_offers_a_voucher_and_an_exchange_for_out_of_stock() -> None:
    section = DEFAULT_POLICY.merchant_cancellation
    assert section.offer_valid_days == 7
    assert [o.type for o in section.offers_for(MerchantReason.OUT_OF_STOCK)] == [
        OfferType.COMPENSATION_VOUCHER,
        OfferType.EXCHANGE,
    ]
    assert section.offers_for(MerchantReason.SUSPECTED_FRAUD) == ()


def test_the_section_is_optional() -> None:
    policy = parse_policy(with_section(None))
    assert policy.merchant_cancellation.offers == ()


@pytest.mark.parametrize(
    ("offer", "problem"),
    [
        (
            {"type": "partial_refund", "percent": 10},
            "partial_refund cannot make up for a cancelled order; use compensation_voucher or "
            "exchange",
        ),
        ({"type": "compensation_voucher"}, "compensation_voucher needs percent (above 0)"),
        ({"type": "compensation_voucher", "percent": 10.5}, "10.5 is a float"),
        ({"type": "exchange", "percent": 5}, "exchange takes no percent"),
        ({"type": "exchange", "reasons": ["bored"]}, '"bored" is not one of'),
        ({"type": "exchange", "reasons": []}, "must not be empty"),
        ({"type": "exchange", "colour": "red"}, "unknown key"),
    ],
)
def test_a_bad_offer_is_one_line_naming_it(offer: dict[str, Any], problem: str) -> None:
    entry = {"id": "x", "reasons": ["out_of_stock"], **offer}
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_section({"offers": [entry]}), "p.toml")
    (line,) = caught.value.problems
    assert line.startswith("p.toml: merchant_cancellation.offers[0]")
    assert problem in line
    assert '(in "x")' in line


def test_one_offer_of_each_type_per_reason() -> None:
    twice = [
        {"id": "a", "type": "compensation_voucher", "percent": 5, "reasons": ["other"]},
        {"id": "b", "type": "compensation_voucher", "percent": 9, "reasons": ["other"]},
    ]
    with pytest.raises(PolicyError, match="other: at most one offer of each type"):
        parse_policy(with_section({"offers": twice}))


STOCK = {
    sku: StockFacts(sku, "TS", {"size": size}, cny("100.00"), available)
    for sku, size, available in (("TS-M", "M", 0), ("TS-L", "L", 3), ("TS-XL", "XL", 1))
}


def test_the_voucher_is_a_percent_of_the_whole_order_and_the_exchange_a_sibling() -> None:
    facts = order(status=OrderStatus.PAID, items=(item(sku="TS-M"),), shipping="12.00")
    offers = merchant_offers(
        MerchantReason.OUT_OF_STOCK, facts, STOCK, DEFAULT_POLICY, refund_withdrawable=True
    )
    assert [(o.type, o.value) for o in offers] == [
        (OfferType.COMPENSATION_VOUCHER, cny("11.20")),
        (OfferType.EXCHANGE, cny("100.00")),
    ]
    assert offers[1].params["sku"] == "TS-L"
    assert not any(o.expires_with_conversation for o in offers)


def test_no_exchange_once_the_refund_cannot_be_called_off_or_with_several_lines() -> None:
    single = order(status=OrderStatus.PAID, items=(item(sku="TS-M"),))
    several = order(status=OrderStatus.PAID, items=(item(1, sku="TS-M"), item(2, sku="TS-L")))
    for facts, withdrawable in ((single, False), (several, True)):
        offers = merchant_offers(
            MerchantReason.OUT_OF_STOCK,
            facts,
            STOCK,
            DEFAULT_POLICY,
            refund_withdrawable=withdrawable,
        )
        assert [o.type for o in offers] == [OfferType.COMPENSATION_VOUCHER]
