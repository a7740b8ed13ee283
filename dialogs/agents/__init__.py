"""The agents' side, in their forum supergroup (AGENT_CHAT_ID): one router per flow.

Everything here is filtered to that one chat. The routers below `members` also require
an agent (a member of the group, and of AGENT_IDS when set), checked for every update;
anyone else only reaches `outsiders`, where nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

from bot.channels.agent_group import AgentDirectory
from bot.texts import Renderer
from dialogs.agents import actions, outsiders, prompts, relay, stats
from dialogs.agents.filters import IsAgent
from dialogs.filters import InChat


class AgentTexts(BaseMiddleware):
    """Agents read the bot in the agents' language (DEFAULT_LOCALE): injects `t`."""

    def __init__(self, renderer: Renderer, locale: str) -> None:
        self._texts = renderer.for_locale(locale)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["t"] = self._texts
        return await handler(event, data)


def build_router(directory: AgentDirectory, renderer: Renderer, locale: str) -> Router:
    """The group's routers: agents' actions and /stats first (a command is not a message
    to relay), then answers to the bot's questions, then the relay; outsiders last."""
    group = Router(name="agents_group")
    in_group = InChat(directory.group_id)  # async: no thread hop per update
    group.message.filter(in_group)
    group.edited_message.filter(in_group)
    group.callback_query.filter(in_group)
    for observer in (group.message, group.edited_message, group.callback_query):
        observer.middleware(AgentTexts(renderer, locale))
    group.callback_query.middleware(CallbackAnswerMiddleware())

    members = Router(name="agents_group.members")
    is_agent = IsAgent(directory)
    for observer in (members.message, members.edited_message, members.callback_query):
        observer.filter(is_agent)
    members.include_routers(
        actions.build_router(), stats.build_router(), prompts.build_router(), relay.build_router()
    )
    group.include_routers(members, outsiders.build_router())
    return group
