"""The closed vocabularies stored in the database (kept as short strings, not native enums)."""

from enum import StrEnum


class CustomerTier(StrEnum):
    REGULAR = "regular"
    VIP = "vip"


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"


class PaymentMethod(StrEnum):
    CARD = "card"
    E_WALLET = "e_wallet"
    BANK_TRANSFER = "bank_transfer"
    CASH_ON_DELIVERY = "cash_on_delivery"
    STORE_CREDIT = "store_credit"


class ItemCategory(StrEnum):
    ELECTRONICS = "electronics"
    APPAREL = "apparel"
    HOME = "home"
    BEAUTY = "beauty"
    BOOKS = "books"
    FOOD_PERISHABLE = "food_perishable"
    PERSONALIZED = "personalized"
    DIGITAL = "digital"
    BOOKING = "booking"
    OTHER = "other"


class LinkMethod(StrEnum):
    CONTACT = "contact"
    DEEP_LINK = "deep_link"


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class RequestStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    COMPLETED = "completed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class RefundStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class WebhookStatus(StrEnum):
    """Where an event for the merchant's webhook stands (`WebhookEvent.status`)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed; kept with the last reason


class VoucherKind(StrEnum):
    STORE_CREDIT = "store_credit"
    BONUS = "bonus"
    COMPENSATION = "compensation"


class ReasonCode(StrEnum):
    """Why a customer wants to cancel; the policy and the offers key on these."""

    CHANGED_MIND = "changed_mind"
    MISTAKE = "mistake"
    FOUND_CHEAPER = "found_cheaper"
    LATE_DELIVERY = "late_delivery"
    WRONG_ITEM = "wrong_item"  # the shop sent another item, or made it wrong
    WRONG_SIZE = "wrong_size"  # the customer's size does not fit: not the shop's fault
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    BOOKING_CHANGED = "booking_changed"
    OTHER = "other"


class ItemCondition(StrEnum):
    UNOPENED = "unopened"
    OPENED = "opened"
    DAMAGED = "damaged"


class CaseStage(StrEnum):
    """Where within a step a case stands, when the step alone does not say (kept on the
    case, so a restart or a second device resumes exactly there)."""

    ITEMS = "items"  # choosing items until "Continue" (also after "Change the items")
    REASON_WORDS = "reason_words"  # "Other" pressed: their own words are awaited
    PHOTO_WORDS = "photo_words"  # "No photo": a description is awaited instead
    REFUND = "refund"  # past the offers: how to be paid back, then the summary


class CaseStatus(StrEnum):
    """Where a customer's cancellation conversation ended up."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    SAVED = "saved"
    DENIED = "denied"
    ABANDONED = "abandoned"


class RequestKind(StrEnum):
    CANCEL = "cancel"
    RETURN = "return"
    BOOKING = "booking"


class OfferType(StrEnum):
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"
    PARTIAL_REFUND = "partial_refund"
    COMPENSATION_VOUCHER = "compensation_voucher"
    EXPEDITED_SHIPPING = "expedited_shipping"


class OfferStatus(StrEnum):
    SHOWN = "shown"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class TicketReason(StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    NOT_UNDERSTOOD = "not_understood"
    NEEDS_APPROVAL = "needs_approval"
    NOT_ELIGIBLE = "not_eligible"
    COMPLETE_TRANSFER = "complete_transfer"  # a refund a person must pay by bank transfer
    REFUND_FAILED = "refund_failed"  # the merchant reported the payment failed
    REFUND_OVERDUE = "refund_overdue"  # the watchdog found the refund stuck past the SLA
    AGENT_FOLLOW_UP = "agent_follow_up"  # an agent wrote in the topic of a closed case


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# -- human agents (issue 9) ------------------------------------------------------------------


class HandoffState(StrEnum):
    """A case in the agents' group, as the topic's name shows it."""

    NEW = "new"  # nobody took it yet
    TAKEN = "taken"  # an agent took it; the customer wrote last
    WAITING = "waiting"  # an agent wrote last: waiting for the customer
    CLOSED = "closed"


class AgentActionKind(StrEnum):
    TAKE = "take"
    APPROVE = "approve"
    DENY = "deny"
    PARTIAL_REFUND = "partial_refund"
    VOUCHER = "voucher"
    TRANSFER_PAID = "transfer_paid"
    CLOSE = "close"


class RelayDirection(StrEnum):
    TO_AGENTS = "to_agents"  # the customer wrote; copied into the topic
    TO_CUSTOMER = "to_customer"  # an agent wrote in the topic; copied to the customer


class DeliveryKind(StrEnum):
    """How the notifier delivers an outbox row (`OutboxMessage.kind`)."""

    MESSAGE = "message"  # a rendered template, sendMessage
    COPY = "copy"  # copyMessage (copyMessages for an album) of a person's message
    EDIT = "edit"  # mirror an edit onto an earlier copy
    PHOTO = "photo"  # sendPhoto of a file the bot has seen (the case's photo)
    CARD = "card"  # the case card: posted once, then edited in place
    TOPIC_NAME = "topic_name"  # the topic's name follows the case's state
    TOPIC_CLOSE = "topic_close"  # close the topic when its case is closed
    TOPIC_DELETE = "topic_delete"  # delete a forgotten customer's topic (bot.services.erasure)
