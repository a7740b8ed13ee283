"""The database schema as SQLAlchemy 2 declarative models.

Telegram ids are BIGINT (user ids exceed 2**31). Money is `Amount` (exact) next to
a three-letter currency; times are aware UTC (`UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import (
    AgentActionKind,
    CaseStage,
    CaseStatus,
    ConversationStatus,
    CustomerTier,
    DeliveryKind,
    Direction,
    HandoffState,
    ItemCategory,
    ItemCondition,
    LinkMethod,
    OfferStatus,
    OfferType,
    OrderStatus,
    OutboxStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RelayDirection,
    RequestKind,
    RequestStatus,
    TicketReason,
    TicketStatus,
    VoucherKind,
    WebhookStatus,
)
from storage.types import Amount, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(enum_cls: type[StrEnum]) -> Enum:
    """Store an enum by its value as VARCHAR, so adding a member needs no DDL."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        Decimal: Amount(),
        datetime: UtcDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
        dict[str, str]: JSON(),
        dict[str, int]: JSON(),
        list[str]: JSON(),
    }


class TelegramUser(Base):
    """A Telegram account that has written to the bot, linked or not."""

    __tablename__ = "telegram_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    # The language the person writes in, when Telegram's language_code does not say.
    written_locale: Mapped[str | None] = mapped_column(String(8))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_at: Mapped[datetime | None]
    # The open ticket this account is talking to agents about (issue 9): while it is set,
    # the customer's messages go to the agents' topic. No foreign key: tickets already
    # refer to this table, and the handoff service sets and clears it with the ticket.
    handoff_ticket_id: Mapped[int | None] = mapped_column(Integer)


class Customer(Base):
    """A merchant's customer; `telegram_user_id` is set once the account is proven theirs."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    tier: Mapped[CustomerTier] = mapped_column(str_enum(CustomerTier), default=CustomerTier.REGULAR)
    locale: Mapped[str | None] = mapped_column(String(8))
    telegram_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("telegram_users.id"), unique=True
    )
    linked_at: Mapped[datetime | None]
    linked_via: Mapped[LinkMethod | None] = mapped_column(str_enum(LinkMethod))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    # Number and last change too: matching reads the orders from the index alone.
    __table_args__ = (
        Index("ix_orders_customer_listing", "customer_id", "placed_at", "number", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    shipping_fee: Mapped[Decimal] = mapped_column(default=Decimal(0))
    placed_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    service_at: Mapped[datetime | None]
    promised_delivery_date: Mapped[date | None]
    expedite_requested_at: Mapped[datetime | None]
    replaces_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="orders", foreign_keys=[customer_id])
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderItem.line_no",
        lazy="selectin",
    )

    @property
    def items_total(self) -> Decimal:
        return sum((item.line_total for item in self.items), Decimal(0))

    @property
    def total(self) -> Decimal:
        """What the customer paid: items plus shipping."""
        return self.items_total + self.shipping_fee


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, str]] = mapped_column(default=dict)
    category: Mapped[ItemCategory] = mapped_column(str_enum(ItemCategory))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    returnable: Mapped[bool] = mapped_column(Boolean, default=True)
    activated: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity

    def display_name(self, locale: str) -> str:
        """The item's name in the reader's language when the merchant gave one."""
        return self.names.get(locale) or self.name


class GuestAccess(Base):
    """One order a not-linked Telegram user proved to be theirs (order number + phone/e-mail)."""

    __tablename__ = "guest_access"
    __table_args__ = (UniqueConstraint("telegram_user_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("telegram_users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ThrottleEvent(Base):
    """A counted attempt (a failed verification, a guessed order number) for rate limits."""

    __tablename__ = "throttle_events"
    __table_args__ = (Index("ix_throttle_subject_action_at", "subject", "action", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Conversation(Base):
    """A stretch of talk with one chat; closed after a quiet period or when its case ends."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_chat_status", "chat_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_users.id"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.OPEN
    )
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class TranscriptEntry(Base):
    """Every message in and out of a conversation, as the customer and the bot saw it."""

    __tablename__ = "transcript_entries"
    __table_args__ = (Index("ix_transcript_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


# Idempotency keys of requests the merchant made (not the customer) start with this.
MERCHANT_REQUEST_PREFIX = "merchant:"


class CancellationRequest(Base):
    """A confirmed request to cancel or return (part of) an order; at most one active per order."""

    __tablename__ = "cancellation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("support_cases.id"), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    reason_code: Mapped[ReasonCode] = mapped_column(str_enum(ReasonCode))
    reason_text: Mapped[str | None] = mapped_column(Text)
    item_condition: Mapped[ItemCondition | None] = mapped_column(str_enum(ItemCondition))
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    rule: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[dict[str, Any] | None]
    refund_amount: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    items: Mapped[list[CancellationItem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


# "At most one open cancellation request per order", enforced by the database itself.
# A partial index names SQLite's WHERE only; PostgreSQL gets the same one from
# `storage.dialects.partial_indexes_on_postgresql` (naming it here would import
# PostgreSQL's dialect on SQLite too).
Index(
    "uq_cancellation_requests_active_order",
    CancellationRequest.order_id,
    unique=True,
    sqlite_where=text("is_active"),
)


class CancellationItem(Base):
    __tablename__ = "cancellation_items"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("cancellation_requests.id", ondelete="CASCADE"), primary_key=True
    )
    order_item_id: Mapped[int] = mapped_column(
        ForeignKey("order_items.id"), primary_key=True, index=True
    )
    quantity: Mapped[int]


class Refund(Base):
    """Money going back to a customer: for one cancellation request, or for one accepted offer."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("cancellation_requests.id"), unique=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus))
    expected_by: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A refund given while the order was kept (a partial refund), deducted from the
    # refund of this later cancellation, so it is never deducted twice.
    deducted_by_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("cancellation_requests.id")
    )

    events: Mapped[list[RefundEvent]] = relationship(
        order_by="RefundEvent.id", cascade="all, delete-orphan", lazy="selectin"
    )


class RefundEvent(Base):
    """One transition of a refund, with who caused it; the refund's history is these rows."""

    __tablename__ = "refund_events"
    # A refund's history, and its latest event (the status it is in now and since when).
    __table_args__ = (Index("ix_refund_events_refund", "refund_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    from_status: Mapped[RefundStatus | None] = mapped_column(str_enum(RefundStatus))
    to_status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # What the event moved when its sender said (e.g. the amount actually paid out).
    amount: Mapped[Decimal | None]
    external_event_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]


class RefundEscalation(Base):
    """A refund found stuck past the policy's `[sla]`: the customer and the agents were told.

    One row per stay in a status, named by the event that began it: the unique
    `event_id` makes "once" the database's job, even with two watchdogs sweeping at
    once, and a refund that moves on (a new event) can be escalated again.
    """

    __tablename__ = "refund_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("refund_events.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus))
    stuck_since: Mapped[datetime]
    escalated_at: Mapped[datetime]
    customer_notified: Mapped[bool] = mapped_column(Boolean)
    agents_notified: Mapped[bool] = mapped_column(Boolean)


class OutboxMessage(Base):
    """A message the bot owes a customer, written in the transaction that made it due.

    It keeps the template name, its JSON context and the locale rather than text, so
    a retry renders exactly what the first attempt would have.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_available", "status", "available_at"),
        # The notifier looks for each chat's oldest pending message.
        Index(
            "ix_outbox_pending_chat",
            "chat_id",
            "id",
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # How it is delivered (storage.enums.DeliveryKind) and, for the agents' group, into
    # which customer's topic (issue 9).
    kind: Mapped[DeliveryKind] = mapped_column(
        str_enum(DeliveryKind), default=DeliveryKind.MESSAGE, server_default="message"
    )
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("agent_topics.id"))
    template: Mapped[str] = mapped_column(String(100))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    keyboard: Mapped[dict[str, Any] | None]
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    coalesce_key: Mapped[str | None] = mapped_column(String(128), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """An event owed to the merchant's webhook, written in the transaction that made it.

    The merchant's outbox, apart from the customers' (`outbox`): its own table, claims
    and worker, so a merchant endpoint that is down never holds back a customer's
    message. `payload` is the JSON body exactly as it is POSTed on every attempt, so
    its `id` (`event_id`) is stable and the merchant can deduplicate on it.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        # The sender looks for each ordering key's oldest pending event.
        Index(
            "ix_webhook_events_pending",
            "ordering_key",
            "id",
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_events_status_available", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    # One event per fact ("refund_event:17"): staging the same fact twice fails the commit.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    # Events with the same key are delivered one at a time, oldest first ("customer:3").
    ordering_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[WebhookStatus] = mapped_column(
        str_enum(WebhookStatus), default=WebhookStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class Voucher(Base):
    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[VoucherKind] = mapped_column(str_enum(VoucherKind))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("cancellation_requests.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    redeemed_at: Mapped[datetime | None]
    # The merchant's event id and order reference of the redemption (merchant API).
    redeem_event_id: Mapped[str | None] = mapped_column(String(64))
    redeemed_for: Mapped[str | None] = mapped_column(String(64))
    # Taken back by a later cancellation of the order it compensated (no stacking): an
    # unused voucher is void from then on; a spent one had its value deducted.
    taken_back_at: Mapped[datetime | None]
    taken_back_by_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("cancellation_requests.id")
    )


class FsmRecord(Base):
    """aiogram FSM state and data for one storage key, so a restart resumes the conversation."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockItem(Base):
    """A sellable variant and how many are available: exchanges offer only what is in stock."""

    __tablename__ = "stock_items"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_group: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, str]] = mapped_column(default=dict)
    unit_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    available: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SupportCase(Base):
    """One customer conversation about one order: the draft a cancellation is built in.

    FSM data holds only this case's id; everything the customer chose lives here,
    so a restart or a second device resumes the same case.
    """

    __tablename__ = "support_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_users.id"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    stage: Mapped[CaseStage | None] = mapped_column(str_enum(CaseStage))
    reason_code: Mapped[ReasonCode | None] = mapped_column(str_enum(ReasonCode))
    reason_text: Mapped[str | None] = mapped_column(Text)
    item_condition: Mapped[ItemCondition | None] = mapped_column(str_enum(ItemCondition))
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    photo_skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    selection: Mapped[dict[str, int] | None]
    refund_method: Mapped[PaymentMethod | None] = mapped_column(str_enum(PaymentMethod))
    decision: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


Index(
    "uq_support_cases_open_chat",
    SupportCase.chat_id,
    unique=True,
    sqlite_where=text("status = 'open'"),
)


class Offer(Base):
    """An alternative shown before refunding, and the customer's answer to it.

    Every row is a shown offer; the save rate is accepted / shown.
    """

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_customer_type_status", "customer_id", "type", "status", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_cases.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    type: Mapped[OfferType] = mapped_column(str_enum(OfferType))
    value: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    percent: Mapped[Decimal | None]
    params: Mapped[dict[str, str]] = mapped_column(default=dict)
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus), default=OfferStatus.SHOWN)
    shown_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class Ticket(Base):
    """A request for a person: asked for, needed by the policy, or after two misunderstandings."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_users.id"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("support_cases.id"))
    reason: Mapped[TicketReason] = mapped_column(str_enum(TicketReason))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


Index(
    "uq_tickets_open_chat",
    Ticket.chat_id,
    unique=True,
    sqlite_where=text("status = 'open'"),
)


class Survey(Base):
    """A satisfaction survey about one finished case: asked once, answered with 1–5 stars.

    `subject_key` names the case ("request:<id>", "ticket:<id>") and is unique: the
    database, not a check before inserting, is what keeps a case from being asked about
    twice when two endings race. `chat_id` is where it was asked, the only chat that may
    answer.
    """

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # Satisfaction over a period counts the surveys answered in it.
        Index("ix_surveys_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    locale: Mapped[str] = mapped_column(String(8))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]  # first rated; pressing again changes `rating` only
    commented_at: Mapped[datetime | None]


# -- The merchant's read routes (issue 10) ------------------------------------------------------

# The feeds the merchant polls: cancellation requests by last change, vouchers by issue.
Index("ix_cancellation_requests_updated", CancellationRequest.updated_at, CancellationRequest.id)
Index("ix_vouchers_created", Voucher.created_at, Voucher.id)
# A redemption's event id names one voucher: repeating it is a replay, not a second redemption.
Index("uq_vouchers_redeem_event_id", Voucher.redeem_event_id, unique=True)
# -- human agents in a forum supergroup (issue 9) ------------------------------------------


class AgentDesk(Base):
    """The agents' group as this deployment last verified it: one row, id 1.

    `cancelbot run` checks AGENT_CHAT_ID at start (a forum supergroup where the bot may
    manage topics) and writes the verdict here, so every process that escalates (the bot,
    the merchant API, the command line) reads one answer in its own transaction: with a
    ready desk a ticket gets a topic and the customer is promised a reply; without one it
    is stored and nobody is promised anything.
    """

    __tablename__ = "agent_desk"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(256))
    locale: Mapped[str] = mapped_column(String(8), default="en")  # the agents' language
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    problem: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime]


class AgentTopic(Base):
    """One forum topic per customer chat in an agents' group, reused for their later cases.

    The row is claimed (inserted, unique per group and chat) in the transaction that opens
    the case, before `createForumTopic`; `thread_id` is set once Telegram created it, and
    cleared when Telegram says the topic is gone, so the next message makes a new one.
    """

    __tablename__ = "agent_topics"
    __table_args__ = (
        UniqueConstraint("group_chat_id", "chat_id"),
        Index("ix_agent_topics_thread", "group_chat_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_chat_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(128), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Handoff(Base):
    """A ticket as the agents work it: its topic, state, who took it and its card."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("agent_topics.id"), index=True)
    state: Mapped[HandoffState] = mapped_column(str_enum(HandoffState), default=HandoffState.NEW)
    taken_by: Mapped[int | None] = mapped_column(BigInteger)
    taken_at: Mapped[datetime | None]
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    reannounced_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class AgentAction(Base):
    """What an agent did on a case, when: the record behind "who approved it".

    `key` is unique: an action that may happen once (approving refund 7, a voucher for one
    agent message) is inserted first, so a second agent or a repeated update finds the
    first row, and its agent, instead of acting twice. Reports count these rows
    (approvals against denials, cases per agent).
    """

    __tablename__ = "agent_actions"
    __table_args__ = (Index("ix_agent_actions_agent_created", "agent_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[AgentActionKind] = mapped_column(str_enum(AgentActionKind))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class RelayedMessage(Base):
    """A message copied between a customer's chat and their topic: the source → copy map.

    Edits are mirrored through it, and "time to the first agent reply" is the first
    `to_customer` row of a ticket. A source message is relayed once (unique), however
    often Telegram delivers its update.
    """

    __tablename__ = "relayed_messages"
    __table_args__ = (
        UniqueConstraint("source_chat_id", "source_message_id"),
        Index("ix_relayed_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    direction: Mapped[RelayDirection] = mapped_column(str_enum(RelayDirection))
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    copy_chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    copy_message_id: Mapped[int | None] = mapped_column(BigInteger)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    copied_at: Mapped[datetime | None]


class AgentProfile(Base):
    """An agent as the bot last saw them: their name (for the other agents) and the alias
    customers see with their messages (set with /alias; none: messages come unsigned)."""

    __tablename__ = "agent_profiles"

    agent_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(128), default="")
    alias: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


# -- Hardening (issue 11): the update inbox, single-use deep links, erasures -------------------


class InboxUpdate(Base):
    """A Telegram update as it arrived, written before Telegram is told it was received.

    Polling records each getUpdates batch before the next call moves the offset; the
    webhook records an update before answering. `update_id` is unique, so Telegram
    delivering an update again (a webhook timeout, an unconfirmed offset) finds it here
    and it is handled at most once. A worker claims a row (`claimed_by` until
    `claimed_until`, renewed while it works) and marks it `handled_at`; a row whose
    claim ran out unhandled (its worker died, the database was down) is replayed.
    """

    __tablename__ = "update_inbox"
    __table_args__ = (
        # Replay looks for unhandled rows whose claim ran out.
        Index(
            "ix_update_inbox_unhandled",
            "claimed_until",
            sqlite_where=text("handled_at IS NULL"),
        ),
        Index("ix_update_inbox_received_at", "received_at"),
        Index("ix_update_inbox_chat_id", "chat_id"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(96))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class LinkTokenUse(Base):
    """A deep-link token that linked an account: the primary key makes a token link once."""

    __tablename__ = "link_token_uses"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    used_at: Mapped[datetime]


class Erasure(Base):
    """A customer's personal data erased on request (`cancelbot forget`, the merchant API).

    The customer row stays, nameless, so orders, refunds and amounts still add up; this
    row says when, at whose request, and how many rows were changed.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    requested_by: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime]
    changes: Mapped[dict[str, int]] = mapped_column(default=dict)
