"""Anyone in the agents' group who is not an agent: a card button tells them so and does
nothing; their messages and commands are ignored (no answer spends the group's budget)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.texts import Texts
from dialogs.agents.callbacks import AgentCallback

log = logging.getLogger(__name__)


async def not_an_agent(callback: CallbackQuery, callback_answer: CallbackAnswer, t: Texts) -> None:
    log.info(
        "agents' group: user %d pressed a case button but is not an agent", callback.from_user.id
    )
    callback_answer.text = t("agent/plain/answer", kind="outsider")
    callback_answer.show_alert = True


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(not_an_agent, AgentCallback.filter())
    return router
