"""A person instead of the bot: asked for in words, offered when stuck, or after a refusal.

Confirmed, the request becomes a ticket (`HandoffService.escalate`). With the agents'
group ready the customer is told a person is coming, their place in the queue and,
outside working hours, when someone will answer; from then on their messages go to the
agents (dialogs.agents.customer_relay). Without it the ticket waits for the shop, and
the customer is told honestly that nobody will answer in this chat.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.container import Services
from bot.services.handoff.customers import Escalation
from bot.services.linking.identity import Identity
from bot.services.outbox import OutboxSignal
from bot.texts import Texts
from dialogs.callbacks import AnswerPerson, MenuAction, MenuCallback
from dialogs.cancellation import screens
from dialogs.filters import HAS_TEXT, WantsPerson
from dialogs.screens import Target, show_menu
from storage.enums import TicketReason


async def person_asked(message: Message, state: FSMContext, t: Texts) -> None:
    """ "agent", "human", "人工" at any step: confirm before queuing a ticket."""
    await screens.offer_person(message, t, await _case_id(state), misunderstood=False)


async def person_button(callback: CallbackQuery, state: FSMContext, t: Texts) -> None:
    if callback.message is not None:
        await screens.offer_person(callback.message, t, await _case_id(state), misunderstood=False)


async def person_answered(
    callback: CallbackQuery,
    callback_data: AnswerPerson,
    state: FSMContext,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
) -> None:
    message = callback.message
    if message is None:
        return
    if not callback_data.yes:
        await message.answer(t("person/declined"))
        return
    case_id = await _case_id(state)
    reason = TicketReason.NOT_UNDERSTOOD if callback_data.stuck else TicketReason.CUSTOMER_ASKED
    here = bool(case_id) and case_id == callback_data.case_id
    if here and await services.steps.refused(identity, case_id):  # not while a question is open
        reason = TicketReason.NOT_ELIGIBLE
    escalation = await services.handoff.escalate(identity, reason, case_id=case_id or None)
    if escalation.with_agents:
        # The agents take it from here: the bot's own steps wait until they hand back.
        await state.clear()
        outbox_signal.kick()
    await tell(message, t, identity, escalation)


async def tell(target: Target, t: Texts, identity: Identity, escalation: Escalation) -> None:
    """What happens next, truthfully: a person is coming, or the request waits for the shop."""
    template = "person/ticket_opened" if escalation.is_new else "person/ticket_waiting"
    await target.answer(
        t(
            template,
            with_agents=escalation.with_agents,
            position=escalation.position,
            opens_at=escalation.opens_at,
            linked=identity.linked,
        )
    )
    if not escalation.with_agents:
        await show_menu(target, t)


async def _case_id(state: FSMContext) -> int:
    case_id = await state.get_value("case_id")
    return case_id if isinstance(case_id, int) else 0


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(person_asked, HAS_TEXT, WantsPerson())
    router.callback_query.register(
        person_button, MenuCallback.filter(F.action == MenuAction.PERSON)
    )
    router.callback_query.register(person_answered, AnswerPerson.filter())
    return router
