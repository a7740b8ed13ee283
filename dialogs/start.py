"""/start: greet, link by a signed deep link, or offer to resume an unfinished step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.container import Services
from bot.services.identity import Identity
from bot.services.linking import LinkOutcome
from bot.texts import Renderer, Texts
from dialogs import link
from dialogs.callbacks import ResumeAction, ResumeCallback
from dialogs.keyboards import resume_keyboard
from dialogs.link import announce_link
from dialogs.screens import greet

# The first question of every step a person can come back to, by FSM state.
PROMPTS = {**link.PROMPTS}


async def start_with_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    services: Services,
    identity: Identity,
    renderer: Renderer,
    t: Texts,
) -> None:
    """`/start <token>` from a link the merchant sent the customer."""
    result = await services.linking.link_by_token(identity.user_id, command.args or "")
    if result.outcome is LinkOutcome.LINKED:
        await state.clear()
    await announce_link(message, result, services, identity, renderer, t)


async def start(message: Message, state: FSMContext, identity: Identity, t: Texts) -> None:
    current = await state.get_state()
    if current in PROMPTS:
        await message.answer(t("start/resume", state=current), reply_markup=resume_keyboard(t))
        return
    await state.clear()
    await greet(message, identity, t)


async def resume(callback: CallbackQuery, state: FSMContext, identity: Identity, t: Texts) -> None:
    if callback.message is None:
        return
    prompt = PROMPTS.get(await state.get_state() or "")
    if prompt is None:
        await greet(callback.message, identity, t)
    else:
        await prompt(callback.message, t)


async def restart(callback: CallbackQuery, state: FSMContext, identity: Identity, t: Texts) -> None:
    await state.clear()
    if callback.message is not None:
        await greet(callback.message, identity, t)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_with_link, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.callback_query.register(resume, ResumeCallback.filter(F.action == ResumeAction.RESUME))
    router.callback_query.register(restart, ResumeCallback.filter(F.action == ResumeAction.RESTART))
    return router
