"""The case card's buttons and the same actions typed as commands in the case's topic.

Take, Approve, Deny (asks for the reason the customer will see), Partial refund… and
Voucher… (ask for an amount), Mark transfer paid, Close and hand back. Every one goes
through `AgentCases`, which records the agent and the time, and tells whoever comes
second who was first. A button gets its answer as an alert; a command that did nothing
is explained in the topic.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.handoff.agents import ActionResult, Result
from bot.services.handoff.card import CardButton
from bot.services.handoff.people import AgentRef
from bot.texts import Texts
from dialogs.agents.callbacks import AgentCallback
from dialogs.agents.filters import InTopic
from dialogs.agents.states import AgentPrompt
from storage.enums import AgentActionKind

COMMANDS = {
    "take": CardButton.TAKE,
    "approve": CardButton.APPROVE,
    "deny": CardButton.DENY,
    "partial": CardButton.PARTIAL,
    "voucher": CardButton.VOUCHER,
    "paid": CardButton.TRANSFER_PAID,
    "close": CardButton.CLOSE,
}
KINDS = {
    CardButton.TAKE: AgentActionKind.TAKE,
    CardButton.APPROVE: AgentActionKind.APPROVE,
    CardButton.DENY: AgentActionKind.DENY,
    CardButton.PARTIAL: AgentActionKind.PARTIAL_REFUND,
    CardButton.VOUCHER: AgentActionKind.VOUCHER,
    CardButton.TRANSFER_PAID: AgentActionKind.TRANSFER_PAID,
    CardButton.CLOSE: AgentActionKind.CLOSE,
}
# These need words from the agent: a reason or an amount.
ASKING = frozenset({CardButton.DENY, CardButton.PARTIAL, CardButton.VOUCHER})


async def perform(
    services: Services,
    agent: AgentRef,
    handoff_id: int,
    action: CardButton,
    *,
    refund_id: int | None = None,
    argument: str = "",
    key: str = "",
) -> ActionResult:
    """One card action, through the shared services."""
    cases = services.agent_cases
    if action is CardButton.TAKE:
        return await cases.take(agent, handoff_id)
    if action is CardButton.APPROVE:
        return await cases.approve(agent, handoff_id, refund_id)
    if action is CardButton.DENY:
        return await cases.deny(agent, handoff_id, refund_id, argument)
    if action is CardButton.PARTIAL:
        return await cases.partial_refund(agent, handoff_id, argument, key=key)
    if action is CardButton.VOUCHER:
        return await cases.voucher(agent, handoff_id, argument, key=key)
    if action is CardButton.TRANSFER_PAID:
        return await cases.transfer_paid(agent, handoff_id, refund_id)
    return await cases.close(agent, handoff_id)


async def card_pressed(
    callback: CallbackQuery,
    callback_data: AgentCallback,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    services: Services,
    agent: AgentRef,
    t: Texts,
) -> None:
    message = callback.message
    if callback_data.action in ASKING:
        thread = message.message_thread_id if isinstance(message, Message) else None
        await ask(
            state, callback_data.action, callback_data.handoff_id, callback_data.refund_id, thread
        )
        callback_answer.text = t(
            "agent/plain/answer", kind="ask", action=callback_data.action.value
        )
        callback_answer.show_alert = True
        return
    result = await perform(
        services,
        agent,
        callback_data.handoff_id,
        callback_data.action,
        refund_id=callback_data.refund_id or None,
    )
    callback_answer.text = answer(t, result)
    callback_answer.show_alert = result.result is not Result.DONE


async def command_typed(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    services: Services,
    agent: AgentRef,
    thread_id: int,
) -> None:
    """/take, /approve, /deny REASON, /partial AMOUNT, /voucher AMOUNT, /paid, /close."""
    handoff_id = await services.agent_cases.case_in_topic(message.chat.id, thread_id)
    if handoff_id is None:
        return  # not a case topic: nothing to act on
    action = COMMANDS[command.command.lower()]
    argument = (command.args or "").strip()
    if action in ASKING and not argument:
        await ask(state, action, handoff_id, 0, thread_id)
        await services.agent_cases.explain(
            handoff_id, ActionResult(KINDS[action], Result.REFUSED, problem="ask")
        )
        return
    result = await perform(
        services,
        agent,
        handoff_id,
        action,
        argument=argument,
        key=f"{message.chat.id}:{message.message_id}",
    )
    if result.result is not Result.DONE:
        await services.agent_cases.explain(handoff_id, result)


async def alias_typed(
    message: Message, command: CommandObject, services: Services, agent: AgentRef, thread_id: int
) -> None:
    """/alias NAME: customers see NAME above this agent's messages; /alias alone: unsigned."""
    await services.agent_cases.set_alias(
        agent, command.args, group_chat_id=message.chat.id, thread_id=thread_id
    )


async def ask(
    state: FSMContext, action: CardButton, handoff_id: int, refund_id: int, thread_id: int | None
) -> None:
    """The agent's next message in this topic answers (a reason, an amount)."""
    await state.set_state(AgentPrompt.answer)
    await state.set_data(
        {
            "action": action.value,
            "handoff_id": handoff_id,
            "refund_id": refund_id,
            "thread_id": thread_id,
        }
    )


def answer(t: Texts, result: ActionResult) -> str:
    """A button press's alert (plain text, at most 200 characters)."""
    text = t(
        "agent/plain/answer",
        kind="result",
        action=result.action.value,
        result=result.result.value,
        by=result.by,
        at=result.at,
        problem=result.problem,
        detail=result.details.get("detail"),
    )
    return text[:200]


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(card_pressed, AgentCallback.filter())
    router.message.register(command_typed, Command(*COMMANDS), InTopic())
    router.message.register(alias_typed, Command("alias"), InTopic())
    return router
