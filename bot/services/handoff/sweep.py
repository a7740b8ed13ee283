"""A case nobody took within the policy's `[agents] reannounce_after_minutes` is announced
again, once, in the group's General topic, during working hours."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.services.domain.clock import FixedClock
from bot.services.handoff.board import ready_desk
from bot.services.outbox import Outbox
from bot.services.policy import Policy
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def topic_link(group_chat_id: int, thread_id: int | None) -> str | None:
    """https://t.me/c/… opens the topic for members of a private supergroup."""
    internal = str(group_chat_id).removeprefix("-100")
    if thread_id is None or internal == str(group_chat_id):
        return None
    return f"https://t.me/c/{internal}/{thread_id}"


class Reannouncer:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], policy: Policy) -> None:
        self._uow = uow_factory
        self._policy = policy

    async def sweep(self, now: datetime) -> int:
        """Re-announce the cases waiting too long; returns how many."""
        agents = self._policy.agents
        if not agents.is_open(now, self._policy.agent_zone):
            return 0  # nobody is there to read it; the first sweep after opening will
        async with self._uow() as uow, uow.transaction():
            desk = await ready_desk(uow)
            if desk is None:
                return 0
            waiting = await uow.handoffs.untaken_since(now - agents.reannounce_after)
            outbox = Outbox(uow, FixedClock(now))
            for handoff in waiting:
                handoff.reannounced_at = now
                ticket = await uow.handoffs.ticket(handoff.ticket_id)
                topic = await uow.handoffs.topic(handoff.topic_id)
                assert ticket is not None
                assert topic is not None
                customer = (
                    await uow.customers.get(ticket.customer_id) if ticket.customer_id else None
                )
                outbox.enqueue(
                    chat_id=desk.chat_id,
                    locale=desk.locale,
                    template="agent/reannounce",
                    context={
                        "ticket_id": ticket.id,
                        "topic_name": topic.name,
                        "customer_name": customer.name if customer else None,
                        "since": handoff.created_at,
                        "minutes": agents.reannounce_after_minutes,
                        "link": topic_link(topic.group_chat_id, topic.thread_id),
                    },
                    dedupe_key=f"handoff:{handoff.id}:reannounce",
                )
        if waiting:
            log.info("re-announced %d cases nobody took", len(waiting))
        return len(waiting)
