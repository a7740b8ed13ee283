"""One repository per aggregate. Repositories read and stage writes; they never commit."""

from storage.repositories.cases import CaseRepository, OfferRepository, TicketRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.customers import CustomerRepository, TelegramUserRepository
from storage.repositories.erasure import ErasureRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.link_tokens import LinkTokenRepository
from storage.repositories.orders import OrderRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.refunds import RefundRepository
from storage.repositories.stock import StockRepository
from storage.repositories.surveys import RatingSummary, SurveyRepository
from storage.repositories.throttle import ThrottleRepository
from storage.repositories.vouchers import VoucherRepository

__all__ = [
    "CaseRepository",
    "ConversationRepository",
    "CustomerRepository",
    "ErasureRepository",
    "InboxRepository",
    "LinkTokenRepository",
    "OfferRepository",
    "OrderRepository",
    "OutboxRepository",
    "RatingSummary",
    "RefundRepository",
    "StockRepository",
    "SurveyRepository",
    "TelegramUserRepository",
    "ThrottleRepository",
    "TicketRepository",
    "VoucherRepository",
]
