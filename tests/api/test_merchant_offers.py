"""Taking an offer a merchant's cancellation made: once, by its customer, while it stands."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.services.conversation.views import CustomerView
from bot.services.domain.clock import FixedClock
from bot.services.linking.identity import Identity
from bot.services.merchant.offers import MerchantOffers, Taken
from bot.wiring import AppDeps
from storage.enums import OfferStatus, OrderStatus, RefundStatus, RequestStatus, VoucherKind
from storage.models import Offer, Voucher
from tests.api.conftest import LINKED_USER
from tests.api.support import (
    MerchantClient,
    available,
    context,
    customer_row,
    order_row,
    outbox,
    refund_row,
    request_row,
)
from tests.conftest import NOW


async def cancelled(api: MerchantClient) -> dict[str, int]:
    """SO-1 cancelled by the shop; the ids of its offers by type, and its case and refund."""
    body = (
        await api.post("/api/v1/orders/SO-1/cancel", {"event_id": "cx-1", "reason": "out_of_stock"})
    ).body
    ids = {offer["type"]: offer["id"] for offer in body["offers"]}
    return {**ids, "refund": body["refund"]["id"], "request": body["request_id"]}


async def reader(deps: AppDeps, user_id: int = LINKED_USER, external_id: str = "C001") -> Identity:
    """Who presses: the linked account, as the identity middleware would build it."""
    found = await customer_row(deps, external_id)
    return Identity(
        user_id=user_id,
        chat_id=user_id,
        first_name="Ann",
        customer=CustomerView.of(found),
        conversation_id=0,
        locale="en",
    )


async def take(deps: AppDeps, identity: Identity, offer_id: int) -> Taken:
    async with deps.uow() as uow:
        offer = await uow.offers.get(offer_id)
        assert offer is not None
        service = MerchantOffers(uow, deps.clock, deps.service_config.policy)
        return (await service.accept(identity, offer.case_id, offer_id)).result


async def statuses(deps: AppDeps) -> list[OfferStatus]:
    async with deps.uow() as uow:
        return list((await uow.session.scalars(select(Offer.status).order_by(Offer.id))).all())


async def test_the_voucher_is_issued_once_and_the_refund_goes_ahead(
    api: MerchantClient, shop: AppDeps
) -> None:
    made = await cancelled(api)
    ann = await reader(shop)

    assert await take(shop, ann, made["compensation_voucher"]) is Taken.ACCEPTED
    assert await take(shop, ann, made["compensation_voucher"]) is Taken.ALREADY
    assert await take(shop, ann, made["exchange"]) is Taken.UNAVAILABLE

    assert await statuses(shop) == [OfferStatus.ACCEPTED, OfferStatus.DECLINED]
    async with shop.uow() as uow:
        (voucher,) = (await uow.session.scalars(select(Voucher))).all()
    assert (voucher.kind, voucher.amount, voucher.offer_id) == (
        VoucherKind.COMPENSATION,
        Decimal("10.90"),
        made["compensation_voucher"],
    )
    assert (await refund_row(shop, made["refund"])).status is RefundStatus.APPROVED
    receipt = (await outbox(shop))[-1]
    assert (receipt.template, receipt.chat_id) == ("notify/merchant_offer_accepted", LINKED_USER)
    assert context(receipt)["details"] == {"code": voucher.code}


async def test_the_exchange_ships_a_replacement_instead_of_the_refund(
    api: MerchantClient, shop: AppDeps
) -> None:
    made = await cancelled(api)

    assert await take(shop, await reader(shop), made["exchange"]) is Taken.ACCEPTED

    replacement = await order_row(shop, "SO-1-X1")
    assert replacement.status is OrderStatus.PROCESSING
    assert replacement.replaces_order_id == (await order_row(shop, "SO-1")).id
    assert [(i.sku, i.quantity, i.unit_price) for i in replacement.items] == [
        ("TS-BLUE-L", 1, Decimal("99.00"))
    ]
    assert replacement.paid_at is not None
    assert await available(shop, "TS-BLUE-L") == 3
    refund = await refund_row(shop, made["refund"])
    assert refund.status is RefundStatus.CANCELLED
    assert (refund.events[-1].actor, refund.events[-1].note) == (
        "customer",
        "exchanged for order SO-1-X1",
    )
    request = await request_row(shop, made["request"])
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)
    assert context((await outbox(shop))[-1])["details"] == {
        "new_order": "SO-1-X1",
        "variant": "blue / L",
    }
    # The merchant sees it: the refund is off and the replacement is listed.
    seen = (await api.get("/api/v1/orders/SO-1")).body
    assert seen["replacements"] == ["SO-1-X1"]
    assert seen["refunds"][0]["status"] == "cancelled"
    late = await api.post(
        f"/api/v1/refunds/{made['refund']}/events",
        {"event_id": "e-9", "status": "processing", "occurred_at": NOW.isoformat()},
    )
    assert late.status == 409


async def test_once_the_refund_has_started_the_exchange_is_gone_but_not_the_voucher(
    api: MerchantClient, shop: AppDeps
) -> None:
    made = await cancelled(api)
    await api.post(
        f"/api/v1/refunds/{made['refund']}/events",
        {"event_id": "e-1", "status": "processing", "occurred_at": NOW.isoformat()},
    )
    ann = await reader(shop)
    assert await take(shop, ann, made["exchange"]) is Taken.UNAVAILABLE
    assert await take(shop, ann, made["compensation_voucher"]) is Taken.ACCEPTED
    assert await statuses(shop) == [OfferStatus.ACCEPTED, OfferStatus.EXPIRED]
    assert await available(shop, "TS-BLUE-L") == 4


async def test_offers_lapse_after_the_policy_s_days(api: MerchantClient, shop: AppDeps) -> None:
    made = await cancelled(api)
    assert isinstance(shop.clock, FixedClock)
    shop.clock.advance(timedelta(days=7, seconds=1))
    assert await take(shop, await reader(shop), made["compensation_voucher"]) is Taken.UNAVAILABLE
    assert await statuses(shop) == [OfferStatus.EXPIRED, OfferStatus.EXPIRED]


@pytest.mark.parametrize("who", ["another account", "unlinked since"])
async def test_only_the_customer_it_was_made_to_may_take_it(
    api: MerchantClient, shop: AppDeps, who: str
) -> None:
    made = await cancelled(api)
    if who == "another account":
        identity = await reader(shop, user_id=LINKED_USER + 1)
    else:  # the account now belongs to another customer
        identity = await reader(shop, external_id="C002")
    assert await take(shop, identity, made["compensation_voucher"]) is Taken.NOT_FOUND
    assert await statuses(shop) == [OfferStatus.SHOWN, OfferStatus.SHOWN]


async def test_an_offer_of_another_case_is_not_found(api: MerchantClient, shop: AppDeps) -> None:
    made = await cancelled(api)
    async with shop.uow() as uow:
        service = MerchantOffers(uow, shop.clock, shop.service_config.policy)
        taken = await service.accept(await reader(shop), 999, made["compensation_voucher"])
    assert taken.result is Taken.NOT_FOUND
