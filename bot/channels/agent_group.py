"""The agents' group on Telegram: is it usable, and who in it is an agent.

`check_group` runs at start: AGENT_CHAT_ID must be a supergroup with topics on, where the
bot is an administrator allowed to manage topics. The verdict (and, when something is
missing, one line saying what) is logged and stored (`DeskService.record`), so the
services promise customers a reply only when someone can actually give it.

`AgentDirectory` answers "is this person an agent?" for every message and button press in
the group: a member of the group (getChatMember), and one of AGENT_IDS when that is set.
Telegram's answer is remembered for AGENT_CHECK_SECONDS, so a busy topic does not ask
for every message, and someone removed from the group loses the power soon after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner, ChatMemberRestricted

log = logging.getLogger(__name__)

_MEMBERS = frozenset(
    {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


@dataclass(frozen=True, slots=True)
class GroupCheck:
    title: str | None
    problems: tuple[str, ...]

    @property
    def problem(self) -> str | None:
        return "; ".join(self.problems) or None


async def check_group(bot: Bot, chat_id: int) -> GroupCheck:
    """What is missing for the bot to work in the agents' group (nothing: ready)."""
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramAPIError as error:
        return GroupCheck(None, (f"the bot cannot see the group ({error.message}); add it",))
    problems: list[str] = []
    if chat.type != ChatType.SUPERGROUP:
        problems.append("it is not a supergroup")
    if not chat.is_forum:
        problems.append("topics are off (group settings → Topics)")
    try:
        me = await bot.get_chat_member(chat_id, bot.id)
    except TelegramAPIError as error:
        problems.append(f"the bot's rights cannot be read ({error.message})")
    else:
        if isinstance(me, ChatMemberOwner):
            pass
        elif not isinstance(me, ChatMemberAdministrator):
            problems.append("the bot is not an administrator")
        elif not me.can_manage_topics:
            problems.append('the bot may not manage topics (admin right "Manage topics")')
    return GroupCheck(chat.title, tuple(problems))


class AgentDirectory:
    """Who may act as an agent, asked of Telegram and remembered for a short while."""

    def __init__(
        self,
        group_id: int,
        *,
        allowed: frozenset[int] = frozenset(),
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group_id = group_id
        self._allowed = allowed
        self._ttl = ttl
        self._clock = clock
        self._known: dict[int, tuple[bool, float]] = {}

    async def is_agent(self, bot: Bot, user_id: int) -> bool:
        if self._allowed and user_id not in self._allowed:
            return False
        now = self._clock()
        known = self._known.get(user_id)
        if known is not None and known[1] > now:
            return known[0]
        verdict = await self._ask(bot, user_id)
        self._known[user_id] = (verdict, now + self._ttl)
        if len(self._known) > 10_000:  # never grows without bound
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        return verdict

    async def _ask(self, bot: Bot, user_id: int) -> bool:
        try:
            member = await bot.get_chat_member(self.group_id, user_id)
        except TelegramAPIError as error:
            log.warning("agents' group: cannot check user %d: %s", user_id, error.message)
            return False
        if member.user.is_bot:
            return False
        if isinstance(member, ChatMemberRestricted):
            return member.is_member
        return member.status in _MEMBERS
