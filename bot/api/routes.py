"""The merchant API under /api/v1: thin handlers over the services, one table of routes.

`ENDPOINTS` is the single list of what the API serves: `build_api` registers it and
`bot.api.openapi` describes it, so the description cannot miss or invent a route.
Handlers parse and validate the body, call one service (which runs one transaction)
and answer from its plain result; no transaction is open while the answer is written.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_origin

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from bot.api.auth import hmac_auth
from bot.api.errors import ApiError, invalid_body, json_errors
from bot.api.openapi import openapi_document
from bot.api.schemas import (
    CancelOrderRequest,
    CancelOrderResponse,
    ErrorCode,
    ErrorResponse,
    FailedWebhookEventOut,
    FailedWebhookQuery,
    FailedWebhooksResponse,
    FieldError,
    ForgetResponse,
    OrderOut,
    OrdersResponse,
    RedeemVoucherRequest,
    RedeemVoucherResponse,
    RefundEventRequest,
    RefundEventResponse,
    RefundOut,
    RequestFeedQuery,
    RequestFeedResponse,
    RetryWebhooksRequest,
    RetryWebhooksResponse,
    VoucherFeedQuery,
    VoucherFeedResponse,
    VoucherOut,
)
from bot.erasure import forget_customer
from bot.services.imports.importer import BATCH_SIZE, Importer, ImportFileError, ImportSource
from bot.services.imports.records import ImportFile
from bot.services.merchant.cancellation import MERCHANT_ACTOR
from bot.services.merchant.feeds import FEED_SETTLE
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from storage.types import ROW_ID_MAX

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
OPENAPI_ROUTE = "openapi"
REPLAYED_HEADER = "X-Cancelbot-Replayed"
MAX_BODY_BYTES = 4 * 1024 * 1024
# One batch per section keeps an import's orders in one transaction.
MAX_RECORDS = BATCH_SIZE
FEED_SECONDS = int(FEED_SETTLE.total_seconds())
MAX_PATH_KEY = 200  # longer than any order number or customer id the import accepts

M = TypeVar("M", bound=BaseModel)
Method = Callable[["MerchantApi", web.Request], Awaitable[web.StreamResponse]]

_ERRORS = {
    400: "Malformed JSON",
    401: "Missing, wrong or expired signature",
    404: "No such refund, order or route",
    409: "Not possible in the current state, or the event id means something else",
    413: "Body or record count too large",
    422: "Invalid body; `details` names each field",
    503: "MERCHANT_API_SECRET is not set",
}


@dataclass(frozen=True)
class Endpoint:
    """One route, as registered and as described in the OpenAPI document."""

    method: str
    path: str  # aiohttp pattern, relative to PREFIX; `{name:regex}` for typed parameters
    name: str
    summary: str
    handler: Method
    responses: dict[int, tuple[type[BaseModel] | None, str]]  # None: any JSON object
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None  # the query string's parameters, validated
    description: str = ""
    public: bool = False
    errors: tuple[int, ...] = field(default=(401, 503))

    def all_responses(self) -> dict[int, tuple[type[BaseModel] | None, str]]:
        """The success answers and the error answers this route can give."""
        errors = {status: (ErrorResponse, _ERRORS[status]) for status in self.errors}
        return {**self.responses, **errors}


class MerchantApi:
    """The handlers, bound to the process's dependencies."""

    def __init__(self, deps: AppDeps) -> None:
        self._deps = deps

    async def refund_event(self, request: web.Request) -> web.StreamResponse:
        refund_id = _row_id(request, "refund_id", "refund")
        body = await _body(request, RefundEventRequest)
        deps = self._deps
        async with deps.uow() as uow:
            update = await deps.services(uow).refund_updates.apply(
                refund_id,
                RefundStatus(body.status),
                actor=MERCHANT_ACTOR,
                event_id=body.event_id,
                occurred_at=body.occurred_at,
                note=body.note,
                amount=body.amount,
            )
        if not update.replayed:
            deps.outbox_signal.kick()
        return _answer(201, RefundEventResponse.of(update), replayed=update.replayed)

    async def cancel_order(self, request: web.Request) -> web.StreamResponse:
        number = _order_number(request)
        body = await _body(request, CancelOrderRequest)
        deps = self._deps
        async with deps.uow() as uow:
            done = await deps.services(uow).merchant_cancellations.cancel(
                number, body.reason, event_id=body.event_id, note=body.note
            )
        if not done.replayed:
            deps.outbox_signal.kick()
        return _answer(201, CancelOrderResponse.of(done), replayed=done.replayed)

    async def upsert_orders(self, request: web.Request) -> web.StreamResponse:
        try:
            source = ImportSource.from_document(await _json(request), name="request")
        except ImportFileError as error:
            raise ApiError(422, ErrorCode.VALIDATION_FAILED, str(error)) from None
        if source.size > MAX_RECORDS:
            raise ApiError(
                413,
                ErrorCode.TOO_LARGE,
                f"{source.size} records; send at most {MAX_RECORDS} per request",
            )
        report = await Importer(self._deps.session_factory, self._deps.clock).load(source)
        if report.errors:
            raise ApiError(
                422,
                ErrorCode.INVALID_RECORDS,
                f"nothing was written: {len(report.errors)} problem(s)",
                [
                    FieldError(record=error.location, field=error.field, message=error.message)
                    for error in report.errors
                ],
            )
        return _answer(200, OrdersResponse.of(report))

    async def get_refund(self, request: web.Request) -> web.StreamResponse:
        refund_id = _row_id(request, "refund_id", "refund")
        async with self._deps.uow() as uow:
            refund = await self._deps.services(uow).merchant_views.refund(refund_id)
        return _answer(200, RefundOut.of(refund))

    async def get_order(self, request: web.Request) -> web.StreamResponse:
        number = _order_number(request)
        async with self._deps.uow() as uow:
            order = await self._deps.services(uow).merchant_views.order(number)
        return _answer(200, OrderOut.of(order))

    async def forget_customer(self, request: web.Request) -> web.StreamResponse:
        customer_id = _path_text(request, "customer_id", "customer")
        result = await forget_customer(self._deps, customer_id, requested_by=MERCHANT_ACTOR)
        return _answer(200, ForgetResponse.of(result), replayed=result.repeated)

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(_description())

    # -- what the bot promised: feeds to poll and vouchers (issue 10) --

    async def list_requests(self, request: web.Request) -> web.StreamResponse:
        query = _query(request, RequestFeedQuery)
        async with self._deps.uow() as uow:
            page = await self._deps.services(uow).merchant_feeds.requests(
                statuses=query.status,
                since=query.since,
                until=query.until,
                cursor=query.cursor,
                limit=query.limit,
            )
        return _answer(200, RequestFeedResponse.of(page))

    async def list_vouchers(self, request: web.Request) -> web.StreamResponse:
        query = _query(request, VoucherFeedQuery)
        async with self._deps.uow() as uow:
            page = await self._deps.services(uow).merchant_feeds.vouchers(
                status=query.status,
                customer_id=query.customer_id,
                since=query.since,
                until=query.until,
                cursor=query.cursor,
                limit=query.limit,
            )
        return _answer(200, VoucherFeedResponse.of(page))

    async def get_voucher(self, request: web.Request) -> web.StreamResponse:
        async with self._deps.uow() as uow:
            voucher = await self._deps.services(uow).merchant_feeds.voucher(
                request.match_info["code"]
            )
        return _answer(200, VoucherOut.of(voucher))

    async def redeem_voucher(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request, RedeemVoucherRequest)
        async with self._deps.uow() as uow:
            done = await self._deps.services(uow).merchant_feeds.redeem(
                request.match_info["code"], event_id=body.event_id, order_number=body.order_number
            )
        return _answer(200, RedeemVoucherResponse.of(done), replayed=done.replayed)

    # -- the events your webhook gave up on (as `cancelbot webhooks failed` / `retry`) --

    async def failed_webhook_events(self, request: web.Request) -> web.StreamResponse:
        query = _query(request, FailedWebhookQuery)
        async with self._deps.uow() as uow:
            failed = await self._deps.services(uow).webhook_operations.failed(query.limit)
        return _answer(
            200, FailedWebhooksResponse(events=[FailedWebhookEventOut.of(e) for e in failed])
        )

    async def retry_webhook_events(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request, RetryWebhooksRequest)
        async with self._deps.uow() as uow:
            done = await self._deps.services(uow).webhook_operations.retry(
                None if body.all else body.event_ids
            )
        return _answer(200, RetryWebhooksResponse.of(done))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        r"/refunds/{refund_id:\d+}/events",
        "refund_event",
        "Report what happened to a refund",
        MerchantApi.refund_event,
        {201: (RefundEventResponse, "Applied, or the same event id was applied before")},
        request=RefundEventRequest,
        description="Moves the refund to `status`, records who and when, closes the "
        "cancellation request when the refund ends and tells the customer in Telegram. "
        "A repeated `event_id` returns the first answer (same status and body, with "
        f"`{REPLAYED_HEADER}: true`) and changes nothing.",
        errors=(400, 401, 404, 409, 422, 503),
    ),
    Endpoint(
        "POST",
        "/orders",
        "upsert_orders",
        "Create or update customers, orders and stock",
        MerchantApi.upsert_orders,
        {200: (OrdersResponse, "Every record is valid and written")},
        request=ImportFile,
        description="The import file's schema (`cancelbot import --schema`). All or nothing: "
        "one invalid record and nothing is written, every problem is listed with its record "
        f"and field. At most {MAX_RECORDS} records per request. Re-sending updates customers "
        "by id, orders by number, items by sku and stock by sku.",
        errors=(400, 401, 413, 422, 503),
    ),
    Endpoint(
        "POST",
        "/orders/{number}/cancel",
        "cancel_order",
        "Cancel an order yourself",
        MerchantApi.cancel_order,
        {201: (CancelOrderResponse, "Cancelled, or the same event id was applied before")},
        request=CancelOrderRequest,
        description="Percent-encode the number in the path (`/` is `%2F`, `#` is `%23`). "
        "The order is cancelled, what was paid is refunded (approved, back the way "
        "it was paid; cash on delivery as the policy says), unshipped items go back to stock, "
        "and the customer gets an apology with the offers of the policy's "
        "[merchant_cancellation] section. Orders not yet delivered only.",
        errors=(400, 401, 404, 409, 422, 503),
    ),
    Endpoint(
        "GET",
        r"/refunds/{refund_id:\d+}",
        "get_refund",
        "A refund and its history",
        MerchantApi.get_refund,
        {200: (RefundOut, "The refund")},
        errors=(401, 404, 503),
    ),
    Endpoint(
        "GET",
        "/orders/{number}",
        "get_order",
        "An order with its cancellation requests and refunds",
        MerchantApi.get_order,
        {200: (OrderOut, "The order")},
        description="Percent-encode the number in the path (`/` is `%2F`, `#` is `%23`).",
        errors=(401, 404, 503),
    ),
    Endpoint(
        "POST",
        "/customers/{customer_id}/forget",
        "forget_customer",
        "Erase a customer's personal data",
        MerchantApi.forget_customer,
        {200: (ForgetResponse, "Erased, or erased before (then nothing changed)")},
        description="Erases the customer's name, phone, e-mail, Telegram link and accounts, "
        "transcript text, photos, survey comments and notes, in one transaction; orders, "
        "refunds and amounts stay, anonymised, for your books. No body. Percent-encode the "
        f"id in the path. Asking again answers with the first erasure and `{REPLAYED_HEADER}: "
        "true`. The same as `cancelbot forget CUSTOMER_ID`.",
        errors=(401, 404, 503),
    ),
    Endpoint(
        "GET",
        "/cancellation-requests",
        "list_requests",
        "Cancellation requests by their last change: a feed to poll",
        MerchantApi.list_requests,
        {200: (RequestFeedResponse, "A page, oldest change first")},
        query=RequestFeedQuery,
        description="Every request, the customer's and yours, oldest change first; one "
        "appears again whenever it changes (its status, its refund). Send `next_cursor` "
        "back as `cursor` to read on: `has_more` says another page is ready now, else poll "
        f"again later. Changes show {FEED_SECONDS} s after they are made, so one committed "
        "a moment late is never skipped. A cursor belongs to its filters.",
        errors=(401, 422, 503),
    ),
    Endpoint(
        "GET",
        "/vouchers",
        "list_vouchers",
        "Vouchers the bot issued: code, value, order, customer, expiry",
        MerchantApi.list_vouchers,
        {200: (VoucherFeedResponse, "A page, oldest first")},
        query=VoucherFeedQuery,
        description="By when they were issued, oldest first, paged like "
        f"/cancellation-requests (issued vouchers show {FEED_SECONDS} s later). `status` is "
        "judged now: active (can be redeemed), redeemed, expired.",
        errors=(401, 422, 503),
    ),
    Endpoint(
        "GET",
        "/vouchers/{code}",
        "get_voucher",
        "One voucher, e.g. to check it at your checkout",
        MerchantApi.get_voucher,
        {200: (VoucherOut, "The voucher")},
        description="Codes are compared in capitals: vc-abcd-efgh is VC-ABCD-EFGH.",
        errors=(401, 404, 503),
    ),
    Endpoint(
        "POST",
        "/vouchers/{code}/redeem",
        "redeem_voucher",
        "Spend a voucher at your checkout",
        MerchantApi.redeem_voucher,
        {200: (RedeemVoucherResponse, "Redeemed, or the same event id redeemed it before")},
        request=RedeemVoucherRequest,
        description="A voucher pays once, in full. Sending the same `event_id` again "
        f"returns the first answer with `{REPLAYED_HEADER}: true`; another event for a "
        "spent voucher is `409 voucher_redeemed`, for an expired one `409 voucher_expired`; "
        "the same event id for another voucher or order is `409 event_id_conflict`.",
        errors=(400, 401, 404, 409, 422, 503),
    ),
    Endpoint(
        "GET",
        "/webhook-events/failed",
        "failed_webhook_events",
        "Events your webhook gave up on",
        MerchantApi.failed_webhook_events,
        {200: (FailedWebhooksResponse, "Newest first")},
        query=FailedWebhookQuery,
        description="Events posted to MERCHANT_WEBHOOK_URL that failed every attempt (or "
        "were refused for good): their id, type, attempts and last error. The same as "
        "`cancelbot webhooks failed`.",
        errors=(401, 422, 503),
    ),
    Endpoint(
        "POST",
        "/webhook-events/retry",
        "retry_webhook_events",
        "Send failed events to your webhook again",
        MerchantApi.retry_webhook_events,
        {200: (RetryWebhooksResponse, "Queued again")},
        request=RetryWebhooksRequest,
        description="The events named (or all failed ones) are queued again with their "
        "own id and payload and posted as new, attempts counted from zero: once your "
        "endpoint is fixed. Ids that are not failed events are listed, not an error. The "
        "same as `cancelbot webhooks retry`.",
        errors=(400, 401, 422, 503),
    ),
    Endpoint(
        "GET",
        "/openapi.json",
        OPENAPI_ROUTE,
        "This description",
        MerchantApi.openapi,
        {200: (None, "The OpenAPI 3.1 document")},
        description="OpenAPI 3.1, generated from the models the API validates with.",
        public=True,
        errors=(),
    ),
)


def build_api(deps: AppDeps) -> web.Application:
    """The /api/v1 sub-application: a log line per request, JSON errors, then the signature."""
    public = {endpoint.name for endpoint in ENDPOINTS if endpoint.public}
    api = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            _log_request,
            json_errors,
            hmac_auth(deps.settings.merchant_api_secret, deps.clock.now, public),
        ],
    )
    handlers = MerchantApi(deps)
    for endpoint in ENDPOINTS:
        handler = getattr(handlers, endpoint.handler.__name__)
        api.router.add_route(endpoint.method, endpoint.path, handler, name=endpoint.name)
    return api


@functools.cache
def _description() -> dict[str, Any]:
    """Built on the first request, once per process: ~30 ms of pydantic schema work that
    start-up (and every bot a test builds) would otherwise pay."""
    return openapi_document(ENDPOINTS, PREFIX)


@web.middleware
async def _log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per call, like the update log: what the merchant's systems did and how it went."""
    started = time.monotonic()
    response = await handler(request)
    log.info(
        "merchant api %s %s status=%d ms=%.1f%s",
        request.method,
        request.path,
        response.status,
        (time.monotonic() - started) * 1000,
        " replayed" if response.headers.get(REPLAYED_HEADER) else "",
    )
    return response


def _row_id(request: web.Request, name: str, what: str) -> int:
    """A numeric id from the path; one the database cannot hold names nothing (404)."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > ROW_ID_MAX:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no {what} {raw[:20]}")
    return int(raw)


def _path_text(request: web.Request, name: str, what: str) -> str:
    """A text key from the path; NUL characters (which PostgreSQL refuses) name nothing."""
    raw = request.match_info[name]
    if "\x00" in raw or len(raw) > MAX_PATH_KEY:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no {what} {raw[:20].replace(chr(0), '')}")
    return raw


def _order_number(request: web.Request) -> str:
    return _path_text(request, "number", "order")


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ApiError(400, ErrorCode.MALFORMED_JSON, f"body is not JSON: {error}") from None


def _query(request: web.Request, model: type[M]) -> M:
    """The query string as `model`: a list parameter may repeat or hold commas
    (`status=approved&status=denied`, `status=approved,denied`)."""
    raw: dict[str, Any] = {}
    for name in request.query:
        values = request.query.getall(name)
        field_info = model.model_fields.get(name)
        if field_info is not None and get_origin(field_info.annotation) is list:
            raw[name] = [part for value in values for part in value.split(",") if part]
        else:
            raw[name] = values[0] if len(values) == 1 else values
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problem = invalid_body(error)
        fields = ", ".join(detail.field for detail in problem.details)
        raise ApiError(422, problem.code, f"invalid query: {fields}", problem.details) from None


async def _body(request: web.Request, model: type[M]) -> M:
    document = await _json(request)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise invalid_body(error) from None


def _answer(status: int, body: BaseModel, *, replayed: bool = False) -> web.Response:
    response = web.json_response(text=body.model_dump_json(), status=status)
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response
