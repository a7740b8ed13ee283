"""What the merchant reads back: the cancellation requests as a feed to poll, the
vouchers issued, redeeming one at the checkout, and refund events out of order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.services.domain.clock import FixedClock
from bot.services.domain.money import Money
from bot.services.merchant.feeds import FEED_SETTLE
from bot.services.refunds.vouchers import issue_voucher
from bot.wiring import AppDeps
from storage.enums import RefundStatus, VoucherKind
from tests.api.support import MerchantClient, counts, open_refund, refund_row, request_row
from tests.conftest import NOW

SETTLED = FEED_SETTLE + timedelta(seconds=1)


def clock_of(deps: AppDeps) -> FixedClock:
    assert isinstance(deps.clock, FixedClock)
    return deps.clock


async def feed(api: MerchantClient, query: str = "") -> dict[str, object]:
    answer = await api.get(f"/api/v1/cancellation-requests{query}")
    assert answer.status == 200, answer.body
    return dict(answer.body)


def orders_in(page: dict[str, object]) -> list[tuple[str, str]]:
    requests = page["requests"]
    assert isinstance(requests, list)
    return [(entry["order"], entry["status"]) for entry in requests]


# -- the feed of cancellation requests ---------------------------------------------------------


async def test_the_feed_lists_requests_by_last_change_and_resumes_at_its_cursor(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-1")
    pending = await open_refund(shop, "SO-3", status=RefundStatus.PENDING_REVIEW)
    cancel = {"event_id": "cx-1", "reason": "out_of_stock"}
    assert (await api.post("/api/v1/orders/SO-2/cancel", cancel)).status == 201

    # Just made: not shown yet, so a change committed a moment late is never skipped.
    fresh = await feed(api)
    assert (fresh["requests"], fresh["has_more"]) == ([], False)

    clock_of(shop).advance(SETTLED)
    page = await feed(api)
    assert orders_in(page) == [
        ("SO-1", "approved"),
        ("SO-3", "pending_review"),
        ("SO-2", "approved"),
    ]
    requests = page["requests"]
    assert isinstance(requests, list)
    first, second, mine = requests
    assert (first["customer_id"], first["initiated_by"], first["reason"]) == (
        "C001",
        "customer",
        "changed_mind",
    )
    assert (first["refund_amount"], first["currency"], first["refund_status"]) == (
        "109.00",
        "CNY",
        "approved",
    )
    assert first["items"] == [{"sku": "TS-BLUE-M", "quantity": 1}]
    assert (second["customer_id"], second["refund_id"]) == ("C002", pending)
    assert (mine["initiated_by"], mine["reason"]) == ("merchant", "out_of_stock")
    assert page["has_more"] is False

    # Nothing new: the same cursor, an empty page.
    again = await feed(api, f"?cursor={page['next_cursor']}")
    assert again["requests"] == []

    # A change brings the request back, with its new status, after the cursor.
    event = {"event_id": "ap-1", "status": "approved", "occurred_at": NOW.isoformat()}
    assert (await api.post(f"/api/v1/refunds/{pending}/events", event)).status == 201
    clock_of(shop).advance(SETTLED)
    changed = await feed(api, f"?cursor={again['next_cursor']}")
    assert orders_in(changed) == [("SO-3", "approved")]
    assert (await request_row(shop, second["id"])).status.value == "approved"


async def test_the_feed_filters_by_status_and_time_and_pages(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-1")
    clock_of(shop).advance(timedelta(hours=1))
    later = NOW + timedelta(hours=1)
    await open_refund(shop, "SO-3", status=RefundStatus.PENDING_REVIEW)
    async with shop.uow() as uow, uow.transaction():  # stamped an hour later
        later_order = await uow.orders.by_number("SO-3")
        assert later_order is not None
        [request] = await uow.cases.requests_for_order(later_order.id)
        request.updated_at = later
    clock_of(shop).advance(SETTLED)

    assert orders_in(await feed(api, "?status=pending_review")) == [("SO-3", "pending_review")]
    both = "?status=pending_review,approved"
    assert len(orders_in(await feed(api, both))) == 2
    assert len(orders_in(await feed(api, "?status=pending_review&status=approved"))) == 2
    since = later.isoformat().replace("+", "%2B")
    assert orders_in(await feed(api, f"?since={since}")) == [("SO-3", "pending_review")]
    assert orders_in(await feed(api, f"?until={since}")) == [("SO-1", "approved")]

    one = await feed(api, "?limit=1")
    assert (orders_in(one), one["has_more"]) == ([("SO-1", "approved")], True)
    two = await feed(api, f"?limit=1&cursor={one['next_cursor']}")
    assert (orders_in(two), two["has_more"]) == ([("SO-3", "pending_review")], False)
    three = await feed(api, f"?limit=1&cursor={two['next_cursor']}")
    assert three["requests"] == []


async def test_a_bad_query_is_refused_naming_the_parameter(
    api: MerchantClient, shop: AppDeps
) -> None:
    for query, field in [
        ("?status=lost", "status[0]"),
        ("?limit=0", "limit"),
        ("?limit=500", "limit"),
        ("?since=yesterday", "since"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?colour=red", "colour"),
    ]:
        answer = await api.get(f"/api/v1/cancellation-requests{query}")
        assert answer.status == 422, (query, answer.body)
        assert [d["field"] for d in answer.body["error"]["details"]] == [field], query


# -- vouchers -------------------------------------------------------------------------------------


async def issue(deps: AppDeps, number: str, amount: str, **changes: object) -> str:
    """A store-credit voucher for the order's request, as a refund paid as credit leaves it."""
    async with deps.uow() as uow, uow.transaction():
        found = await uow.orders.by_number(number)
        assert found is not None
        [request] = await uow.cases.requests_for_order(found.id)
        voucher = issue_voucher(
            uow,
            customer_id=found.customer_id,
            kind=VoucherKind.STORE_CREDIT,
            value=Money(Decimal(amount), "CNY"),
            now=deps.clock.now(),
            request_id=request.id,
        )
        for key, value in changes.items():
            setattr(voucher, key, value)
        return voucher.code


async def test_vouchers_issued_with_their_order_customer_value_and_expiry(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-1")
    await open_refund(shop, "SO-3")
    active = await issue(shop, "SO-1", "119.90")
    expired = await issue(shop, "SO-3", "66.00", expires_at=NOW - timedelta(days=1))
    clock_of(shop).advance(SETTLED)

    answer = await api.get("/api/v1/vouchers")
    assert answer.status == 200
    listed = {v["code"]: v for v in answer.body["vouchers"]}
    assert listed[active] | {"created_at": None, "expires_at": None} == {
        "code": active,
        "kind": "store_credit",
        "value": "119.90",
        "currency": "CNY",
        "customer_id": "C001",
        "order": "SO-1",
        "status": "active",
        "created_at": None,
        "expires_at": None,
        "redeemed_at": None,
        "redeemed_for": None,
    }
    assert listed[active]["expires_at"] > listed[active]["created_at"]
    assert listed[expired]["status"] == "expired"

    only_active = await api.get("/api/v1/vouchers?status=active")
    assert [v["code"] for v in only_active.body["vouchers"]] == [active]
    of_c002 = await api.get("/api/v1/vouchers?customer_id=C002")
    assert [v["code"] for v in of_c002.body["vouchers"]] == [expired]
    one = await api.get(f"/api/v1/vouchers/{active.lower()}")
    assert (one.status, one.body["code"]) == (200, active)
    assert (await api.get("/api/v1/vouchers/VC-NONE-NONE")).status == 404


async def test_redeeming_is_idempotent_and_refuses_a_spent_or_expired_voucher(
    api: MerchantClient, shop: AppDeps
) -> None:
    await open_refund(shop, "SO-1")
    await open_refund(shop, "SO-3")
    code = await issue(shop, "SO-1", "119.90")
    other = await issue(shop, "SO-3", "20.00")
    old = await issue(shop, "SO-3", "30.00", expires_at=NOW - timedelta(seconds=1))
    path = f"/api/v1/vouchers/{code}/redeem"

    first = await api.post(path, {"event_id": "rd-1", "order_number": "WEB-77"})
    assert first.status == 200
    assert first.body["voucher"]["status"] == "redeemed"
    assert first.body["voucher"]["redeemed_for"] == "WEB-77"
    before = await counts(shop)

    again = await api.post(path, {"event_id": "rd-1", "order_number": "WEB-77"})
    assert (again.status, again.body, again.headers.get("X-Cancelbot-Replayed")) == (
        200,
        first.body,
        "true",
    )
    spent = await api.post(path, {"event_id": "rd-2"})
    assert (spent.status, spent.body["error"]["code"]) == (409, "voucher_redeemed")
    reused = await api.post(f"/api/v1/vouchers/{other}/redeem", {"event_id": "rd-1"})
    assert (reused.status, reused.body["error"]["code"]) == (409, "event_id_conflict")
    other_order = await api.post(path, {"event_id": "rd-1", "order_number": "WEB-78"})
    assert (other_order.status, other_order.body["error"]["code"]) == (409, "event_id_conflict")
    lapsed = await api.post(f"/api/v1/vouchers/{old}/redeem", {"event_id": "rd-3"})
    assert (lapsed.status, lapsed.body["error"]["code"]) == (409, "voucher_expired")
    unknown = await api.post("/api/v1/vouchers/VC-NONE-NONE/redeem", {"event_id": "rd-4"})
    assert unknown.status == 404
    assert await counts(shop) == before

    listed = await api.get(f"/api/v1/vouchers/{other}")
    assert (listed.body["status"], listed.body["redeemed_at"]) == ("active", None)


# -- refund events out of order ------------------------------------------------------------------


async def test_an_event_older_than_the_refunds_latest_is_refused(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    path = f"/api/v1/refunds/{refund_id}/events"
    paying = {"event_id": "p-1", "status": "processing", "occurred_at": NOW.isoformat()}
    assert (await api.post(path, paying)).status == 201
    earlier = (NOW - timedelta(hours=1)).isoformat()
    old_news = {"event_id": "f-1", "status": "failed", "occurred_at": earlier}
    before = await counts(shop)

    answer = await api.post(path, old_news)
    assert (answer.status, answer.body["error"]["code"]) == (409, "out_of_order")
    assert await counts(shop) == before
    assert (await refund_row(shop, refund_id)).status is RefundStatus.PROCESSING


async def test_the_bots_own_step_allows_for_clock_drift(api: MerchantClient, shop: AppDeps) -> None:
    """The refund was opened by the bot at NOW; the shop's clock runs a minute behind."""
    refund_id = await open_refund(shop, "SO-1")
    drifted = (NOW - timedelta(minutes=1)).isoformat()
    event = {"event_id": "p-1", "status": "processing", "occurred_at": drifted}
    assert (await api.post(f"/api/v1/refunds/{refund_id}/events", event)).status == 201
