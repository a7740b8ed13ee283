"""Linking a Telegram account to a customer: a shared contact, or order number + detail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.services.container import Services
from bot.services.linking.accounts import (
    GuestOutcome,
    LinkOutcome,
    LinkResult,
    looks_like_guest_detail,
)
from bot.services.linking.identity import Identity
from bot.texts import Renderer, Texts
from dialogs.filters import HAS_CONTACT, HAS_TEXT, ButtonText
from dialogs.keyboards import REMOVE_KEYBOARD, link_keyboard
from dialogs.screens import Target, show_menu
from dialogs.states import LinkFlow

MAX_ORDER_NUMBER_CHARS = 40


async def ask_guest_order(target: Target, t: Texts) -> None:
    await target.answer(t("link/guest_ask_order"), reply_markup=REMOVE_KEYBOARD)


async def ask_guest_detail(target: Target, t: Texts) -> None:
    await target.answer(t("link/guest_ask_secret"))


PROMPTS: dict[str, Callable[[Target, Texts], Awaitable[None]]] = {
    str(LinkFlow.guest_order_number.state): ask_guest_order,
    str(LinkFlow.guest_secret.state): ask_guest_detail,
}


async def announce_link(
    target: Target,
    result: LinkResult,
    services: Services,
    identity: Identity,
    renderer: Renderer,
    t: Texts,
) -> None:
    """Say how linking went; once linked, in the customer's own language."""
    if result.outcome is not LinkOutcome.LINKED or result.customer is None:
        markup = None if identity.linked else link_keyboard(t)
        await target.answer(t(f"link/{result.outcome}"), reply_markup=markup)
        return
    t = renderer.for_locale(services.identity.linked(identity, result.customer).locale)
    await target.answer(t("link/linked", name=result.customer.name), reply_markup=REMOVE_KEYBOARD)
    await show_menu(target, t)


async def contact_shared(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    renderer: Renderer,
    t: Texts,
) -> None:
    """The person tapped "Share my phone number" (or sent some contact card)."""
    contact = message.contact
    assert contact is not None  # guaranteed by the filter
    result = await services.linking.link_by_contact(
        identity.user_id, contact.user_id, contact.phone_number
    )
    if result.outcome is LinkOutcome.LINKED and await state.get_state() in PROMPTS:
        await state.clear()
    await announce_link(message, result, services, identity, renderer, t)


async def guest_chosen(message: Message, state: FSMContext, t: Texts) -> None:
    await state.set_state(LinkFlow.guest_order_number)
    await ask_guest_order(message, t)


async def guest_order_number(message: Message, state: FSMContext, t: Texts) -> None:
    """Keep the number without checking it: whether it exists is not told to strangers."""
    number = (message.text or "").strip()[:MAX_ORDER_NUMBER_CHARS]
    await state.update_data(guest_order=number)
    await state.set_state(LinkFlow.guest_secret)
    await ask_guest_detail(message, t)


async def guest_detail(
    message: Message, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    detail = (message.text or "").strip()
    if not looks_like_guest_detail(detail):
        await message.answer(t("link/guest_bad_secret"))
        return
    number = await state.get_value("guest_order", "")
    result = await services.linking.verify_guest(identity.user_id, number, detail)
    if result.outcome is GuestOutcome.VERIFIED:
        await state.clear()
        await message.answer(t("link/guest_verified", order_number=result.order_number))
        await show_menu(message, t)
    elif result.outcome is GuestOutcome.MISMATCH:
        await state.set_state(LinkFlow.guest_order_number)
        await message.answer(t("link/guest_mismatch", attempts_left=result.attempts_left))
    else:
        await state.clear()
        await message.answer(
            t("link/guest_locked", retry_at=result.retry_at), reply_markup=link_keyboard(t)
        )


async def guest_step_not_text(message: Message, state: FSMContext, t: Texts) -> None:
    """A sticker or photo where text was asked for: say so, then ask again."""
    await message.answer(t("fallback/text_expected"))
    prompt = PROMPTS[await state.get_state() or ""]
    await prompt(message, t)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(contact_shared, HAS_CONTACT)
    router.message.register(guest_chosen, ButtonText("guest"))
    router.message.register(guest_order_number, StateFilter(LinkFlow.guest_order_number), HAS_TEXT)
    router.message.register(guest_detail, StateFilter(LinkFlow.guest_secret), HAS_TEXT)
    router.message.register(guest_step_not_text, StateFilter(LinkFlow.guest_order_number))
    router.message.register(guest_step_not_text, StateFilter(LinkFlow.guest_secret))
    return router
