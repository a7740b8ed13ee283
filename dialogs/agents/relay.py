"""Agents talking to the customer from the case's topic.

An agent's message in a case topic is copied to the customer (copyMessage through the
outbox: their name stays private; an alias set with /alias signs it). Messages that
start with // or # are notes for the other agents and stay in the group, as do
commands and whatever is said in General. Edits are mirrored onto the copy.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.services.container import Services
from bot.services.handoff.agents import Sent
from bot.services.handoff.people import AgentRef
from bot.services.outbox import OutboxSignal
from dialogs.agents.filters import InternalNote, InTopic, IsCommand
from dialogs.agents.messages import relay_message

# What a person can write or send; service messages (topic created, pinned…) are not.
RELAYED = frozenset(
    {
        "text",
        "photo",
        "document",
        "voice",
        "video",
        "audio",
        "animation",
        "sticker",
        "video_note",
        "location",
        "contact",
    }
)


async def note(message: Message) -> None:
    """A note between agents: it stays in the group."""


async def agent_wrote(
    message: Message,
    services: Services,
    agent: AgentRef,
    outbox_signal: OutboxSignal,
    thread_id: int,
) -> None:
    sent = await services.agent_cases.relay_to_customer(
        agent, message.chat.id, thread_id, relay_message(message)
    )
    if sent is Sent.SENT:
        outbox_signal.kick()


async def agent_edited(message: Message, services: Services, outbox_signal: OutboxSignal) -> None:
    text = message.text or message.caption
    if text and await services.handoff.mirror_edit(
        message.chat.id, message.message_id, message.html_text, caption=message.text is None
    ):
        outbox_signal.kick()


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(note, InTopic(), InternalNote())
    router.message.register(agent_wrote, InTopic(), ~IsCommand(), F.content_type.in_(RELAYED))
    router.edited_message.register(agent_edited, InTopic(), ~InternalNote())
    return router
