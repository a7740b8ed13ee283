"""An agent answers the question a button (or a bare command) asked: the reason for a
denial, the amount of a partial refund or voucher. Their next message in that topic is
the answer; /cancel drops the question. Anything they write elsewhere is relayed as
usual."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.services.container import Services
from bot.services.handoff.agents import Result
from bot.services.handoff.card import CardButton
from bot.services.handoff.people import AgentRef
from dialogs.agents.actions import perform
from dialogs.agents.filters import PromptHere
from dialogs.agents.states import AgentPrompt


async def answered(
    message: Message, state: FSMContext, services: Services, agent: AgentRef
) -> None:
    data = await state.get_data()
    await state.clear()
    handoff_id = int(data["handoff_id"])
    result = await perform(
        services,
        agent,
        handoff_id,
        CardButton(data["action"]),
        refund_id=int(data.get("refund_id") or 0) or None,
        argument=message.text or "",
        key=f"{message.chat.id}:{message.message_id}",
    )
    if result.result is not Result.DONE:
        await services.agent_cases.explain(handoff_id, result)


async def dropped(message: Message, state: FSMContext) -> None:
    """/cancel: the question is dropped; nothing was done."""
    await state.clear()


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(dropped, StateFilter(AgentPrompt.answer), Command("cancel"))
    router.message.register(
        answered, StateFilter(AgentPrompt.answer), PromptHere(), F.text, ~F.text.startswith("/")
    )
    return router
