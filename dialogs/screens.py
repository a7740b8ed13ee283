"""Screens more than one flow shows: the greeting, the menu, the request to link."""

from __future__ import annotations

from aiogram.types import InaccessibleMessage, Message

from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.keyboards import link_keyboard, main_menu

Target = Message | InaccessibleMessage


async def greet(target: Target, identity: Identity, t: Texts) -> None:
    if identity.customer is not None:
        await target.answer(t("start/welcome_linked", name=identity.customer.name))
        await show_menu(target, t)
    else:
        await target.answer(
            t("start/welcome_guest", first_name=identity.first_name),
            reply_markup=link_keyboard(t),
        )


async def show_menu(target: Target, t: Texts) -> None:
    await target.answer(t("menu/main"), reply_markup=main_menu(t))


async def ask_to_link(target: Target, t: Texts, template: str = "link/needed") -> None:
    await target.answer(t(template), reply_markup=link_keyboard(t))
