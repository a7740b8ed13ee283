"""Requests are signed with MERCHANT_API_SECRET; anything else is refused and changes nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.api.app import build_web_app
from bot.api.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from tests.api.support import MerchantClient, counts, open_refund, refund_row, signed_headers
from tests.conftest import NOW

BODY = {
    "event_id": "evt-1",
    "status": "processing",
    "occurred_at": NOW.isoformat(),
}
NOW_S = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("options", "code"),
    # How the request is (mis)signed: keyword arguments of `MerchantClient.post`.
    [
        ({"signed": False}, "missing_signature"),
        ({"secret": "not-the-secret"}, "bad_signature"),
        ({"timestamp": NOW_S - 360}, "stale_timestamp"),
        ({"timestamp": NOW_S + 360}, "future_timestamp"),
        ({"timestamp": NOW_S + 31}, "future_timestamp"),
        ({"headers": {TIMESTAMP_HEADER: "yesterday"}}, "bad_timestamp"),
        ({"headers": {SIGNATURE_HEADER: "md5=abc"}}, "bad_signature"),
    ],
    ids=["unsigned", "wrong-secret", "stale", "future", "just-ahead", "bad-timestamp", "scheme"],
)
async def test_a_badly_signed_request_is_401_and_changes_nothing(
    api: MerchantClient, shop: AppDeps, options: dict[str, Any], code: str
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    answer = await api.post(f"/api/v1/refunds/{refund_id}/events", BODY, **options)
    assert answer.status == 401
    assert answer.body["error"]["code"] == code
    assert await counts(shop) == before
    assert (await refund_row(shop, refund_id)).status is RefundStatus.APPROVED


@pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, SIGNATURE_HEADER])
async def test_each_missing_header_is_named(
    api: MerchantClient, shop: AppDeps, missing: str
) -> None:
    raw = json.dumps(BODY).encode()
    headers = signed_headers(raw, NOW_S)
    del headers[missing]
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    async with api.http.post(
        f"{api.base}/api/v1/refunds/{refund_id}/events", data=raw, headers=headers
    ) as reply:
        assert reply.status == 401
        body = await reply.json()
    assert body["error"]["code"] == "missing_signature"
    assert missing in body["error"]["message"]
    assert await counts(shop) == before


async def test_a_body_changed_after_signing_is_refused(api: MerchantClient, shop: AppDeps) -> None:
    refund_id = await open_refund(shop, "SO-1")
    headers = signed_headers(json.dumps(BODY).encode(), NOW_S)
    tampered = json.dumps({**BODY, "status": "refunded"}).encode()
    async with api.http.post(
        f"{api.base}/api/v1/refunds/{refund_id}/events", data=tampered, headers=headers
    ) as reply:
        assert reply.status == 401
    assert (await refund_row(shop, refund_id)).status is RefundStatus.APPROVED


@pytest.mark.parametrize("age", [300, -30])
async def test_a_request_at_the_edge_of_the_window_is_accepted(
    api: MerchantClient, shop: AppDeps, age: int
) -> None:
    answer = await api.get("/api/v1/orders/SO-1", timestamp=NOW_S - age)
    assert answer.status == 200


async def test_unknown_routes_are_refused_before_they_are_looked_up(
    api: MerchantClient, shop: AppDeps
) -> None:
    assert (await api.get("/api/v1/nothing-here", signed=False)).status == 401
    answer = await api.get("/api/v1/nothing-here")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"


@pytest.fixture
async def disabled(deps: AppDeps) -> AsyncIterator[MerchantClient]:
    """The same app with MERCHANT_API_SECRET unset."""
    settings = deps.settings.model_copy(update={"merchant_api_secret": None})
    app = build_web_app(dataclasses.replace(deps, settings=settings))
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        yield MerchantClient(http, str(server.make_url("")).rstrip("/"), deps.clock.now)


async def test_without_a_secret_the_api_is_off_not_open(
    disabled: MerchantClient, shop: AppDeps
) -> None:
    refund_id = await open_refund(shop, "SO-1")
    before = await counts(shop)
    for answer in (
        await disabled.post(f"/api/v1/refunds/{refund_id}/events", BODY, signed=False),
        await disabled.post(f"/api/v1/refunds/{refund_id}/events", BODY, secret=""),
        await disabled.get("/api/v1/orders/SO-1", signed=False),
    ):
        assert answer.status == 503
        assert answer.body["error"] == {
            "code": "api_disabled",
            "message": "merchant API disabled: MERCHANT_API_SECRET is not set",
            "details": [],
        }
    assert await counts(shop) == before
    # The description stays readable: a developer can integrate before the secret is set.
    assert (await disabled.openapi())["openapi"] == "3.1.0"


async def test_the_description_needs_no_signature(api: MerchantClient) -> None:
    async with api.http.get(f"{api.base}/api/v1/openapi.json") as reply:
        assert reply.status == 200
        assert (await reply.json())["info"]["title"] == "cancelbot merchant API"
