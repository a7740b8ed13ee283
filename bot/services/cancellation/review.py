"""What the case needs next, and once it is complete, the decision and the offers.

Every step of the cancellation dialog ends by asking `ReviewService.review`, so the
order of the questions (items, reason, condition, photo) is decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.services.cancellation.case_facts import Evaluation, evaluate, needs_item_choice
from bot.services.cancellation.cases import CaseUnavailable
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.errors import OrderNotVisible
from bot.services.domain.money import Money
from bot.services.linking.identity import Identity
from bot.services.policy import Decision, OfferSpec, Photo, Policy, RefundOption
from storage.enums import CaseStatus, OfferStatus, OfferType, PaymentMethod, ReasonCode
from storage.models import Offer, Order, SupportCase
from storage.uow import UnitOfWork


class Step(StrEnum):
    ORDER = "order"
    ITEMS = "items"
    REASON = "reason"
    CONDITION = "condition"
    PHOTO = "photo"
    DECISION = "decision"


@dataclass(frozen=True, slots=True)
class OfferView:
    id: int
    type: OfferType
    value: Money
    percent: Decimal | None
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class Review:
    step: Step
    order: OrderView | None = None
    decision: Decision | None = None
    offers: tuple[OfferView, ...] = ()
    refund_method: PaymentMethod | None = None
    reason: ReasonCode | None = None
    item_choice: bool = False  # the customer chose which items: they may go back to them

    @property
    def photo_required(self) -> bool:
        return self.decision is not None and self.decision.photo is Photo.REQUIRED

    def refund_options(self) -> tuple[RefundOption, ...]:
        """The ways to be paid back; store credit is left out once it was an offer."""
        if self.decision is None:
            return ()
        offered = {offer.type for offer in self.offers}
        return tuple(
            option
            for option in self.decision.refund_options
            if not (
                option.method is PaymentMethod.STORE_CREDIT
                and OfferType.STORE_CREDIT in offered
                and self.refund_method is not PaymentMethod.STORE_CREDIT
            )
        )

    def chosen_option(self) -> RefundOption | None:
        """The option the customer picked, else the first one (the original payment method)."""
        options = self.decision.refund_options if self.decision else ()
        for option in options:
            if option.method is self.refund_method:
                return option
        return options[0] if options else None


class ReviewService:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def review(self, identity: Identity, case_id: int) -> Review:
        """The next question, or the decision with the offers shown for it (recorded once)."""
        now = self._clock.now()
        async with self._uow.transaction():
            case, order = await self._load(identity, case_id)
            if order is None:
                return Review(Step.ORDER)
            view = OrderView.of(order, identity.locale)
            if needs_item_choice(order) and not case.selection:
                return Review(Step.ITEMS, view)
            if case.reason_code is None:
                return Review(Step.REASON, view)
            customer = await self._uow.customers.get(order.customer_id)
            assert customer is not None
            evaluation = await evaluate(self._uow, case, order, customer, now, self._policy)
            decision = evaluation.decision
            if decision.needs_condition:
                return Review(Step.CONDITION, view, decision)
            if self._wants_photo(case, decision):
                return Review(Step.PHOTO, view, decision)
            offers = await self._record_offers(case, order, evaluation)
            case.decision = decision.to_json(evaluation.offers)
            case.updated_at = now
            return Review(
                Step.DECISION,
                view,
                decision,
                offers,
                case.refund_method,
                case.reason_code,
                item_choice=needs_item_choice(order),
            )

    @staticmethod
    def _wants_photo(case: SupportCase, decision: Decision) -> bool:
        """Ask for a photo the rule wants, until one came or the customer said they have
        none (a required one: they described the problem instead, and a person checks)."""
        if case.photo_file_id is not None:
            return False
        return decision.photo is not Photo.NONE and not case.photo_skipped

    async def _load(self, identity: Identity, case_id: int) -> tuple[SupportCase, Order | None]:
        case = await self._uow.cases.get(case_id)
        if (
            case is None
            or case.telegram_user_id != identity.user_id
            or case.status is not CaseStatus.OPEN
        ):
            raise CaseUnavailable
        if case.order_id is None:
            return case, None
        order = await self._uow.orders.visible_one(
            case.order_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if order is None:
            raise OrderNotVisible
        return case, order

    async def _record_offers(
        self, case: SupportCase, order: Order, evaluation: Evaluation
    ) -> tuple[OfferView, ...]:
        """Show the same offers again when nothing changed; otherwise expire and replace them.

        Every row written here is an offer shown to a customer: the save rate counts them.
        """
        wanted = [_key(spec) for spec in evaluation.offers]
        shown = list(await self._uow.offers.shown_for_case(case.id))
        if [_key_of(offer) for offer in shown] == wanted:
            return tuple(_view(offer) for offer in shown)
        now = self._clock.now()
        records = OfferRecords(self._uow)
        await records.answer_open(case.id, OfferStatus.EXPIRED, now)
        rows = await records.show(case.id, order, evaluation.offers, now)
        return tuple(_view(row) for row in rows)


def _key(spec: OfferSpec) -> tuple[Any, ...]:
    return (spec.type, spec.value.amount, spec.value.currency, tuple(sorted(spec.params.items())))


def _key_of(offer: Offer) -> tuple[Any, ...]:
    return (offer.type, offer.value, offer.currency, tuple(sorted(offer.params.items())))


def _view(offer: Offer) -> OfferView:
    return OfferView(
        id=offer.id,
        type=offer.type,
        value=Money(offer.value, offer.currency),
        percent=offer.percent,
        params=dict(offer.params),
    )
