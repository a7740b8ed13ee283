"""Moving the cancellation forward: ask the review what is missing and show that step.

Every handler of the flow ends here, so the order of questions lives in one place
(`ReviewService`), and a resumed conversation lands on the right step.
"""

from __future__ import annotations

from dataclasses import replace

from aiogram.fsm.context import FSMContext

from bot.services.cancellation.cases import Availability, Found
from bot.services.cancellation.review import Review, Step
from bot.services.container import Services
from bot.services.conversation.intents import Said
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.cancellation import screens
from dialogs.screens import Target, ask_to_link
from dialogs.states import CancelFlow


async def begin(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    *,
    text: str | None = None,
    said: Said | None = None,
) -> None:
    """Open a case; with `text` ("cancel SO-1002345", "退掉耳机") try to find the order at
    once; with `said` ("wrong size") the reason is not asked again."""
    if not identity.linked and not (await services.cases.orders(identity)).orders:
        await ask_to_link(target, t)
        return
    case_id = await services.cases.start(identity)
    if said is not None:
        await services.cases.set_reason(identity, case_id, said.reason, said.words)
    await state.set_data({"case_id": case_id})
    if text:
        await identify(target, state, services, identity, t, case_id, text)
        return
    await screens.order_list(target, state, services, identity, t, case_id)


async def identify(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
    text: str,
) -> Found:
    """A typed order number or description: take it, confirm it, or offer the candidates.
    Returns how it went (`Found.NONE`: the words named none of the customer's orders)."""
    found = await services.cases.identify(identity, case_id, text)
    if found.found is Found.EXACT:
        await choose(target, state, services, identity, t, case_id, found.orders[0].id)
    elif found.found is Found.CONFIDENT:
        await screens.did_you_mean(target, state, t, case_id, found.orders[0])
    elif found.found is Found.AMBIGUOUS:
        await screens.several(target, state, t, case_id, found.orders)
    elif found.found is Found.THROTTLED:
        await target.answer(t("cancel/throttled", retry_at=found.retry_at))
        await screens.order_list(target, state, services, identity, t, case_id)
    else:
        intro = t("cancel/not_found", text=text)
        await screens.order_list(target, state, services, identity, t, case_id, intro=intro)
    return found.found


async def choose(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
    order_id: int,
) -> None:
    """Take the order for this case, or say why it cannot be cancelled again."""
    choice = await services.cases.choose(identity, case_id, order_id)
    if choice.availability is Availability.CLOSED:
        await target.answer(t("cancel/order_closed", order=choice.order))
        await services.cases.abandon(identity, case_id)
        await state.clear()
    elif choice.availability is Availability.IN_PROGRESS:
        await target.answer(
            t("cancel/order_in_progress", order=choice.order, status=choice.request_status)
        )
        await services.cases.abandon(identity, case_id)
        await state.clear()
    else:
        await advance(target, state, services, identity, t, case_id)


async def advance(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """Show the step the case is at, where the FSM state says the customer was: resuming
    after /start lands on the same step. The items stay open until "Continue" (which moves
    the state on, also after "Change the items" on the decision), and the offers are not
    shown again to a customer already choosing a refund method or confirming (to go back
    to them, set CancelFlow.decision first)."""
    current = await state.get_state()
    if current == CancelFlow.items.state:
        # Items tapped but not confirmed with Continue (or reopened from the decision):
        # still choosing, so nothing is decided or offered until Continue.
        await screens.items(
            target, state, t, case_id, await services.cases.selection(identity, case_id)
        )
        return
    review = await services.review.review(identity, case_id)
    eligible = review.decision is not None and review.decision.eligible
    if review.step is Step.ORDER:
        await screens.order_list(target, state, services, identity, t, case_id)
    elif review.step is Step.ITEMS:
        await screens.items(
            target, state, t, case_id, await services.cases.selection(identity, case_id)
        )
    elif review.step is Step.REASON and current == CancelFlow.reason_text.state:
        await target.answer(t("cancel/describe_other"))
    elif review.step is Step.REASON:
        assert review.order is not None
        await screens.reasons(target, state, t, case_id, review.order)
    elif review.step is Step.CONDITION:
        await screens.condition(target, state, t, case_id)
    elif review.step is Step.PHOTO:
        await screens.photo(target, state, t, case_id, required=review.photo_required)
    elif eligible and current in (CancelFlow.method.state, CancelFlow.confirm.state):
        await to_refund(target, state, services, identity, t, case_id, review)
    else:
        await screens.decision(target, state, t, case_id, review)
        if eligible and not review.offers:
            await to_refund(target, state, services, identity, t, case_id, review)


async def to_refund(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
    review: Review,
) -> None:
    """After the offers: how to be paid back (when there is a choice), then the summary."""
    options = review.refund_options()
    if len(options) > 1 and review.refund_method is None:
        await screens.methods(target, state, t, case_id, review)
        return
    if options and review.chosen_option() not in options:
        # The default way back (store credit, for cash on delivery) was an offer the
        # customer turned down: the refund goes the one way left, not the default.
        await services.cancellation.choose_method(identity, case_id, options[0].method)
        review = replace(review, refund_method=options[0].method)
    await screens.summary(target, state, t, case_id, review)
