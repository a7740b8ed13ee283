"""One repository per aggregate. Repositories read and stage writes; they never commit."""

from storage.repositories.cases import CaseRepository, OfferRepository, TicketRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.customers import CustomerRepository, TelegramUserRepository
from storage.repositories.erasure import ErasureRepository
from storage.repositories.handoffs import HandoffRepository, OpenTicketRow
from storage.repositories.inbox import InboxRepository
from storage.repositories.insights import InsightsRepository, LiveCounts
from storage.repositories.link_tokens import LinkTokenRepository
from storage.repositories.merchant_feeds import MerchantFeedRepository
from storage.repositories.orders import OrderRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.policy_facts import PolicyFacts, PolicyFactsRepository
from storage.repositories.refunds import RefundRepository
from storage.repositories.stock import StockRepository
from storage.repositories.surveys import RatingSummary, SurveyRepository
from storage.repositories.throttle import ThrottleRepository
from storage.repositories.vouchers import VoucherRepository
from storage.repositories.webhooks import WebhookRepository

__all__ = [
    "CaseRepository",
    "ConversationRepository",
    "CustomerRepository",
    "ErasureRepository",
    "HandoffRepository",
    "InboxRepository",
    "InsightsRepository",
    "LinkTokenRepository",
    "LiveCounts",
    "MerchantFeedRepository",
    "OfferRepository",
    "OpenTicketRow",
    "OrderRepository",
    "OutboxRepository",
    "PolicyFacts",
    "PolicyFactsRepository",
    "RatingSummary",
    "RefundRepository",
    "StockRepository",
    "SurveyRepository",
    "TelegramUserRepository",
    "ThrottleRepository",
    "TicketRepository",
    "VoucherRepository",
    "WebhookRepository",
]
