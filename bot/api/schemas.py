"""The merchant API's bodies as pydantic models: they validate requests, shape responses
and are the source of the OpenAPI description (`bot.api.openapi`), so none can drift.

Money goes out as a string with the currency's decimals ("314.00") next to its
currency; it comes in as such a string or an integer, never a float. Times go out in
UTC ("2026-11-23T10:00:00Z") and come in as ISO 8601 with a time zone.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.services.domain.money import Money
from bot.services.erasure import ErasureResult
from bot.services.imports.importer import ImportReport
from bot.services.imports.records import Amount, Timestamp
from bot.services.merchant.cancellation import MerchantCancellation, OfferMade
from bot.services.merchant.feeds import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Page,
    Redemption,
    RequestEntry,
    VoucherEntry,
    VoucherStatus,
)
from bot.services.merchant.views import (
    AcceptedOffer,
    ItemState,
    OrderState,
    RefundEventState,
    RefundState,
    RequestState,
)
from bot.services.merchant.webhook_operations import FailedEvent, Requeued
from bot.services.policy.model import MerchantReason
from bot.services.refunds.states import TRANSITIONS
from bot.services.refunds.updates import Notice, RefundUpdate
from storage.enums import (
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
    VoucherKind,
)

EventId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"),
    Field(
        description="Your unique id for this event (1–64 of A-Z a-z 0-9 _ . : -). Sending the "
        "same id again returns the first answer and changes nothing.",
        examples=["evt_01JD2K9X4F"],
    ),
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
MoneyText = Annotated[
    str,
    Field(
        pattern=r"^\d+(\.\d+)?$",
        description="An amount with the currency's decimals.",
        examples=["314.00"],
    ),
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])]
EventStatus = Literal["approved", "processing", "refunded", "failed", "rejected", "cancelled"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


def _money(value: Money) -> str:
    return value.plain()


def _legal_moves() -> str:
    """The state machine's table in words, for the description of `status`."""
    return "; ".join(
        f"{current} → {' or '.join(sorted(nexts))}"
        for current, nexts in TRANSITIONS.items()
        if current is not None and nexts
    )


_MOVES = _legal_moves()


# -- requests -------------------------------------------------------------------------------


class RefundEventRequest(_Request):
    """Something happened to a refund in your systems."""

    event_id: EventId
    status: EventStatus = Field(description=f"The refund's new status. Legal moves: {_MOVES}.")
    amount: Amount | None = Field(
        default=None,
        description="What this event moved, e.g. the amount actually paid out; at most the "
        "refund's amount, in its currency. Shown to the customer.",
    )
    note: Note | None = Field(
        default=None,
        description="Kept with the event. Shown to the customer only with rejected and "
        "cancelled, as the reason.",
    )
    occurred_at: Timestamp = Field(description="When it happened, with a time zone.")


class CancelOrderRequest(_Request):
    """You cancel an order yourself."""

    event_id: EventId
    reason: MerchantReason = Field(description="Shapes the apology and the offers made.")
    note: Note | None = Field(
        default=None, description="Internal: kept with the request, never shown."
    )


class RedeemVoucherRequest(_Request):
    """The customer spends the voucher at your checkout."""

    event_id: EventId
    order_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(default=None, description="Your order the voucher paid for, kept with it.")


Cursor = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="`next_cursor` of the page before; a cursor belongs to its filters."),
]
PageSize = Annotated[
    int, Field(ge=1, le=MAX_PAGE, description=f"At most this many, {MAX_PAGE} at most.")
]


class RequestFeedQuery(_Request):
    """GET /cancellation-requests: the query string."""

    status: list[RequestStatus] = Field(
        default_factory=list,
        description="Only these statuses: repeat it or separate with commas; all when absent.",
    )
    since: Timestamp | None = Field(default=None, description="Changed at or after this time.")
    until: Timestamp | None = Field(default=None, description="Changed before this time.")
    cursor: Cursor | None = None
    limit: PageSize = DEFAULT_PAGE


class VoucherFeedQuery(_Request):
    """GET /vouchers: the query string."""

    status: VoucherStatus | None = Field(default=None, description="active, redeemed or expired.")
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="Your customer id."
    )
    since: Timestamp | None = Field(default=None, description="Issued at or after this time.")
    until: Timestamp | None = Field(default=None, description="Issued before this time.")
    cursor: Cursor | None = None
    limit: PageSize = DEFAULT_PAGE


class FailedWebhookQuery(_Request):
    """GET /webhook-events/failed: the query string."""

    limit: Annotated[int, Field(ge=1, le=500)] = Field(
        default=100, description="At most this many, newest first; 500 at most."
    )


WebhookEventId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RetryWebhooksRequest(_Request):
    """Send failed events to your webhook again: name them, or say `all`."""

    event_ids: list[WebhookEventId] | None = Field(
        default=None, min_length=1, max_length=500, description="The events' `X-Event-Id`s."
    )
    all: bool = Field(default=False, description="Every failed event.")

    @model_validator(mode="after")
    def _one_of(self) -> RetryWebhooksRequest:
        if self.all == (self.event_ids is not None):
            raise ValueError("give event_ids or all: true (not both)")
        return self


# -- responses ------------------------------------------------------------------------------


class RefundEventResponse(_Response):
    event_id: str
    refund_id: int
    from_status: RefundStatus | None
    status: RefundStatus
    amount: MoneyText | None
    currency: CurrencyCode
    occurred_at: datetime
    recorded_at: datetime
    customer_notice: Notice = Field(
        description="queued: a message to the customer is on its way; not_linked: the "
        "customer has no Telegram account linked; not_shown: not a status customers see."
    )

    @classmethod
    def of(cls, update: RefundUpdate) -> RefundEventResponse:
        return cls(
            event_id=update.event_id,
            refund_id=update.refund_id,
            from_status=update.from_status,
            status=update.status,
            amount=_money(update.amount) if update.amount is not None else None,
            currency=update.currency,
            occurred_at=update.occurred_at,
            recorded_at=update.recorded_at,
            customer_notice=update.notice,
        )


class OfferOut(_Response):
    id: int
    type: OfferType
    value: MoneyText
    currency: CurrencyCode
    params: dict[str, str] = Field(
        description="exchange: sku, attributes, replaces; compensation_voucher: of."
    )

    @classmethod
    def of(cls, offer: OfferMade) -> OfferOut:
        return cls(
            id=offer.id,
            type=offer.type,
            value=_money(offer.value),
            currency=offer.value.currency,
            params=offer.params,
        )


class RefundSummary(_Response):
    id: int
    amount: MoneyText
    currency: CurrencyCode
    method: PaymentMethod
    status: RefundStatus = Field(description="As the cancellation left it.")


class CancelOrderResponse(_Response):
    order: str
    status: Literal["cancelled"] = "cancelled"
    event_id: str
    reason: MerchantReason
    request_id: int
    refund: RefundSummary | None = Field(description="None when nothing was paid.")
    offers: list[OfferOut] = Field(description="Offered to the customer, as buttons.")
    customer_notice: Notice

    @classmethod
    def of(cls, done: MerchantCancellation) -> CancelOrderResponse:
        refund = None
        if done.refund_id is not None:
            assert done.refund_method is not None
            assert done.refund_status is not None
            refund = RefundSummary(
                id=done.refund_id,
                amount=_money(done.refund),
                currency=done.refund.currency,
                method=done.refund_method,
                status=done.refund_status,
            )
        return cls(
            order=done.order_number,
            event_id=done.event_id,
            reason=done.reason,
            request_id=done.request_id,
            refund=refund,
            offers=[OfferOut.of(offer) for offer in done.offers],
            customer_notice=done.notice,
        )


class Counts(_Response):
    created: int
    updated: int
    unchanged: int


class ItemCounts(_Response):
    created: int
    updated: int
    deleted: int


class OrdersResponse(_Response):
    """Every record was valid and is written."""

    customers: Counts
    orders: Counts
    items: ItemCounts
    stock: Counts

    @classmethod
    def of(cls, report: ImportReport) -> OrdersResponse:
        return cls(
            customers=Counts(
                created=report.customers_created,
                updated=report.customers_updated,
                unchanged=report.customers_unchanged,
            ),
            orders=Counts(
                created=report.orders_created,
                updated=report.orders_updated,
                unchanged=report.orders_unchanged,
            ),
            items=ItemCounts(
                created=report.items_created,
                updated=report.items_updated,
                deleted=report.items_deleted,
            ),
            stock=Counts(
                created=report.stock_created,
                updated=report.stock_updated,
                unchanged=report.stock_unchanged,
            ),
        )


class RefundEventOut(_Response):
    event_id: str | None = Field(description="The id you sent; null for the bot's own steps.")
    from_status: RefundStatus | None
    status: RefundStatus
    actor: str = Field(examples=["merchant", "bot", "customer", "cli"])
    note: str | None
    amount: MoneyText | None
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, event: RefundEventState) -> RefundEventOut:
        return cls(
            event_id=event.event_id,
            from_status=event.from_status,
            status=event.status,
            actor=event.actor,
            note=event.note,
            amount=_money(event.amount) if event.amount is not None else None,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
        )


class RefundOut(_Response):
    id: int
    order: str
    request_id: int | None
    offer_id: int | None
    amount: MoneyText
    currency: CurrencyCode
    method: PaymentMethod
    status: RefundStatus
    expected_by: datetime | None = Field(description="When the customer should have it.")
    created_at: datetime
    updated_at: datetime
    events: list[RefundEventOut] = Field(description="The history, oldest first.")

    @classmethod
    def of(cls, refund: RefundState) -> RefundOut:
        return cls(
            id=refund.id,
            order=refund.order_number,
            request_id=refund.request_id,
            offer_id=refund.offer_id,
            amount=_money(refund.amount),
            currency=refund.amount.currency,
            method=refund.method,
            status=refund.status,
            expected_by=refund.expected_by,
            created_at=refund.created_at,
            updated_at=refund.updated_at,
            events=[RefundEventOut.of(event) for event in refund.events],
        )


class RequestOut(_Response):
    id: int
    kind: RequestKind
    status: RequestStatus
    active: bool
    initiated_by: Literal["customer", "merchant"]
    reason: str = Field(description="The customer's reason code, or your MerchantReason.")
    refund_amount: MoneyText | None
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, request: RequestState) -> RequestOut:
        return cls(
            id=request.id,
            kind=request.kind,
            status=request.status,
            active=request.active,
            initiated_by=request.initiated_by,
            reason=request.reason,
            refund_amount=_money(request.refund_amount)
            if request.refund_amount is not None
            else None,
            created_at=request.created_at,
            closed_at=request.closed_at,
        )


class ItemOut(_Response):
    sku: str
    name: str
    quantity: int
    unit_price: MoneyText

    @classmethod
    def of(cls, item: ItemState) -> ItemOut:
        return cls(
            sku=item.sku, name=item.name, quantity=item.quantity, unit_price=_money(item.unit_price)
        )


class AcceptedOfferOut(_Response):
    id: int
    type: OfferType
    value: MoneyText
    currency: CurrencyCode
    params: dict[str, str] = Field(
        description="exchange: sku (sent instead), attributes, replaces (the sku sent back); "
        "partial_refund and compensation_voucher: of."
    )
    accepted_at: datetime | None
    voucher: str | None = Field(description="The voucher code it issued, if it issued one.")

    @classmethod
    def of(cls, offer: AcceptedOffer) -> AcceptedOfferOut:
        return cls(
            id=offer.id,
            type=offer.type,
            value=_money(offer.value),
            currency=offer.value.currency,
            params=dict(offer.params),
            accepted_at=offer.accepted_at,
            voucher=offer.voucher_code,
        )


class OrderOut(_Response):
    number: str
    customer_id: str
    status: OrderStatus
    currency: CurrencyCode
    payment_method: PaymentMethod
    total: MoneyText
    shipping_fee: MoneyText
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    items: list[ItemOut]
    requests: list[RequestOut] = Field(description="Cancellation requests, oldest first.")
    refunds: list[RefundOut] = Field(description="Refunds with their history, oldest first.")
    replacements: list[str] = Field(description="Orders opened to replace this one.")
    express_shipping_requested_at: datetime | None = Field(
        description="When the customer accepted a free upgrade to express shipping: ship it so."
    )
    accepted_offers: list[AcceptedOfferOut] = Field(
        description="Alternatives the customer accepted instead of a refund, oldest first."
    )

    @classmethod
    def of(cls, order: OrderState) -> OrderOut:
        return cls(
            number=order.number,
            customer_id=order.customer_id,
            status=order.status,
            currency=order.total.currency,
            payment_method=order.payment_method,
            total=_money(order.total),
            shipping_fee=_money(order.shipping_fee),
            placed_at=order.placed_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            items=[ItemOut.of(item) for item in order.items],
            requests=[RequestOut.of(request) for request in order.requests],
            refunds=[RefundOut.of(refund) for refund in order.refunds],
            replacements=list(order.replacements),
            express_shipping_requested_at=order.expedite_requested_at,
            accepted_offers=[AcceptedOfferOut.of(offer) for offer in order.accepted_offers],
        )


class RequestLine(_Response):
    sku: str
    quantity: int


class RequestFeedEntry(_Response):
    id: int
    order: str
    customer_id: str = Field(description="Your customer id.")
    kind: RequestKind
    status: RequestStatus
    active: bool
    initiated_by: Literal["customer", "merchant"]
    reason: str = Field(description="The customer's reason code, or your MerchantReason.")
    reason_text: str | None = Field(description="The customer's own words, when they gave some.")
    rule: str | None = Field(description="The policy rule that decided.")
    refund_amount: MoneyText | None
    currency: CurrencyCode
    refund_id: int | None
    refund_status: RefundStatus | None
    items: list[RequestLine]
    created_at: datetime
    updated_at: datetime = Field(description="Its last change: the feed's order.")
    closed_at: datetime | None

    @classmethod
    def of(cls, entry: RequestEntry) -> RequestFeedEntry:
        state = entry.state
        amount = state.refund_amount
        return cls(
            id=state.id,
            order=entry.order_number,
            customer_id=entry.customer_id,
            kind=state.kind,
            status=state.status,
            active=state.active,
            initiated_by=state.initiated_by,
            reason=state.reason,
            reason_text=entry.reason_text,
            rule=entry.rule,
            refund_amount=_money(amount) if amount is not None else None,
            currency=entry.currency,
            refund_id=entry.refund_id,
            refund_status=entry.refund_status,
            items=[RequestLine(sku=sku, quantity=quantity) for sku, quantity in entry.items],
            created_at=state.created_at,
            updated_at=entry.updated_at,
            closed_at=state.closed_at,
        )


class RequestFeedResponse(_Response):
    requests: list[RequestFeedEntry] = Field(description="Oldest change first.")
    next_cursor: str = Field(description="Send it as `cursor` to get what comes after.")
    has_more: bool = Field(description="Another page is ready now; else poll again later.")

    @classmethod
    def of(cls, page: Page[RequestEntry]) -> RequestFeedResponse:
        return cls(
            requests=[RequestFeedEntry.of(entry) for entry in page.entries],
            next_cursor=page.next_cursor,
            has_more=page.has_more,
        )


class VoucherOut(_Response):
    code: str
    kind: VoucherKind = Field(
        description="store_credit (a refund paid as credit), compensation (an offer's "
        "voucher) or bonus."
    )
    value: MoneyText
    currency: CurrencyCode
    customer_id: str = Field(description="Your customer id.")
    order: str | None = Field(description="The order it was issued for.")
    status: VoucherStatus
    created_at: datetime
    expires_at: datetime | None
    redeemed_at: datetime | None
    redeemed_for: str | None = Field(description="Your order it paid for, as you sent it.")

    @classmethod
    def of(cls, voucher: VoucherEntry) -> VoucherOut:
        return cls(
            code=voucher.code,
            kind=voucher.kind,
            value=_money(voucher.value),
            currency=voucher.value.currency,
            customer_id=voucher.customer_id,
            order=voucher.order_number,
            status=voucher.status,
            created_at=voucher.created_at,
            expires_at=voucher.expires_at,
            redeemed_at=voucher.redeemed_at,
            redeemed_for=voucher.redeemed_for,
        )


class VoucherFeedResponse(_Response):
    vouchers: list[VoucherOut] = Field(description="Oldest first.")
    next_cursor: str = Field(description="Send it as `cursor` to get what comes after.")
    has_more: bool = Field(description="Another page is ready now; else poll again later.")

    @classmethod
    def of(cls, page: Page[VoucherEntry]) -> VoucherFeedResponse:
        return cls(
            vouchers=[VoucherOut.of(entry) for entry in page.entries],
            next_cursor=page.next_cursor,
            has_more=page.has_more,
        )


class FailedWebhookEventOut(_Response):
    event_id: str
    type: str
    created_at: datetime
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, event: FailedEvent) -> FailedWebhookEventOut:
        return cls.model_validate(event, from_attributes=True)  # the same fields, by name


class FailedWebhooksResponse(_Response):
    events: list[FailedWebhookEventOut]


class RetryWebhooksResponse(_Response):
    queued: int = Field(description="Events queued again, with their id and payload.")
    not_failed: list[str] = Field(
        description="Ids asked for that are not failed events (unknown, pending or delivered)."
    )

    @classmethod
    def of(cls, done: Requeued) -> RetryWebhooksResponse:
        return cls(queued=done.count, not_failed=list(done.not_failed))


class RedeemVoucherResponse(_Response):
    event_id: str
    voucher: VoucherOut

    @classmethod
    def of(cls, redemption: Redemption) -> RedeemVoucherResponse:
        return cls(event_id=redemption.event_id, voucher=VoucherOut.of(redemption.voucher))


# -- errors ---------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    MISSING_SIGNATURE = "missing_signature"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    API_DISABLED = "api_disabled"
    MALFORMED_JSON = "malformed_json"
    VALIDATION_FAILED = "validation_failed"
    INVALID_RECORDS = "invalid_records"
    TOO_LARGE = "too_large"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    ILLEGAL_TRANSITION = "illegal_transition"
    EVENT_ID_CONFLICT = "event_id_conflict"
    ORDER_NOT_CANCELLABLE = "order_not_cancellable"
    OUT_OF_ORDER = "out_of_order"
    VOUCHER_REDEEMED = "voucher_redeemed"
    VOUCHER_EXPIRED = "voucher_expired"
    INTERNAL_ERROR = "internal_error"


class FieldError(_Response):
    field: str = Field(description='The path in the body, e.g. "items[0].unit_price".')
    message: str
    record: str | None = Field(
        default=None, description='POST /orders: which record, e.g. "orders[3] (SO-1002345)".'
    )


class ErrorBody(_Response):
    code: ErrorCode
    message: str
    details: list[FieldError] = Field(default_factory=list)


class ErrorResponse(_Response):
    error: ErrorBody


class ForgetResponse(_Response):
    """POST /customers/{customer_id}/forget: what was erased."""

    customer_id: str = Field(description="Your customer id; the customer row stays, nameless.")
    erased_at: datetime
    telegram_accounts: int = Field(
        description="Telegram accounts the customer used, now forgotten (renamed to a "
        "pseudonym in every record, then deleted)."
    )

    @classmethod
    def of(cls, result: ErasureResult) -> ForgetResponse:
        return cls(
            customer_id=result.customer_id,
            erased_at=result.erased_at,
            telegram_accounts=result.telegram_accounts,
        )
