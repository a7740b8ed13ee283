"""The cancellation as steps: each thing the customer does is one call here.

Every command runs in one transaction: it loads the case (and its order) once, applies
the change, and returns the step the case is at now (`Review`), decided from the case
alone: where the customer stands within a step (choosing items until "Continue", typing
their own words after "Other" or "No photo", past the offers) is kept on the case
(`SupportCase.stage`), not in the chat's FSM state, so a restart or a second device
resumes exactly there. The dialogs map the step to a screen and only write the FSM state
that routes the next message. The two queries (`peek`, `refused`) never write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.services.cancellation.alternatives import Accepted, AlternativesService, OfferOutcome
from bot.services.cancellation.case_facts import evaluate, needs_item_choice
from bot.services.cancellation.cases import (
    CLOSED_ORDER_STATUSES,
    MAX_REASON_TEXT,
    Availability,
    CaseUnavailable,
    OrderChoice,
    Selection,
    selection_of,
)
from bot.services.cancellation.offer_records import OfferRecords
from bot.services.cancellation.review import Review, Step, record_offers, wants_photo
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.errors import OrderNotVisible
from bot.services.linking.identity import Identity
from bot.services.policy import Policy
from storage.enums import (
    CaseStage,
    CaseStatus,
    ItemCondition,
    OfferStatus,
    PaymentMethod,
    ReasonCode,
)
from storage.models import Order, SupportCase
from storage.uow import UnitOfWork

_Change = Callable[[SupportCase], None]


@dataclass(frozen=True, slots=True)
class Chosen:
    """An order picked for the case: taken (`next` is the step after it), or not."""

    choice: OrderChoice
    next: Review | None = None


@dataclass(frozen=True, slots=True)
class OfferAnswer:
    """What accepting an offer did, and the step after it when the case goes on."""

    outcome: OfferOutcome
    next: Review | None = None


class CaseSteps:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, policy: Policy, alternatives: AlternativesService
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._alternatives = alternatives

    # -- the order --------------------------------------------------------------------------

    async def choose(self, identity: Identity, case_id: int, order_id: int) -> Chosen:
        """Attach the order to the case, unless it is closed or already being cancelled
        (then the case ends: there is nothing to cancel)."""
        now = self._clock.now()
        async with self._uow.transaction():
            case = await self._case(identity, case_id)
            order = await self._visible_order(identity, order_id)
            view = OrderView.of(order, identity.locale)
            choice = OrderChoice(view, Availability.OPEN)
            if order.status in CLOSED_ORDER_STATUSES:
                choice = OrderChoice(view, Availability.CLOSED)
            elif active := await self._uow.cases.active_request_for_order(order.id):
                choice = OrderChoice(view, Availability.IN_PROGRESS, active.status)
            if choice.availability is not Availability.OPEN:
                case.status = CaseStatus.ABANDONED
                case.closed_at = case.updated_at = now
                await OfferRecords(self._uow).answer_open(case.id, OfferStatus.EXPIRED, now)
                return Chosen(choice)
            if case.order_id != order.id:
                if case.order_id is not None:  # a reason given before any order was chosen stays
                    case.reason_code = None
                case.order_id = order.id
                case.customer_id = order.customer_id
                case.selection = None
                case.item_condition = None
                case.photo_file_id, case.photo_skipped = None, False
                case.stage = None
            case.updated_at = now
            return Chosen(choice, await self._next(identity, case, order))

    # -- the items --------------------------------------------------------------------------

    async def step_item(self, identity: Identity, case_id: int, item_id: int) -> Selection:
        """One more of this item, wrapping back to none after all of them; the items stay
        open until "Continue"."""
        async with self._uow.transaction():
            case, order = await self._case_and_order(identity, case_id)
            current = selection_of(case, order, identity.locale).quantities
            item = next((i for i in order.items if i.id == item_id), None)
            if item is None:
                raise CaseUnavailable
            current[item.id] = (current.get(item.id, 0) + 1) % (item.quantity + 1)
            case.selection = {str(key): value for key, value in current.items() if value}
            # The condition and the photo described the items chosen before: ask again.
            case.item_condition = None
            case.photo_file_id, case.photo_skipped = None, False
            self._at(case, CaseStage.ITEMS)
        return selection_of(case, order, identity.locale)

    async def items_done(self, identity: Identity, case_id: int) -> Review:
        """ "Continue": the choice is made."""
        return await self._change(identity, case_id, lambda case: self._at(case, None))

    async def reopen_items(self, identity: Identity, case_id: int) -> Review:
        """Back from the decision to the items: the choice stays ticked, the reason stays;
        the offers shown and the refund method chosen for that choice lapse, so an old
        button cannot act on terms the customer is changing."""
        now = self._clock.now()
        async with self._uow.transaction():
            case, order = await self._case_and_order(identity, case_id)
            await self._uow.offers.answer_shown(case.id, OfferStatus.EXPIRED, now)
            case.decision, case.refund_method = None, None
            self._at(case, CaseStage.ITEMS)
            return await self._next(identity, case, order)

    # -- why, in what condition, a photo ------------------------------------------------------

    async def reason(
        self, identity: Identity, case_id: int, code: ReasonCode, words: str | None = None
    ) -> Review:
        def change(case: SupportCase) -> None:
            case.reason_code = code
            case.reason_text = words[:MAX_REASON_TEXT] if words else case.reason_text
            case.item_condition = None
            self._at(case, None)

        return await self._change(identity, case_id, change)

    async def other_reason(self, identity: Identity, case_id: int) -> Review:
        """ "Other": their own words are awaited."""
        return await self._change(
            identity, case_id, lambda case: self._at(case, CaseStage.REASON_WORDS)
        )

    async def condition(self, identity: Identity, case_id: int, condition: ItemCondition) -> Review:
        def change(case: SupportCase) -> None:
            case.item_condition = condition
            self._at(case, None)

        return await self._change(identity, case_id, change)

    async def photo(self, identity: Identity, case_id: int, file_id: str | None) -> Review:
        """Keep the photo's Telegram file_id for the agent; None means the customer skipped."""

        def change(case: SupportCase) -> None:
            case.photo_file_id = file_id
            case.photo_skipped = file_id is None
            self._at(case, None)

        return await self._change(identity, case_id, change)

    async def no_photo(self, identity: Identity, case_id: int) -> Review:
        """ "No photo": a description is awaited instead."""
        return await self._change(
            identity, case_id, lambda case: self._at(case, CaseStage.PHOTO_WORDS)
        )

    async def describe_without_photo(self, identity: Identity, case_id: int, text: str) -> Review:
        """No photo to send: the customer's description goes with their reason, for the
        person who then checks the claim (`RequestFacts.no_photo`)."""

        def change(case: SupportCase) -> None:
            said = f"{case.reason_text}\n{text}" if case.reason_text else text
            case.reason_text = said[:MAX_REASON_TEXT]
            case.photo_file_id, case.photo_skipped = None, True
            self._at(case, None)

        return await self._change(identity, case_id, change)

    # -- the offers and the refund --------------------------------------------------------

    async def decline_offers(self, identity: Identity, case_id: int) -> Review:
        """ "No thanks": on to the refund. The offers stay shown until the case ends
        (confirming declines them, leaving expires them), so "Back" from the summary shows
        the very same rows again and the save rate counts each once."""
        return await self._change(identity, case_id, lambda case: self._at(case, CaseStage.REFUND))

    async def answer_offer(
        self, identity: Identity, case_id: int, offer_id: int, choice: int | None = None
    ) -> OfferAnswer:
        """Accept an offer (`AlternativesService.accept`), and where the case goes on: to
        the refund (store credit chosen), or back to what is offered now (it lapsed)."""
        async with self._uow.transaction():
            outcome = await self._alternatives.accept(identity, case_id, offer_id, choice)
            if outcome.result not in (Accepted.REFUND_METHOD, Accepted.UNAVAILABLE):
                return OfferAnswer(outcome)
            case, order = await self._case_and_order(identity, case_id)
            stage = CaseStage.REFUND if outcome.result is Accepted.REFUND_METHOD else None
            self._at(case, stage)
            return OfferAnswer(outcome, await self._next(identity, case, order))

    async def method(self, identity: Identity, case_id: int, method: PaymentMethod) -> Review:
        def change(case: SupportCase) -> None:
            case.refund_method = method
            self._at(case, CaseStage.REFUND)

        return await self._change(identity, case_id, change)

    async def back_to_offers(self, identity: Identity, case_id: int) -> Review:
        """ "Back" on the summary: the decision and its offers again."""
        return await self._change(identity, case_id, lambda case: self._at(case, None))

    async def resume(self, identity: Identity, case_id: int) -> Review:
        """The step the case is at (after /start, or terms that changed at Confirm). A
        command: reaching the decision records the offers it shows."""
        return await self._change(identity, case_id, lambda case: None)

    # -- queries --------------------------------------------------------------------------

    async def peek(self, identity: Identity, case_id: int) -> Review:
        """The step the case is at, without writing anything (offers are not recorded,
        so a DECISION seen here carries none)."""
        async with self._uow.transaction(reads_first=True):
            case, order = await self._case_and_maybe_order(identity, case_id)
            return await self._next(identity, case, order, record=False)

    async def refused(self, identity: Identity, case_id: int) -> bool:
        """The case is at its decision and the policy said no (not while a question is
        still open), read from the decision recorded on the case."""
        async with self._uow.transaction(reads_first=True):
            case = await self._case(identity, case_id)
            decision = case.decision
        return decision is not None and decision.get("eligible") is False

    # -- the one place that decides the step ------------------------------------------------

    async def _next(
        self, identity: Identity, case: SupportCase, order: Order | None, *, record: bool = True
    ) -> Review:
        if order is None:
            return Review(Step.ORDER)
        view = OrderView.of(order, identity.locale)
        item_choice = needs_item_choice(order)
        if item_choice and (not case.selection or case.stage is CaseStage.ITEMS):
            selection = selection_of(case, order, identity.locale)
            return Review(Step.ITEMS, view, selection=selection)
        if case.reason_code is None:
            words = case.stage is CaseStage.REASON_WORDS
            return Review(Step.REASON_WORDS if words else Step.REASON, view)
        now = self._clock.now()
        # The policy's reads do not read the case. Left unflushed, the step's change to it
        # is written once, with the decision, instead of before and after them. (Whatever
        # else the transaction changed was flushed when the case and order were read.)
        with self._uow.unflushed():
            customer = await self._uow.customers.get(order.customer_id)
            assert customer is not None
            evaluation = await evaluate(self._uow, case, order, customer, now, self._policy)
        decision = evaluation.decision
        if decision.needs_condition:
            return Review(Step.CONDITION, view, decision)
        if wants_photo(case, decision):
            words = case.stage is CaseStage.PHOTO_WORDS
            return Review(Step.PHOTO_WORDS if words else Step.PHOTO, view, decision)
        review = Review(
            Step.DECISION,
            view,
            decision,
            reason=case.reason_code,
            refund_method=case.refund_method,
            item_choice=item_choice,
        )
        if not record:
            return review
        case.decision = decision.to_json(evaluation.offers)  # written with the step's change
        offers = await record_offers(self._uow, case, order, evaluation, now)
        review = replace(review, offers=offers)
        past_offers = case.stage is CaseStage.REFUND
        if not decision.eligible or (offers and not past_offers):
            return review
        # The refund: how to be paid back, then the summary. With no offers, it comes
        # right after the decision, which is shown first.
        if not past_offers:
            self._at(case, CaseStage.REFUND)
        review = replace(review, with_decision=not past_offers)
        options = review.refund_options()
        if len(options) > 1 and case.refund_method is None:
            return replace(review, step=Step.METHOD)
        if options and review.chosen_option() not in options:
            # The default way back (store credit, for cash on delivery) was an offer the
            # customer turned down: the refund goes the one way left, not the default.
            case.refund_method = options[0].method
            review = replace(review, refund_method=options[0].method)
        return replace(review, step=Step.CONFIRM)

    # -- loading ----------------------------------------------------------------------------

    async def _change(self, identity: Identity, case_id: int, change: _Change) -> Review:
        async with self._uow.transaction():
            case, order = await self._case_and_maybe_order(identity, case_id)
            change(case)
            case.updated_at = self._clock.now()
            return await self._next(identity, case, order)

    def _at(self, case: SupportCase, stage: CaseStage | None) -> None:
        case.stage = stage
        case.updated_at = self._clock.now()

    async def _case(self, identity: Identity, case_id: int) -> SupportCase:
        case = await self._uow.cases.get(case_id)
        if case is None:
            raise CaseUnavailable
        _check_case(case, identity)
        return case

    async def _case_and_maybe_order(
        self, identity: Identity, case_id: int
    ) -> tuple[SupportCase, Order | None]:
        """The case and its order, read together (one query, most steps need both)."""
        found = await self._uow.cases.with_visible_order(
            case_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if found is None:
            raise CaseUnavailable
        case, order = found
        _check_case(case, identity)
        if case.order_id is not None and order is None:
            raise OrderNotVisible
        return case, order

    async def _case_and_order(self, identity: Identity, case_id: int) -> tuple[SupportCase, Order]:
        case, order = await self._case_and_maybe_order(identity, case_id)
        if order is None:
            raise CaseUnavailable
        return case, order

    async def _visible_order(self, identity: Identity, order_id: int) -> Order:
        order = await self._uow.orders.visible_one(
            order_id, identity.user_id, identity.customer_id, self._clock.now()
        )
        if order is None:
            raise OrderNotVisible
        return order


def _check_case(case: SupportCase, identity: Identity) -> None:
    """Only the chat's own open case takes a step."""
    if case.telegram_user_id != identity.user_id or case.status is not CaseStatus.OPEN:
        raise CaseUnavailable
