"""What a step returns: the step the case is at now, with what its screen shows (the
order, the items, the decision and its offers, the ways to be paid back).

`bot.services.cancellation.steps` decides the step; this module holds the answer's shape
and the two rules it uses (which offers are shown, when a photo is asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.services.cancellation.case_facts import Evaluation
from bot.services.cancellation.cases import Selection
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.conversation.views import OrderView
from bot.services.domain.money import Money
from bot.services.policy import Decision, OfferSpec, Photo, RefundOption
from storage.enums import OfferStatus, OfferType, PaymentMethod, ReasonCode
from storage.models import Offer, Order, SupportCase
from storage.repositories.policy_facts import ShownOffer
from storage.uow import UnitOfWork


class Step(StrEnum):
    """The screens of a cancellation, in the order a case goes through them."""

    ORDER = "order"
    ITEMS = "items"
    REASON = "reason"
    REASON_WORDS = "reason_words"  # after "Other": their own words
    CONDITION = "condition"
    PHOTO = "photo"
    PHOTO_WORDS = "photo_words"  # after "No photo": a description instead
    DECISION = "decision"  # the policy's answer and the offers
    METHOD = "method"  # how to be paid back, when there is a choice
    CONFIRM = "confirm"  # the summary to confirm


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
    selection: Selection | None = None  # at ITEMS: what is ticked
    # At METHOD or CONFIRM: the decision was not shown yet (it had no offers), show it first.
    with_decision: bool = False

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


async def record_offers(
    uow: UnitOfWork, case: SupportCase, order: Order, evaluation: Evaluation, now: datetime
) -> tuple[OfferView, ...]:
    """Show the same offers again when nothing changed; otherwise expire and replace them.

    Every row written here is an offer shown to a customer: the save rate counts them.
    """
    wanted = [_key(spec) for spec in evaluation.offers]
    shown = evaluation.shown  # read with the facts, in this transaction
    if [_key_of(offer) for offer in shown] == wanted:
        return tuple(_view(offer) for offer in shown)
    records = OfferRecords(uow)
    if shown:  # the offers still shown are these: the step's transaction read them
        await records.answer_open(case.id, OfferStatus.EXPIRED, now)
    rows = await records.show(case.id, order, evaluation.offers, now)
    return tuple(_view(row) for row in rows)


def wants_photo(case: SupportCase, decision: Decision) -> bool:
    """Ask for a photo the rule wants, until one came or the customer said they have
    none (a required one: they described the problem instead, and a person checks)."""
    if case.photo_file_id is not None:
        return False
    return decision.photo is not Photo.NONE and not case.photo_skipped


def _key(spec: OfferSpec) -> tuple[Any, ...]:
    return (spec.type, spec.value.amount, spec.value.currency, tuple(sorted(spec.params.items())))


def _key_of(offer: Offer | ShownOffer) -> tuple[Any, ...]:
    return (offer.type, offer.value, offer.currency, tuple(sorted(offer.params.items())))


def _view(offer: Offer | ShownOffer) -> OfferView:
    return OfferView(
        id=offer.id,
        type=offer.type,
        value=Money(offer.value, offer.currency),
        percent=offer.percent,
        params=dict(offer.params),
    )
