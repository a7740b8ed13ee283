"""Who may act in the agents' group, and where: filters for the group's routers."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject, User

from bot.channels.agent_group import AgentDirectory
from bot.services.handoff.people import AgentRef

NOTE_PREFIXES = ("//", "#")


class IsAgent(Filter):
    """An agent: passes `agent` (their id and name). Everyone else fails, whatever they send."""

    def __init__(self, directory: AgentDirectory) -> None:
        self._directory = directory

    async def __call__(
        self, event: TelegramObject, bot: Bot, event_from_user: User | None = None
    ) -> bool | dict[str, Any]:
        if event_from_user is None or event_from_user.is_bot:
            return False
        if not await self._directory.is_agent(bot, event_from_user.id):
            return False
        return {"agent": AgentRef(event_from_user.id, event_from_user.full_name)}


class InTopic(Filter):
    """A message inside a forum topic (not General): passes its `thread_id`."""

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if not message.is_topic_message or message.message_thread_id is None:
            return False
        return {"thread_id": message.message_thread_id}


class InternalNote(Filter):
    """Starts with // or #: a note for the other agents, never sent to the customer."""

    async def __call__(self, message: Message) -> bool:
        text = message.text or message.caption or ""
        return text.lstrip().startswith(NOTE_PREFIXES)


class PromptHere(Filter):
    """The agent was asked for a reason or an amount in this very topic."""

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        return bool(
            message.message_thread_id is not None
            and await state.get_value("thread_id") == message.message_thread_id
        )


class IsCommand(Filter):
    """A text starting with "/" (async, so it costs no thread hop on the hot path)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text and message.text.startswith("/"))
