"""POST /api/v1/orders/{number}/cancel: the shop cancels an order itself and apologises."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.texts import Renderer
from bot.wiring import AppDeps
from dialogs.callbacks import AnswerOffer
from dialogs.outbox_keyboards import KEYBOARDS
from storage.enums import (
    CaseStatus,
    OfferStatus,
    OfferType,
    OrderStatus,
    RefundStatus,
    RequestKind,
    RequestStatus,
)
from storage.models import Offer, SupportCase
from tests.api.conftest import LINKED_USER
from tests.api.support import (
    MerchantClient,
    available,
    cny,
    context,
    counts,
    customer,
    item,
    load,
    open_refund,
    order,
    order_row,
    outbox,
    refund_row,
    request_row,
)
from tests.conftest import NOW

RENDERER = Renderer()


def cancel(number: str, event_id: str = "cx-1", reason: str = "out_of_stock", **extra: Any) -> Any:
    return f"/api/v1/orders/{number}/cancel", {"event_id": event_id, "reason": reason, **extra}


async def offers_of(deps: AppDeps, number: str) -> list[Offer]:
    found = await order_row(deps, number)
    async with deps.uow() as uow:
        rows = await uow.session.scalars(
            select(Offer).where(Offer.order_id == found.id).order_by(Offer.id)
        )
        return list(rows.all())


async def test_out_of_stock_cancels_refunds_restocks_and_apologises_with_offers(
    api: MerchantClient, shop: AppDeps
) -> None:
    answer = await api.post(*cancel("SO-1", note="supplier let us down"))

    assert answer.status == 201
    body = answer.body
    refund_id = body["refund"]["id"]
    assert body["refund"] == {
        "id": refund_id,
        "amount": "109.00",
        "currency": "CNY",
        "method": "card",
        "status": "approved",
    }
    assert (body["order"], body["status"], body["reason"]) == ("SO-1", "cancelled", "out_of_stock")
    assert body["customer_notice"] == "queued"
    assert [(o["type"], o["value"]) for o in body["offers"]] == [
        ("compensation_voucher", "10.90"),
        ("exchange", "99.00"),
    ]
    assert body["offers"][1]["params"]["sku"] == "TS-BLUE-L"

    assert (await order_row(shop, "SO-1")).status is OrderStatus.CANCELLED
    request = await request_row(shop, body["request_id"])
    assert (request.kind, request.status, request.is_active) == (
        RequestKind.CANCEL,
        RequestStatus.APPROVED,
        True,
    )
    assert (request.case_id, request.idempotency_key) == (None, "merchant:cx-1")
    assert request.reason_text == "supplier let us down"
    refund = await refund_row(shop, refund_id)
    assert (refund.status, refund.request_id) == (RefundStatus.APPROVED, request.id)
    assert refund.expected_by is not None
    assert refund.events[0].actor == "merchant"
    assert await available(shop, "TS-BLUE-M") == 1

    offers = await offers_of(shop, "SO-1")
    assert [(o.type, o.status) for o in offers] == [
        (OfferType.COMPENSATION_VOUCHER, OfferStatus.SHOWN),
        (OfferType.EXCHANGE, OfferStatus.SHOWN),
    ]
    async with shop.uow() as uow:
        case = await uow.cases.get(offers[0].case_id)
    assert case is not None
    assert (case.chat_id, case.status, case.order_id) == (
        LINKED_USER,
        CaseStatus.CONFIRMED,
        request.order_id,
    )

    (message,) = await outbox(shop)
    assert (message.template, message.chat_id, message.locale) == (
        "notify/merchant_cancelled",
        LINKED_USER,
        "en",
    )
    sent = context(message)
    assert (sent["reason"], sent["refund"], sent["method"]) == (
        "out_of_stock",
        cny("109.00"),
        "card",
    )
    assert [o["value"] for o in sent["offers"]] == [cny("10.90"), cny("99.00")]
    assert message.keyboard is not None
    assert (message.keyboard["kind"], message.keyboard["case_id"]) == ("merchant_offers", case.id)


async def test_the_keyboard_spec_draws_one_button_per_offer(
    api: MerchantClient, shop: AppDeps
) -> None:
    await api.post(*cancel("SO-1"))
    (message,) = await outbox(shop)
    assert message.keyboard is not None
    offers = await offers_of(shop, "SO-1")
    for locale in ("en", "zh"):
        markup = KEYBOARDS[message.keyboard["kind"]](message.keyboard, RENDERER.for_locale(locale))
        assert markup is not None
        buttons = [row[0] for row in markup.inline_keyboard]
        assert [b.callback_data for b in buttons] == [
            AnswerOffer(case_id=offers[0].case_id, offer_id=offer.id).pack() for offer in offers
        ]
        assert buttons[0].text == RENDERER.button(
            locale, "merchant_offer", "compensation_voucher", cny("10.90"), {}
        )
    assert KEYBOARDS["merchant_offers"]({"kind": "merchant_offers"}, RENDERER.for_locale("en")) is (
        None
    )


async def test_a_repeated_event_answers_as_the_first_time_and_changes_nothing(
    api: MerchantClient, shop: AppDeps
) -> None:
    first = await api.post(*cancel("SO-1"))
    before = await counts(shop)
    again = await api.post(*cancel("SO-1"))
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers.get("X-Cancelbot-Replayed") == "true"
    assert await counts(shop) == before
    # The refund moving on does not change the answer to the event that opened it.
    events = f"/api/v1/refunds/{first.body['refund']['id']}/events"
    moved = {"event_id": "e-1", "status": "processing", "occurred_at": NOW.isoformat()}
    assert (await api.post(events, moved)).status == 201
    assert (await api.post(*cancel("SO-1"))).body == first.body


@pytest.mark.parametrize(
    ("number", "reason"), [("SO-2", "out_of_stock"), ("SO-1", "other")], ids=["order", "reason"]
)
async def test_an_event_id_reused_for_another_cancellation_is_a_conflict(
    api: MerchantClient, shop: AppDeps, number: str, reason: str
) -> None:
    await api.post(*cancel("SO-1"))
    before = await counts(shop)
    answer = await api.post(*cancel(number, reason=reason))
    assert answer.status == 409
    assert answer.body["error"]["code"] == "event_id_conflict"
    assert await counts(shop) == before


async def test_suspected_fraud_gets_the_refund_and_a_neutral_word_but_no_offers(
    api: MerchantClient, shop: AppDeps
) -> None:
    answer = await api.post(*cancel("SO-1", reason="suspected_fraud"))
    assert answer.body["offers"] == []
    (message,) = await outbox(shop)
    assert message.keyboard is None
    async with shop.uow() as uow:
        assert (await uow.session.scalars(select(SupportCase))).all() == []


async def test_several_lines_get_the_voucher_only(api: MerchantClient, shop: AppDeps) -> None:
    answer = await api.post(*cancel("SO-2"))
    assert [(o["type"], o["value"]) for o in answer.body["offers"]] == [
        ("compensation_voucher", "31.00")
    ]
    assert await available(shop, "MUG") == 2
    assert await available(shop, "CUP") == 2


async def test_a_customer_without_telegram_is_refunded_but_not_told(
    api: MerchantClient, shop: AppDeps
) -> None:
    answer = await api.post(*cancel("SO-3"))
    assert answer.status == 201
    assert (answer.body["customer_notice"], answer.body["offers"]) == ("not_linked", [])
    assert answer.body["refund"]["status"] == "approved"
    assert await outbox(shop) == []
    assert (await api.post(*cancel("SO-3"))).body == answer.body


async def test_nothing_paid_means_nothing_refunded_and_the_request_done(
    api: MerchantClient, shop: AppDeps
) -> None:
    await load(
        shop, orders=[order("SO-4", "C001", item("TS-BLUE-M", "99.00"), status="pending_payment")]
    )
    answer = await api.post(*cancel("SO-4"))
    assert answer.body["refund"] is None
    assert [o["type"] for o in answer.body["offers"]] == ["compensation_voucher"]
    request = await request_row(shop, answer.body["request_id"])
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)
    (message,) = await outbox(shop)
    assert context(message)["refund"] is None


async def test_store_credit_comes_back_at_once_as_a_voucher(
    api: MerchantClient, shop: AppDeps
) -> None:
    await load(
        shop, orders=[order("SO-5", "C001", item("TS-BLUE-M", "99.00"), payment="store_credit")]
    )
    answer = await api.post(*cancel("SO-5"))
    assert (answer.body["refund"]["method"], answer.body["refund"]["status"]) == (
        "store_credit",
        "refunded",
    )
    # Nothing left to call off: no exchange, only the voucher.
    assert [o["type"] for o in answer.body["offers"]] == ["compensation_voucher"]
    request = await request_row(shop, answer.body["request_id"])
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)
    (message,) = await outbox(shop)
    voucher = context(message)["voucher"]
    assert voucher["code"].startswith("VC-")
    assert voucher["value"] == cny("109.00")  # what was paid: the item and its shipping


async def test_a_shipped_order_is_restocked_only_when_the_parcel_is_back(
    api: MerchantClient, shop: AppDeps
) -> None:
    await load(shop, orders=[order("SO-6", "C001", item("CUP", "200.00"), status="shipped")])
    answer = await api.post(*cancel("SO-6", reason="address_undeliverable"))
    assert answer.status == 201
    assert await available(shop, "CUP") == 1


@pytest.mark.parametrize("status", ["delivered", "cancelled"])
async def test_a_delivered_or_closed_order_cannot_be_cancelled(
    api: MerchantClient, shop: AppDeps, status: str
) -> None:
    await load(shop, orders=[order("SO-7", "C001", item("CUP", "200.00"), status=status)])
    before = await counts(shop)
    answer = await api.post(*cancel("SO-7"))
    assert answer.status == 409
    assert answer.body["error"]["code"] == "order_not_cancellable"
    assert status in answer.body["error"]["message"]
    assert await counts(shop) == before


async def test_an_order_with_a_request_under_way_cannot_be_cancelled(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-2", status=RefundStatus.PENDING_REVIEW)
    before = await counts(shop)
    answer = await api.post(*cancel("SO-2"))
    assert answer.status == 409
    assert "under way" in answer.body["error"]["message"]
    assert await counts(shop) == before


async def test_an_unknown_order_is_404_and_a_bad_reason_422(
    api: MerchantClient, shop: AppDeps
) -> None:
    before = await counts(shop)
    assert (await api.post(*cancel("SO-404"))).status == 404
    answer = await api.post(*cancel("SO-1", reason="bored"))
    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["reason"]
    assert await counts(shop) == before


async def test_the_apology_renders_in_both_languages(api: MerchantClient, shop: AppDeps) -> None:
    await load(shop, customers=[customer("C001", locale="zh")])
    await api.post(*cancel("SO-1"))
    (message,) = await outbox(shop)
    assert message.locale == "zh"
    text = RENDERER.render("zh", message.template, **context(message))
    assert "售罄" in text
    assert "¥10.90" in text
