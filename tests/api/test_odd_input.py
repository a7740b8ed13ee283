"""Odd input the merchant API must answer with a 4xx, never a 500: ids beyond what the
database holds, NUL characters, absurd timestamps and dates. Each used to be a 500."""

from __future__ import annotations

import pytest

from bot.api.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from tests.api.support import SECRET, MerchantClient, open_refund
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("shop")

HUGE_IDS = [str(2**31), str(2**63), "9" * 30, "9" * 5000]


@pytest.mark.parametrize("refund_id", HUGE_IDS, ids=["2^31", "2^63", "30 digits", "5000 digits"])
async def test_a_refund_id_beyond_the_database_is_not_found(
    api: MerchantClient, refund_id: str
) -> None:
    event = {"event_id": "evt-1", "status": "processing", "occurred_at": NOW.isoformat()}
    for answer in (
        await api.get(f"/api/v1/refunds/{refund_id}"),
        await api.post(f"/api/v1/refunds/{refund_id}/events", event),
    ):
        assert (answer.status, answer.body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("refund_id", ["١٢", "１"], ids=["arabic-indic", "full-width"])
async def test_non_ascii_digits_in_a_path_name_no_refund(
    api: MerchantClient, shop: AppDeps, refund_id: str
) -> None:
    await open_refund(shop, "SO-1", status=RefundStatus.APPROVED)  # refund 1 exists
    answer = await api.get(f"/api/v1/refunds/{refund_id}")
    assert answer.status == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/orders/SO-1%00", None),
        ("/api/v1/orders/SO%001/cancel", {"event_id": "cx-1", "reason": "out_of_stock"}),
        ("/api/v1/customers/C001%00/forget", None),
    ],
)
async def test_a_nul_character_in_a_path_names_nothing(
    api: MerchantClient, path: str, body: object
) -> None:
    answer = await (
        api.get(path) if body is None and "forget" not in path else api.post(path, body)
    )
    assert (answer.status, answer.body["error"]["code"]) == (404, "not_found")


async def test_a_nul_character_in_a_note_is_dropped_not_a_500(
    api: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-2", status=RefundStatus.PENDING_REVIEW)
    event = {
        "event_id": "evt-nul",
        "status": "rejected",
        "note": "bank\x00 said no",
        "occurred_at": NOW.isoformat(),
    }
    answer = await api.post(f"/api/v1/refunds/{refund_id}/events", event)
    assert answer.status == 201
    history = (await api.get(f"/api/v1/refunds/{refund_id}")).body["events"]
    assert history[-1]["note"] == "bank said no"


@pytest.mark.parametrize("stamp", ["1" * 3000, "0" * 5000 + "1795428000", "١٧٩٥٤٢٨٠٠٠"])
async def test_an_absurd_timestamp_header_is_refused(api: MerchantClient, stamp: str) -> None:
    """Correctly signed, so only the timestamp itself is wrong (5000 digits used to be a 500:
    Python refuses to read such a long number)."""
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(SECRET.encode(), stamp, b"")}
    answer = await api.get("/api/v1/orders/SO-1", signed=False, headers=headers)
    assert (answer.status, answer.body["error"]["code"]) == (401, "bad_timestamp")


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-10:00"])
async def test_a_date_beyond_the_calendar_is_an_invalid_field(
    api: MerchantClient, shop: AppDeps, when: str
) -> None:
    refund_id = await open_refund(shop, "SO-2", status=RefundStatus.APPROVED)
    event = {"event_id": "evt-old", "status": "processing", "occurred_at": when}
    answer = await api.post(f"/api/v1/refunds/{refund_id}/events", event)
    assert answer.status == 422
    assert [detail["field"] for detail in answer.body["error"]["details"]] == ["occurred_at"]
