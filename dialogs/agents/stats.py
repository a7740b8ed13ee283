"""/stats [7d|30d] in the agents' group: the merchant's figures, agents' part included.

Only agents reach it (the members router checks every update); anyone else's command is
ignored, like their other commands. The answer is queued for the group (see
`bot.services.handoff.stats`); an argument it does not take gets how to type it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.services.container import Services
from bot.services.handoff.stats import AgentStats, stats_days
from bot.services.outbox import OutboxSignal
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.insights.service import InsightsService

InsightsFactory = Callable[[UnitOfWork], "InsightsService"]


async def stats_typed(
    message: Message,
    command: CommandObject,
    services: Services,
    insights: InsightsFactory,
    outbox_signal: OutboxSignal,
) -> None:
    stats = AgentStats(services.uow, services.clock, insights(services.uow))
    thread_id = message.message_thread_id if message.is_topic_message else None
    key = f"{message.chat.id}:{message.message_id}"
    days = stats_days(command.args)
    if days is None:
        queued = await stats.usage(message.chat.id, thread_id, key=key)
    else:
        queued = await stats.post(message.chat.id, thread_id, days, key=key)
    if queued:
        outbox_signal.kick()


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stats_typed, Command("stats"))
    return router
