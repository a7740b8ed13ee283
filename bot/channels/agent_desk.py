"""The agents' group at run time: checked at start, then swept every AGENT_SWEEP_SECONDS.

At start `check()` asks Telegram whether AGENT_CHAT_ID is usable (bot.channels.
agent_group.check_group), logs one line saying what is missing, and records the verdict
for the services: only a ready group makes the bot promise a person. A group that was
not ready is checked again at every sweep, so fixing its settings needs no restart.
Each sweep re-announces the cases nobody took (bot.services.handoff.sweep).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiogram import Bot

from bot.channels.agent_group import GroupCheck, check_group
from bot.channels.pauses import pause
from bot.services.container import ServiceConfig, Services
from bot.services.domain.clock import Clock
from bot.services.handoff.sweep import Reannouncer
from bot.services.outbox import OutboxSignal
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class AgentDeskLoop:
    def __init__(
        self,
        bot: Bot,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        config: ServiceConfig,
        *,
        group_id: int | None,
        locale: str,
        interval: float,
        signal: OutboxSignal,
    ) -> None:
        self._bot = bot
        self._uow = uow
        self._clock = clock
        self._config = config
        self._group_id = group_id
        self._locale = locale
        self._interval = interval
        self._signal = signal
        self._stopping = asyncio.Event()
        self.ready = False
        self.reannouncer = Reannouncer(uow, config.policy)

    async def check(self) -> GroupCheck | None:
        """Check the group (if any), say what is missing, record the verdict."""
        check = None
        problem = None
        if self._group_id is not None:
            check = await check_group(self._bot, self._group_id)
            problem = check.problem
            if problem:
                log.error(
                    "agents' group AGENT_CHAT_ID=%d is not usable: %s. Until it is, requests "
                    "for a person are stored as tickets (cancelbot tickets) and nobody is "
                    "promised a reply",
                    self._group_id,
                    problem,
                )
            else:
                log.info("agents' group %d (%s) is ready", self._group_id, check.title)
        else:
            log.info(
                "no AGENT_CHAT_ID: requests for a person are stored as tickets "
                "(cancelbot tickets) and nobody is promised a reply"
            )
        async with self._uow() as uow:
            await Services(uow, self._clock, self._config).desk.record(
                self._group_id,
                title=check.title if check else None,
                locale=self._locale,
                problem=problem,
            )
        self.ready = self._group_id is not None and problem is None
        return check

    async def sweep_once(self) -> int:
        """Check a group that was not ready; re-announce cases nobody took."""
        if not self.ready and self._group_id is not None:
            await self.check()
        announced = await self.reannouncer.sweep(self._clock.now())
        if announced:
            self._signal.kick()
        return announced

    async def run(self) -> None:
        while not await pause(self._stopping, self._interval):
            try:
                await self.sweep_once()
            except Exception:
                log.exception("agents' sweep failed; trying again in %g s", self._interval)

    async def stop(self) -> None:
        self._stopping.set()
