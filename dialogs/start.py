"""/start: greet, link by a signed deep link, or offer to resume an unfinished step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.cancellation.cases import CaseUnavailable
from bot.services.container import Services
from bot.services.linking.accounts import LinkOutcome
from bot.services.linking.identity import Identity
from bot.texts import Renderer, Texts
from dialogs import link
from dialogs.callbacks import ResumeAction, ResumeCallback
from dialogs.cancellation.flow import advance
from dialogs.keyboards import resume_keyboard
from dialogs.link import announce_link
from dialogs.screens import Target, greet
from dialogs.states import CancelFlow

Prompt = Callable[[Target, FSMContext, Services, Identity, Texts], Awaitable[None]]


async def _resume_link(
    target: Target, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    await link.PROMPTS[await state.get_state() or ""](target, t)


async def _resume_cancellation(
    target: Target, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    """Back to the step the case is at; a case that ended meanwhile starts afresh."""
    case_id = await state.get_value("case_id")
    try:
        if not isinstance(case_id, int):
            raise CaseUnavailable
        await advance(target, state, services, identity, t, case_id)
    except CaseUnavailable:
        await state.clear()
        await greet(target, identity, t)


# What to show to come back to each step a person can leave and resume, by FSM state.
PROMPTS: dict[str, Prompt] = {
    **dict.fromkeys(link.PROMPTS, _resume_link),
    **dict.fromkeys((str(state.state) for state in CancelFlow.__states__), _resume_cancellation),
}


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


async def resume(
    callback: CallbackQuery, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    if callback.message is None:
        return
    prompt = PROMPTS.get(await state.get_state() or "")
    if prompt is None:
        await greet(callback.message, identity, t)
    else:
        await prompt(callback.message, state, services, identity, t)


async def restart(
    callback: CallbackQuery, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    case_id = await state.get_value("case_id")
    if isinstance(case_id, int):
        await services.cases.abandon(identity, case_id)
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
