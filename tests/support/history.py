"""Writes a support history row by row, in the shapes the services write them.

Each method mirrors one service's write (named in its docstring), so a test can lay out
a known history (who asked, what was offered, how the refund went) in a few lines and
check every figure computed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import (
    AgentActionKind,
    CaseStatus,
    CustomerTier,
    HandoffState,
    ItemCategory,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RelayDirection,
    RequestKind,
    RequestStatus,
    TicketReason,
    TicketStatus,
    VoucherKind,
)
from storage.models import (
    MERCHANT_REQUEST_PREFIX,
    AgentAction,
    AgentProfile,
    AgentTopic,
    CancellationItem,
    CancellationRequest,
    Conversation,
    Customer,
    Handoff,
    Offer,
    Order,
    OrderItem,
    Refund,
    RefundEscalation,
    RefundEvent,
    RelayedMessage,
    SupportCase,
    Survey,
    TelegramUser,
    Ticket,
    Voucher,
)


@dataclass
class Person:
    customer: Customer
    user: TelegramUser
    conversation: Conversation


def decision(
    *,
    eligible: bool = True,
    rule: str = "before_shipping",
    refund: str = "0.00",
    currency: str = "CNY",
    store_credit_bonus: str | None = None,
    kind: str | None = "cancel",
) -> dict[str, Any]:
    """The part of `Decision.to_json` the figures read (stored on the case at the decision
    step, `CaseSteps`)."""
    methods: list[dict[str, Any]] = [{"method": "card", "amount": refund, "bonus": "0.00"}]
    if store_credit_bonus is not None:
        total = Decimal(refund) + Decimal(store_credit_bonus)
        methods.append(
            {"method": "store_credit", "amount": f"{total:.2f}", "bonus": store_credit_bonus}
        )
    return {
        "eligible": eligible,
        "rule": rule,
        "kind": kind if eligible else None,
        "refund_amount": refund,
        "currency": currency,
        "approval": "automatic",
        "refund_methods": methods if eligible else [],
        "offers": [],
    }


class HistoryBuilder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._numbers = 0

    async def flush(self) -> None:
        await self.session.flush()

    async def person(
        self,
        ref: str,
        *,
        user_id: int,
        tier: CustomerTier = CustomerTier.REGULAR,
        locale: str | None = None,
        language_code: str = "en",
        since: datetime,
        name: str = "Ann Lee",
    ) -> Person:
        """A linked customer (`LinkingService`) with an open conversation (`IdentityService`)."""
        user = TelegramUser(id=user_id, first_name=name.split()[0], language_code=language_code)
        customer = Customer(
            external_id=ref,
            name=name,
            phone=f"+86 138 0000 {user_id % 10000:04d}",
            tier=tier,
            locale=locale,
            telegram_user_id=user_id,
        )
        conversation = Conversation(
            chat_id=user_id, telegram_user_id=user_id, started_at=since, last_activity_at=since
        )
        self.session.add(user)
        await self.session.flush()
        self.session.add(customer)
        await self.session.flush()
        conversation.customer_id = customer.id
        self.session.add(conversation)
        await self.session.flush()
        return Person(customer, user, conversation)

    async def order(
        self,
        person: Person,
        number: str,
        *lines: tuple[ItemCategory, str, int],
        status: OrderStatus,
        placed: datetime,
        currency: str = "CNY",
        paid: datetime | None = None,
        shipped: datetime | None = None,
        delivered: datetime | None = None,
        payment: PaymentMethod = PaymentMethod.CARD,
    ) -> Order:
        """An imported order (`Importer`); `lines` are (category, unit price, quantity)."""
        order = Order(
            number=number,
            customer_id=person.customer.id,
            status=status,
            currency=currency,
            payment_method=payment,
            shipping_fee=Decimal(0),
            placed_at=placed,
            paid_at=paid,
            shipped_at=shipped,
            delivered_at=delivered,
            items=[
                OrderItem(
                    line_no=index,
                    sku=f"{number}-{index}",
                    name=f"{category.value} item",
                    category=category,
                    quantity=quantity,
                    unit_price=Decimal(price),
                )
                for index, (category, price, quantity) in enumerate(lines, start=1)
            ],
        )
        self.session.add(order)
        await self.session.flush()
        return order

    async def case(
        self,
        person: Person,
        order: Order | None,
        *,
        at: datetime,
        status: CaseStatus,
        reason: ReasonCode | None = None,
        decided: dict[str, Any] | None = None,
        closed: datetime | None = None,
        touched: datetime | None = None,
        selection: dict[str, int] | None = None,
    ) -> SupportCase:
        """`CaseService.start` and the steps after it; `decided` is the stored decision."""
        case = SupportCase(
            telegram_user_id=person.user.id,
            chat_id=person.user.id,
            conversation_id=person.conversation.id,
            customer_id=person.customer.id,
            order_id=order.id if order else None,
            status=status,
            reason_code=reason,
            decision=decided,
            selection=selection,
            created_at=at,
            updated_at=touched or closed or at,
            closed_at=closed,
        )
        self.session.add(case)
        await self.session.flush()
        return case

    async def merchant_holder_case(
        self, person: Person, order: Order, request: CancellationRequest, at: datetime
    ) -> SupportCase:
        """The case `MerchantCancellations` opens to hold its offers (not a customer's)."""
        case = SupportCase(
            telegram_user_id=person.user.id,
            chat_id=person.user.id,
            conversation_id=person.conversation.id,
            customer_id=person.customer.id,
            order_id=order.id,
            status=CaseStatus.CONFIRMED,
            decision={"origin": "merchant_cancellation", "request_id": request.id},
            created_at=at,
            updated_at=at,
            closed_at=at,
        )
        self.session.add(case)
        await self.session.flush()
        return case

    async def offer(
        self,
        case: SupportCase,
        kind: OfferType,
        value: str,
        *,
        status: OfferStatus,
        shown: datetime,
        answered: datetime | None = None,
        currency: str = "CNY",
        params: dict[str, str] | None = None,
    ) -> Offer:
        """`review.record_offers`, answered by `AlternativesService` or confirming."""
        assert case.order_id is not None
        assert case.customer_id is not None
        offer = Offer(
            case_id=case.id,
            customer_id=case.customer_id,
            order_id=case.order_id,
            type=kind,
            value=Decimal(value),
            currency=currency,
            params=params or {},
            status=status,
            shown_at=shown,
            answered_at=answered,
        )
        self.session.add(offer)
        await self.session.flush()
        return offer

    async def request(
        self,
        order: Order,
        *,
        at: datetime,
        status: RequestStatus,
        case: SupportCase | None = None,
        reason: ReasonCode = ReasonCode.OTHER,
        refund: str = "0.00",
        kind: RequestKind = RequestKind.CANCEL,
        rule: str = "before_shipping",
        merchant_event: str | None = None,
        closed: datetime | None = None,
    ) -> CancellationRequest:
        """`CancellationService._stage_request`, the exchange's return, or (with
        `merchant_event`) `MerchantCancellations._stage_request`."""
        key = f"{MERCHANT_REQUEST_PREFIX}{merchant_event}" if merchant_event else f"case:{case.id}"  # type: ignore[union-attr]
        active = status in (RequestStatus.PENDING_REVIEW, RequestStatus.APPROVED)
        request = CancellationRequest(
            order_id=order.id,
            customer_id=order.customer_id,
            case_id=case.id if case else None,
            conversation_id=case.conversation_id if case else None,
            kind=kind,
            status=status,
            is_active=active,
            reason_code=reason,
            rule=rule,
            refund_amount=Decimal(refund),
            currency=order.currency,
            idempotency_key=key,
            created_at=at,
            updated_at=closed or at,
            closed_at=closed,
            items=[
                CancellationItem(order_item_id=item.id, quantity=item.quantity)
                for item in order.items
            ],
        )
        self.session.add(request)
        await self.session.flush()
        return request

    async def refund(
        self,
        order: Order,
        amount: str,
        method: PaymentMethod,
        steps: list[tuple[RefundStatus, datetime, str]],
        *,
        request: CancellationRequest | None = None,
        offer: Offer | None = None,
    ) -> Refund:
        """`RefundLedger.open` then `move` for each later step: (status, when, actor)."""
        opened = steps[0][1]
        refund = Refund(
            order_id=order.id,
            customer_id=order.customer_id,
            request_id=request.id if request else None,
            offer_id=offer.id if offer else None,
            amount=Decimal(amount),
            currency=order.currency,
            method=method,
            status=steps[-1][0],
            created_at=opened,
            updated_at=steps[-1][1],
        )
        previous: RefundStatus | None = None
        for status, at, actor in steps:
            refund.events.append(
                RefundEvent(
                    from_status=previous,
                    to_status=status,
                    actor=actor,
                    occurred_at=at,
                    recorded_at=at,
                )
            )
            previous = status
        self.session.add(refund)
        await self.session.flush()
        return refund

    async def escalation(self, refund: Refund, at: datetime) -> None:
        """`OverdueWatchdog._escalate`: the refund was reported stuck once."""
        event = refund.events[-1]
        self.session.add(
            RefundEscalation(
                refund_id=refund.id,
                event_id=event.id,
                status=refund.status,
                stuck_since=event.occurred_at,
                escalated_at=at,
                customer_notified=True,
                agents_notified=True,
            )
        )
        await self.session.flush()

    async def voucher(
        self,
        person: Person,
        amount: str,
        kind: VoucherKind,
        *,
        at: datetime,
        offer: Offer | None = None,
        request: CancellationRequest | None = None,
        currency: str = "CNY",
    ) -> Voucher:
        """`issue_voucher`."""
        self._numbers += 1
        voucher = Voucher(
            code=f"VC-TEST-{self._numbers:04d}",
            customer_id=person.customer.id,
            kind=kind,
            amount=Decimal(amount),
            currency=currency,
            offer_id=offer.id if offer else None,
            request_id=request.id if request else None,
            created_at=at,
        )
        self.session.add(voucher)
        await self.session.flush()
        return voucher

    async def ticket(
        self,
        person: Person,
        reason: TicketReason,
        *,
        at: datetime,
        case: SupportCase | None = None,
        closed: datetime | None = None,
    ) -> Ticket:
        """`TicketService.stage`."""
        ticket = Ticket(
            telegram_user_id=person.user.id,
            chat_id=person.user.id,
            conversation_id=person.conversation.id,
            customer_id=person.customer.id,
            case_id=case.id if case else None,
            reason=reason,
            status=TicketStatus.CLOSED if closed else TicketStatus.OPEN,
            created_at=at,
            closed_at=closed,
        )
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def survey(
        self,
        person: Person,
        request: CancellationRequest,
        *,
        asked: datetime,
        rating: int | None = None,
        answered: datetime | None = None,
        comment: str | None = None,
        commented: datetime | None = None,
    ) -> Survey:
        """`SurveyService.ask`, `rate` and `comment`."""
        survey = Survey(
            subject_key=f"request:{request.id}",
            customer_id=person.customer.id,
            chat_id=person.user.id,
            locale="en",
            rating=rating,
            comment=comment,
            asked_at=asked,
            answered_at=answered,
            commented_at=commented,
        )
        self.session.add(survey)
        await self.session.flush()
        return survey


class AgentHistoryBuilder(HistoryBuilder):
    """The agents' records (issue 9), in the shapes `bot.services.handoff` writes them."""

    GROUP = -1001234567890

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._keys = 0
        self._messages = 0

    async def agent(self, agent_id: int, name: str, at: datetime) -> None:
        """`HandoffRepository.seen_agent`: the profile of an agent the bot has seen."""
        self.session.add(AgentProfile(agent_id=agent_id, name=name, alias=None, updated_at=at))
        await self.session.flush()

    async def handoff(self, ticket: Ticket, at: datetime) -> Handoff:
        """`Board.open_case`: the ticket's case in the customer's topic (claimed if new)."""
        topic = await self.session.scalar(
            select(AgentTopic).where(
                AgentTopic.group_chat_id == self.GROUP, AgentTopic.chat_id == ticket.chat_id
            )
        )
        if topic is None:
            topic = AgentTopic(
                group_chat_id=self.GROUP,
                chat_id=ticket.chat_id,
                customer_id=ticket.customer_id,
                thread_id=ticket.chat_id % 100000,
                created_at=at,
                updated_at=at,
            )
            self.session.add(topic)
            await self.session.flush()
        handoff = Handoff(
            ticket_id=ticket.id,
            topic_id=topic.id,
            state=HandoffState.CLOSED if ticket.closed_at else HandoffState.NEW,
            created_at=at,
            updated_at=at,
            closed_at=ticket.closed_at,
        )
        self.session.add(handoff)
        await self.session.flush()
        return handoff

    async def act(
        self,
        ticket: Ticket,
        agent_id: int,
        kind: AgentActionKind,
        at: datetime,
        *,
        refund: Refund | None = None,
        note: str | None = None,
    ) -> None:
        """`AgentCases._record`: what an agent did, once (a unique key)."""
        self._keys += 1
        self.session.add(
            AgentAction(
                key=f"{kind.value}:test-{self._keys}",
                ticket_id=ticket.id,
                agent_id=agent_id,
                action=kind,
                refund_id=refund.id if refund else None,
                amount=refund.amount if refund else None,
                currency=refund.currency if refund else None,
                note=note,
                created_at=at,
            )
        )
        await self.session.flush()

    async def relay(
        self, ticket: Ticket, direction: RelayDirection, at: datetime, agent_id: int | None = None
    ) -> None:
        """`Relay.record`: a message copied between the customer's chat and their topic."""
        self._messages += 1
        to_customer = direction is RelayDirection.TO_CUSTOMER
        self.session.add(
            RelayedMessage(
                ticket_id=ticket.id,
                direction=direction,
                agent_id=agent_id,
                source_chat_id=self.GROUP if to_customer else ticket.chat_id,
                source_message_id=self._messages,
                copy_chat_id=ticket.chat_id if to_customer else self.GROUP,
                kind="text",
                created_at=at,
                copied_at=at,
            )
        )
        await self.session.flush()

    async def ticket_survey(
        self, person: Person, ticket: Ticket, *, asked: datetime, rating: int, answered: datetime
    ) -> Survey:
        """`SurveyService.ask` when an agent closes a conversation (`ticket_subject`)."""
        survey = Survey(
            subject_key=f"ticket:{ticket.id}",
            customer_id=person.customer.id,
            chat_id=person.user.id,
            locale="en",
            rating=rating,
            asked_at=asked,
            answered_at=answered,
        )
        self.session.add(survey)
        await self.session.flush()
        return survey


def days(n: float) -> timedelta:
    return timedelta(days=n)
