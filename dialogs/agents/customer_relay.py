"""The customer's side while their case is with the agents: the bot's own flows wait.

Included before every customer flow. While the chat's ticket is live, what the customer
sends (text, photos, documents, voice, albums…) is copied into their topic; edits are
mirrored. Two things still reach the bot: /status, and /cancel, which leaves the case.
Other commands and old buttons get a short reminder instead of starting a flow.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.handoff.customers import Relayed
from bot.services.linking.identity import Identity
from bot.services.outbox import OutboxSignal
from bot.texts import Texts
from dialogs.agents.filters import IsCommand
from dialogs.agents.messages import relay_message
from dialogs.callbacks import (
    LanguageCallback,
    MenuAction,
    MenuCallback,
    RateSurvey,
    RefundTimeline,
)
from dialogs.screens import show_menu

# Commands that still work while talking to a person.
PASS_THROUGH = ("status",)


class WithAgents(Filter):
    """This chat's case is with the agents: passes `live_ticket_id`.

    Reads the flag loaded with the identity when it is there; otherwise one indexed read
    (bot.services.handoff.customers.HandoffService.live_ticket).
    """

    async def __call__(
        self,
        event: TelegramObject,
        services: Services,
        event_from_user: User | None = None,
        identity: Identity | None = None,
    ) -> bool | dict[str, Any]:
        if identity is not None:
            ticket_id = identity.handoff_ticket_id
        elif event_from_user is not None:
            ticket_id = await services.handoff.live_ticket(event_from_user.id)
        else:
            return False
        return {"live_ticket_id": ticket_id} if ticket_id else False


async def leave(
    message: Message,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
) -> None:
    """/cancel: back to the bot; the agents are told."""
    left = await services.handoff.leave(identity)
    if left:
        outbox_signal.kick()
    await message.answer(t("person/left"))
    await show_menu(message, t)


async def reminder(message: Message, t: Texts) -> None:
    """A command other than /status or /cancel while with a person."""
    await message.answer(t("person/with_agents"))


async def customer_wrote(
    message: Message,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
) -> None:
    relayed = await services.handoff.relay_to_agents(identity, relay_message(message))
    if relayed is Relayed.RELAYED:
        outbox_signal.kick()
    elif relayed is Relayed.NO_CASE:
        # Closed a moment ago: the customer is back with the bot.
        await message.answer(t("person/handed_back"))
        await show_menu(message, t)


async def customer_edited(
    message: Message, services: Services, outbox_signal: OutboxSignal
) -> None:
    text = message.text or message.caption
    if text and await services.handoff.mirror_edit(
        message.chat.id, message.message_id, message.html_text, caption=message.text is None
    ):
        outbox_signal.kick()


async def paused_button(callback: CallbackQuery, callback_answer: CallbackAnswer, t: Texts) -> None:
    """An old button of the bot's own flows: they wait while a person helps."""
    callback_answer.text = t("person/plain/paused")
    callback_answer.show_alert = True


def build_router() -> Router:
    """Checked first for every customer update, so the live check is the router's one
    (async) filter and the rest only run for a chat that is with the agents."""
    router = Router(name=__name__)
    with_agents = WithAgents()
    router.message.filter(with_agents)
    router.callback_query.filter(with_agents)
    router.message.register(leave, Command("cancel"))
    router.message.register(reminder, IsCommand(), ~Command(*PASS_THROUGH))
    router.message.register(customer_wrote, ~IsCommand())
    # Buttons that only show things (the status, a refund's history, the survey) still work.
    router.callback_query.register(
        paused_button,
        ~MenuCallback.filter(F.action.in_({MenuAction.STATUS, MenuAction.LANGUAGE})),
        ~RefundTimeline.filter(),
        ~RateSurvey.filter(),
        ~LanguageCallback.filter(),
    )
    router.edited_message.register(customer_edited, PrivateChat())
    return router


class PrivateChat(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.chat.type == ChatType.PRIVATE
