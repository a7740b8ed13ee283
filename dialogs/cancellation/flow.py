"""Moving the cancellation forward: each handler makes one call to the case's steps
(`bot.services.cancellation.steps`), which returns the step the case is at, and `show`
puts that step's screen in front of the customer. Which question comes next is decided
there, from the case alone; the FSM state written here only routes the next message.
"""

from __future__ import annotations

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
    reason, words = (said.reason, said.words) if said is not None else (None, None)
    case_id = await services.cases.start(identity, reason, words)
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
    chosen = await services.steps.choose(identity, case_id, order_id)
    if chosen.next is not None:
        await show(target, state, services, identity, t, case_id, chosen.next)
        return
    choice = chosen.choice
    if choice.availability is Availability.CLOSED:
        await target.answer(t("cancel/order_closed", order=choice.order))
    else:
        await target.answer(
            t("cancel/order_in_progress", order=choice.order, status=choice.request_status)
        )
    await state.clear()


async def advance(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """Show the step the case is at (after /start, the terms changing at Confirm…)."""
    review = await services.steps.resume(identity, case_id)
    await show(target, state, services, identity, t, case_id, review)


async def show(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
    review: Review,
) -> None:
    """The screen of the step a case is at."""
    step = review.step
    if step is Step.ORDER:
        await screens.order_list(target, state, services, identity, t, case_id)
    elif step is Step.ITEMS:
        assert review.selection is not None
        await screens.items(target, state, t, case_id, review.selection)
    elif step is Step.REASON:
        assert review.order is not None
        await screens.reasons(target, state, t, case_id, review.order)
    elif step is Step.REASON_WORDS:
        await state.set_state(CancelFlow.reason_text)
        await target.answer(t("cancel/describe_other"))
    elif step is Step.CONDITION:
        await screens.condition(target, state, t, case_id)
    elif step is Step.PHOTO:
        await screens.photo(target, state, t, case_id, required=review.photo_required)
    elif step is Step.PHOTO_WORDS:
        await state.set_state(CancelFlow.photo_text)
        await target.answer(t("cancel/describe_without_photo"))
    else:
        if step is Step.DECISION or review.with_decision:
            await screens.decision(target, state, t, case_id, review)
        if step is Step.METHOD:
            await screens.methods(target, state, t, case_id, review)
        elif step is Step.CONFIRM:
            await screens.summary(target, state, t, case_id, review)
