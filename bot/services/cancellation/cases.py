"""The support case: the draft of a cancellation, built one answer at a time.

A case belongs to one chat and, once chosen, one order. Every method checks that
the case is still open and the reader's, and that the order is one they may see,
whatever a button's callback data claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.cancellation.candidates import CaseCandidates
from bot.services.cancellation.matching import CandidateIndex, MatchingVocabulary, MatchKind
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.errors import DomainError, OrderNotVisible
from bot.services.linking.identity import Identity
from bot.services.linking.throttle import Limit, Throttle
from storage.enums import (
    CaseStatus,
    OfferStatus,
    OrderStatus,
    ReasonCode,
    RequestStatus,
)
from storage.models import Order, SupportCase
from storage.uow import UnitOfWork

ORDERS_PER_PAGE = 5
CLOSED_ORDER_STATUSES = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.RETURNED}
)
ORDER_GUESS = "order_guess"
# Typing order numbers that match nothing, again and again, looks like guessing.
ORDER_GUESS_LIMIT = Limit(attempts=8, window=timedelta(minutes=15))
MAX_REASON_TEXT = 1000


class CaseUnavailable(DomainError):
    """The case ended, or never was this reader's: old buttons land here."""

    template = "errors/case_closed"


class Availability(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # cancelled, refunded or returned already
    IN_PROGRESS = "in_progress"  # a cancellation request is already under way


@dataclass(frozen=True, slots=True)
class OrderChoice:
    order: OrderView
    availability: Availability
    request_status: RequestStatus | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[OrderView, ...]
    page: int
    pages: int


class Found(StrEnum):
    EXACT = "exact"
    CONFIDENT = "confident"
    AMBIGUOUS = "ambiguous"
    NONE = "none"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Identification:
    found: Found
    orders: tuple[OrderView, ...] = ()
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """How many of each item the customer returns (0 = keeps it)."""

    order: OrderView
    quantities: dict[int, int]

    @property
    def any(self) -> bool:
        return any(self.quantities.values())


class CaseService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        vocabulary: MatchingVocabulary,
        candidates: CaseCandidates | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._vocabulary = vocabulary
        self._candidates_cache = candidates if candidates is not None else CaseCandidates()
        self._throttle = Throttle(uow, clock)

    async def start(
        self, identity: Identity, reason: ReasonCode | None = None, words: str | None = None
    ) -> int:
        """A new case for this chat; an unfinished one is abandoned (one open case per chat).
        `reason`: what the customer already said ("wrong size"), so it is not asked again."""
        now = self._clock.now()
        async with self._uow.transaction():
            await self._uow.cases.close_open_for_chat(identity.chat_id, CaseStatus.ABANDONED, now)
            case = SupportCase(
                telegram_user_id=identity.user_id,
                chat_id=identity.chat_id,
                conversation_id=identity.conversation_id,
                customer_id=identity.customer_id,
                reason_code=reason,
                reason_text=words[:MAX_REASON_TEXT] if words else None,
                created_at=now,
                updated_at=now,
            )
            self._uow.cases.add(case)
            await self._uow.flush()
            return case.id

    async def abandon(self, identity: Identity, case_id: int) -> None:
        async with self._uow.transaction():
            case = await self._uow.cases.get(case_id)
            if case is not None and _is_open_for(case, identity):
                case.status = CaseStatus.ABANDONED
                case.closed_at = case.updated_at = self._clock.now()
                await OfferRecords(self._uow).answer_open(
                    case.id, OfferStatus.EXPIRED, self._clock.now()
                )

    async def orders(self, identity: Identity, page: int = 0) -> OrderPage:
        """The reader's orders that can still be cancelled, newest first, five a page."""
        async with self._uow.transaction(reads_only=True):
            open_orders = await self._uow.orders.open_to(
                identity.user_id, identity.customer_id, self._clock.now(), CLOSED_ORDER_STATUSES
            )
        pages = max(1, -(-len(open_orders) // ORDERS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        chunk = open_orders[page * ORDERS_PER_PAGE : (page + 1) * ORDERS_PER_PAGE]
        return OrderPage(tuple(OrderView.of(o, identity.locale) for o in chunk), page, pages)

    async def identify(self, identity: Identity, case_id: int, text: str) -> Identification:
        """Which of the reader's orders a typed number or description means.

        Only the reader's own orders are searched, so another customer's order number
        gets the same answer as one that does not exist.
        """
        subject = f"tg:{identity.user_id}"
        # Reads first: on SQLite the write lock is taken only if a miss must be counted.
        async with self._uow.transaction(reads_first=True):
            await self._open_case(identity, case_id)
            allowance = await self._throttle.check(subject, ORDER_GUESS, ORDER_GUESS_LIMIT)
            if not allowance.allowed:
                return Identification(Found.THROTTLED, retry_at=allowance.retry_at)
            index = await self._candidates(identity, case_id)
            message = index.parse(text)
            if index.needs_descriptions(message):  # once per index: numbers need none
                index.describe(
                    await self._uow.orders.candidate_descriptions(
                        identity.user_id, identity.customer_id, self._clock.now()
                    )
                )
            match = index.match_message(message, now=self._clock.now())
            if match.kind is MatchKind.NONE:
                self._throttle.record(subject, ORDER_GUESS)
            orders = await self._uow.orders.visible_many(
                [scored.candidate.order_id for scored in match.best],
                identity.user_id,
                identity.customer_id,
                self._clock.now(),
            )
        views = tuple(
            OrderView.of(orders[scored.candidate.order_id], identity.locale)
            for scored in match.best
            if scored.candidate.order_id in orders
        )
        return Identification(Found(match.kind.value), views)

    async def _candidates(self, identity: Identity, case_id: int) -> CandidateIndex:
        """The customer's orders as matching reads them, from the case's cache if there."""
        cache, user, customer = self._candidates_cache, identity.user_id, identity.customer_id
        cached = cache.get(case_id, user)
        if cached is not None:
            return cached
        now = self._clock.now()
        index = None
        if cache.knows_viewer(user, customer):  # worth a query to see if it is still good
            version = await self._uow.orders.candidate_version(user, customer, now)
            index = cache.for_viewer(user, customer, version)
        if index is None:
            rows = await self._uow.orders.candidate_rows(user, customer, now)
            index = CandidateIndex.numbers_only(rows.orders, self._vocabulary)
            cache.put_for_viewer(user, customer, rows.version, index)
        cache.put(case_id, user, index)
        return index

    async def _open_case(self, identity: Identity, case_id: int) -> SupportCase:
        case = await self._uow.cases.get(case_id)
        if case is None or not _is_open_for(case, identity):
            raise CaseUnavailable
        return case

    async def _case_order(self, identity: Identity, case: SupportCase) -> Order:
        if case.order_id is None:
            raise CaseUnavailable
        return await self._visible_order(identity, case.order_id)

    async def _visible_order(self, identity: Identity, order_id: int) -> Order:
        order = await self._uow.orders.visible_one(
            order_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if order is None:
            raise OrderNotVisible
        return order


def _is_open_for(case: SupportCase, identity: Identity) -> bool:
    return case.telegram_user_id == identity.user_id and case.status is CaseStatus.OPEN


def selection_of(case: SupportCase, order: Order, locale: str) -> Selection:
    chosen = {int(key): value for key, value in (case.selection or {}).items()}
    return Selection(
        OrderView.of(order, locale), {item.id: chosen.get(item.id, 0) for item in order.items}
    )
