"""What the merchant's webhook receives: one JSON object per event, as pydantic models.

These models are the contract. The events are built from them (so a payload cannot
drift from its description), and the OpenAPI document lists them under `webhooks`.
Money is a string with the currency's decimals next to its currency; times are UTC.

Every event carries `id` (unique, the same on every retry: deduplicate on it), `type`,
`version` (bumped only for a change that breaks readers; new fields may appear at any
time) and `occurred_at`. Customer's own words and internal notes stay out: read them
through the API (`GET /cancellation-requests`, `GET /refunds/{id}`) when you need them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from storage.enums import (
    OfferType,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
    VoucherKind,
)

EVENT_ID_HEADER = "X-Cancelbot-Event-Id"
EVENT_TYPE_HEADER = "X-Cancelbot-Event-Type"
"""Sent with every POST beside the signature headers (bot.services.merchant.signing)."""

MoneyText = Annotated[
    str, Field(pattern=r"^\d+(\.\d+)?$", description="With the currency's decimals.")
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])]


class EventType(StrEnum):
    REQUEST_CREATED = "request.created"
    OFFER_ACCEPTED = "offer.accepted"
    VOUCHER_ISSUED = "voucher.issued"
    REFUND_STATE_CHANGED = "refund.state_changed"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class _Event(_Model):
    id: str = Field(
        description="Unique per event and the same on every retry: deduplicate on it.",
        examples=["evt_3f9c2a7b1d5e4c0a9b8e7f6d5c4b3a21"],
    )
    version: Literal[1] = 1
    occurred_at: datetime = Field(description="When it happened in the bot (UTC).")


class RequestLine(_Model):
    sku: str
    quantity: int


class RequestData(_Model):
    request_id: int
    order: str = Field(description="Your order number.")
    customer_id: str = Field(description="Your customer id.")
    kind: RequestKind
    status: RequestStatus = Field(
        description="As the transaction that created it left it: a request settled at once "
        "(store credit) is already `completed`."
    )
    initiated_by: Literal["customer", "merchant"]
    reason: str = Field(description="The customer's reason code, or your MerchantReason.")
    rule: str | None = Field(description="The policy rule that decided.")
    refund_amount: MoneyText | None = Field(description="What the policy refunds.")
    currency: CurrencyCode
    items: list[RequestLine]
    created_at: datetime


class OfferData(_Model):
    offer_id: int
    order: str
    customer_id: str
    type: OfferType
    value: MoneyText
    currency: CurrencyCode
    params: dict[str, str] = Field(
        description="exchange: sku (sent instead), attributes, replaces (the sku sent back); "
        "partial_refund and compensation_voucher: of."
    )
    accepted_at: datetime


class VoucherData(_Model):
    code: str
    kind: VoucherKind
    value: MoneyText
    currency: CurrencyCode
    customer_id: str
    order: str | None = Field(description="The order it was issued for.")
    request_id: int | None
    offer_id: int | None
    created_at: datetime
    expires_at: datetime | None


class RefundData(_Model):
    refund_id: int
    order: str
    customer_id: str
    request_id: int | None
    offer_id: int | None
    amount: MoneyText = Field(description="The refund's amount.")
    currency: CurrencyCode
    method: PaymentMethod
    from_status: RefundStatus | None = Field(description="null when the refund was opened.")
    status: RefundStatus
    actor: str = Field(
        description="Who moved it: bot, merchant (you: the API or `cancelbot refund-event`), "
        "agent or customer.",
        json_schema_extra={"enum": ["bot", "merchant", "agent", "customer"]},
    )
    event_id: str | None = Field(
        description="Your event id when you reported this step, so you can skip your own echo."
    )
    event_amount: MoneyText | None = Field(description="What this step moved, when said.")
    note: str | None = Field(
        description="The reason the customer was given (rejected and cancelled only)."
    )
    expected_by: datetime | None = Field(description="When the customer should have it.")


class RequestCreated(_Event):
    """A cancellation request was made: by a customer in the chat, or by you."""

    type: Literal["request.created"] = "request.created"
    data: RequestData


class OfferAccepted(_Event):
    """The customer took an alternative instead of a refund (a voucher, a partial refund,
    express shipping, an exchange, store credit)."""

    type: Literal["offer.accepted"] = "offer.accepted"
    data: OfferData


class VoucherIssued(_Event):
    """A voucher was issued: store credit, a bonus or a compensation."""

    type: Literal["voucher.issued"] = "voucher.issued"
    data: VoucherData


class RefundStateChanged(_Event):
    """A refund was opened or moved on (one event per step of its history)."""

    type: Literal["refund.state_changed"] = "refund.state_changed"
    data: RefundData


WebhookPayload = Annotated[
    RequestCreated | OfferAccepted | VoucherIssued | RefundStateChanged,
    Field(discriminator="type"),
]
PAYLOAD_MODELS: tuple[type[_Event], ...] = (
    RequestCreated,
    OfferAccepted,
    VoucherIssued,
    RefundStateChanged,
)
payload_adapter: TypeAdapter[WebhookPayload] = TypeAdapter(WebhookPayload)
"""Reads a body back into its model (the tests do, as a merchant would)."""
