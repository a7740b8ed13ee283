"""Escapes and settings that work at any step: /cancel, /help, /language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.domain.locales import LOCALES
from bot.services.linking.identity import Identity
from bot.texts import Renderer, Texts
from dialogs.callbacks import LanguageCallback, MenuAction, MenuCallback
from dialogs.cancellation.flow import begin
from dialogs.filters import Intent
from dialogs.keyboards import language_keyboard, link_keyboard, main_menu
from dialogs.screens import Target, show_menu


async def cancel_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
) -> None:
    """/cancel stops what is under way; with nothing under way people mean "cancel my
    order", so it starts a cancellation (`/cancel SO-1002345` names the order)."""
    if await state.get_state() is None:
        await begin(message, state, services, identity, t, text=command.args)
        return
    await stop(message, state, services, identity, t)


async def stop(
    message: Message, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    """Leave whatever step we are in; nothing that was confirmed is undone."""
    template = "common/nothing_to_stop" if await state.get_state() is None else "common/stopped"
    case_id = await state.get_value("case_id")
    if isinstance(case_id, int):
        await services.cases.abandon(identity, case_id)
    await state.clear()
    markup = main_menu(t) if identity.linked else link_keyboard(t)
    await message.answer(t(template), reply_markup=markup)


async def help_command(message: Message, identity: Identity, t: Texts) -> None:
    await show_help(message, identity, t)


async def help_button(callback: CallbackQuery, identity: Identity, t: Texts) -> None:
    if callback.message is not None:
        await show_help(callback.message, identity, t)


async def show_help(target: Target, identity: Identity, t: Texts) -> None:
    await target.answer(t("help/help", linked=identity.linked), reply_markup=main_menu(t))


async def language_command(message: Message, t: Texts) -> None:
    await message.answer(t("language/choose"), reply_markup=language_keyboard(t))


async def language_button(callback: CallbackQuery, t: Texts) -> None:
    if callback.message is not None:
        await callback.message.answer(t("language/choose"), reply_markup=language_keyboard(t))


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageCallback,
    callback_answer: CallbackAnswer,
    services: Services,
    identity: Identity,
    renderer: Renderer,
) -> None:
    await services.identity.set_locale(identity, callback_data.locale)
    t = renderer.for_locale(callback_data.locale)
    callback_answer.text = t("plain/language_saved")
    if callback.message is not None:
        await callback.message.answer(t("language/changed"))
        await show_menu(callback.message, t)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cancel_command, Command("cancel"))
    router.message.register(stop, Intent("stop"))
    router.message.register(help_command, Command("help"))
    router.message.register(help_command, Intent("help"))
    router.callback_query.register(help_button, MenuCallback.filter(F.action == MenuAction.HELP))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(
        language_button, MenuCallback.filter(F.action == MenuAction.LANGUAGE)
    )
    router.callback_query.register(language_chosen, LanguageCallback.filter(F.locale.in_(LOCALES)))
    return router
