"""What the customer sees at each step of the cancellation, and the state that goes with it."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext

from bot.services.cancellation.alternatives import VariantChoice
from bot.services.cancellation.cases import Selection
from bot.services.cancellation.review import Review
from bot.services.container import Services
from bot.services.conversation.views import OrderView
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.cancellation import keyboards
from dialogs.screens import Target
from dialogs.states import CancelFlow


async def order_list(
    target: Target,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
    *,
    page: int = 0,
    intro: str | None = None,
) -> None:
    """The cancellable orders as buttons, newest first; typing a number or a name works too."""
    listing = await services.cases.orders(identity, page)
    await state.set_state(CancelFlow.order)
    if not listing.orders:
        await target.answer(t("cancel/no_orders", intro=intro))
        await state.clear()
        return
    await target.answer(
        t("cancel/choose_order", intro=intro, page=listing.page, pages=listing.pages),
        reply_markup=keyboards.orders(t, case_id, listing.orders, listing),
    )


async def did_you_mean(
    target: Target, state: FSMContext, t: Texts, case_id: int, order: OrderView
) -> None:
    """Still the order step: typing another number, /start and "stop" work as there."""
    await state.set_state(CancelFlow.order)
    await target.answer(
        t("cancel/did_you_mean", order=order), reply_markup=keyboards.guess(t, case_id, order.id)
    )


async def several(
    target: Target, state: FSMContext, t: Texts, case_id: int, orders: tuple[OrderView, ...]
) -> None:
    await state.set_state(CancelFlow.order)
    await target.answer(t("cancel/several"), reply_markup=keyboards.orders(t, case_id, orders))


async def items(
    target: Target, state: FSMContext, t: Texts, case_id: int, selection: Selection
) -> None:
    await state.set_state(CancelFlow.items)
    await target.answer(
        t("cancel/choose_items", order=selection.order),
        reply_markup=keyboards.items(t, case_id, selection),
    )


async def reasons(
    target: Target, state: FSMContext, t: Texts, case_id: int, order: OrderView
) -> None:
    await state.set_state(CancelFlow.reason)
    await target.answer(
        t("cancel/choose_reason", order=order), reply_markup=keyboards.reasons(t, case_id)
    )


async def condition(target: Target, state: FSMContext, t: Texts, case_id: int) -> None:
    await state.set_state(CancelFlow.condition)
    await target.answer(t("cancel/choose_condition"), reply_markup=keyboards.conditions(t, case_id))


async def photo(
    target: Target, state: FSMContext, t: Texts, case_id: int, *, required: bool
) -> None:
    await state.set_state(CancelFlow.photo)
    await target.answer(
        t("cancel/ask_photo", required=required),
        reply_markup=keyboards.photo(t, case_id, required=required),
    )


async def decision(
    target: Target, state: FSMContext, t: Texts, case_id: int, review: Review
) -> None:
    """The policy's answer in plain words with the money line by line, then the offers;
    when the customer chose items, a way back to change them."""
    assert review.decision is not None
    await state.set_state(CancelFlow.decision)
    markup = keyboards.decision(
        t,
        case_id,
        review.offers,
        eligible=review.decision.eligible,
        change_items=review.item_choice,
    )
    await target.answer(
        t(
            "cancel/decision",
            order=review.order,
            decision=review.decision,
            offers=review.offers,
            reason_code=review.reason,
        ),
        reply_markup=markup,
    )


async def variants(
    target: Target, t: Texts, case_id: int, offer_id: int, choices: tuple[VariantChoice, ...]
) -> None:
    """The exchange's variants to pick from; the offers above keep their buttons."""
    await target.answer(
        t("cancel/choose_variant"), reply_markup=keyboards.variants(t, case_id, offer_id, choices)
    )


async def methods(
    target: Target, state: FSMContext, t: Texts, case_id: int, review: Review
) -> None:
    await state.set_state(CancelFlow.method)
    await target.answer(
        t("cancel/choose_method", options=review.refund_options()),
        reply_markup=keyboards.methods(t, case_id, review.refund_options()),
    )


async def summary(
    target: Target, state: FSMContext, t: Texts, case_id: int, review: Review
) -> None:
    await state.set_state(CancelFlow.confirm)
    await target.answer(
        t(
            "cancel/summary",
            order=review.order,
            decision=review.decision,
            option=review.chosen_option(),
        ),
        reply_markup=keyboards.summary(t, case_id),
    )


async def offer_person(target: Target, t: Texts, case_id: int, *, misunderstood: bool) -> None:
    await target.answer(
        t("person/offer", misunderstood=misunderstood),
        reply_markup=keyboards.person(t, case_id, stuck=misunderstood),
    )
