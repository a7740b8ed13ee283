"""`cancelbot shell --agent`: play the agents' side offline, in a terminal.

The same dispatcher, services, templates and database as `cancelbot run`; Telegram's
forum supergroup is replaced by a console group the shell records as the agents' desk.
Run a customer shell (`cancelbot shell`) in another terminal on the same database: the
customer's request for a person becomes a case here, what the agent writes reaches the
customer there, and the card's buttons approve, deny, refund and close through the
same services the merchant API uses.

Each shell runs its own outbox notifier on its own half of the outbox: the customer
shell delivers to people, this one to the group. A message copied from the other
shell is found through the relay records (the shells are two processes, so neither
holds the other's messages).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace
from itertools import count
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bot.channels.console import (
    CONSOLE_TOKEN,
    SHELL_USER_BASE,
    DeliveryLoop,
    LineReader,
    _isatty,
    relay_lookup,
)
from bot.channels.console_render import INDENT, InlinePress, Screen, Terminal
from bot.channels.console_session import ConsoleSession, Json
from bot.channels.notifier import Lane
from bot.wiring import AppDeps, build_bot, build_dispatcher, build_notifier

# The console's agents' group: a supergroup id no real chat has.
CONSOLE_GROUP = -1009999999999
AGENT_ID = SHELL_USER_BASE - 100
POLL_SECONDS = 1.0
EXIT_OK = 0

HELP = """\
How the agent shell works
  New cases appear as topics, each with its case card; buttons are [1], [2], …
  Type a listed number to press a button.
  :cases              the open cases and their topics
  :open TOPIC         write in that topic (its number, as :cases shows it)
  TEXT                sent to the open topic: the customer gets it (// or # first: a note)
  /approve, /deny REASON, /partial AMOUNT, /voucher AMOUNT, /paid, /close, /take,
  /alias NAME         the card's actions as commands, in the open topic
  :wait               show what arrived since (also checked after every input)
  :help, :quit        this help; leave (Ctrl+D too)"""

_COMMAND = re.compile(r"^:([a-z]+)(?:\s+(.*))?$", re.IGNORECASE)


class AgentScreen(Screen):
    """The group as an agent sees it: every message labelled with its topic."""

    def __init__(self, terminal: Terminal, chat_id: int) -> None:
        super().__init__(terminal, chat_id)
        self.topics: dict[int, str] = {}

    def show_topic(self, chat_id: int, thread_id: int, name: str, event: str) -> None:
        self.topics[thread_id] = name
        super().show_topic(chat_id, thread_id, name, event)

    def show_message(self, message: Message, **options: Any) -> None:
        thread = message.message_thread_id
        if thread is not None:
            label = self.topics.get(thread, f"topic {thread}")
            self.terminal.write(self.terminal.style(f"── [{thread}] {label}", "dim"))
        super().show_message(message, **options)


class AgentShell:
    """One agent in the console group, against the production dispatcher."""

    def __init__(
        self, deps: AppDeps, lines: LineReader, terminal: Terminal, *, name: str = "Agent"
    ) -> None:
        self.deps = replace(
            deps,
            settings=deps.settings.model_copy(
                update={"agent_chat_id": CONSOLE_GROUP, "agent_ids": frozenset({AGENT_ID})}
            ),
        )
        self.lines = lines
        self.terminal = terminal
        self.name = name
        self.screen = AgentScreen(terminal, chat_id=CONSOLE_GROUP)
        self.session = ConsoleSession(
            self.screen,
            deps.clock,
            bot_username=deps.settings.bot_username or "cancelbot_console_bot",
            lookup=relay_lookup(deps),
        )
        self.session.add_chat(
            {"id": CONSOLE_GROUP, "type": "supergroup", "title": "Agents", "is_forum": True}
        )
        self.dispatcher: Dispatcher = build_dispatcher(self.deps)
        self.bot: Bot = build_bot(self.deps.settings, session=self.session, token=CONSOLE_TOKEN)
        self.notifier = build_notifier(self.deps, self.bot)
        self.topic: int | None = None
        self._ids = count(1)

    async def run(self) -> int:
        workflow = {"bots": [self.bot], "dispatcher": self.dispatcher, "bot": self.bot}
        await self.dispatcher.emit_startup(**self.dispatcher.workflow_data, **workflow)
        poller = DeliveryLoop(self._deliver, POLL_SECONDS) if self.lines.interactive else None
        if poller is not None:
            poller.start()
        try:
            await self._open_desk()
            while (line := await self.lines.read()) is not None:
                if not await self.handle(line):
                    break
        finally:
            if poller is not None:
                await poller.stop()
            await self._close_desk()
            await self.dispatcher.emit_shutdown(**self.dispatcher.workflow_data, **workflow)
            await self.bot.session.close()
        return EXIT_OK

    async def handle(self, line: str) -> bool:
        text = line.strip()
        if not text:
            return True
        command = _COMMAND.match(text)
        if command is not None:
            return await self._command(command.group(1).lower(), (command.group(2) or "").strip())
        if text.isdigit() and 1 <= int(text) <= self.screen.choice_count:
            await self._press(int(text))
        elif self.topic is None:
            self.terminal.note("open a case first: :cases lists them, :open TOPIC picks one")
        else:
            await self._write(line)
        return True

    # -- shell commands ---------------------------------------------------------------------

    async def _command(self, name: str, argument: str) -> bool:
        if name in ("quit", "q", "exit"):
            return False
        if name == "help":
            self.terminal.write(HELP)
        elif name == "cases":
            await self._list_cases()
        elif name == "open" and argument.isdigit():
            self.topic = int(argument)
            label = self.screen.topics.get(self.topic, "")
            self.terminal.note(f"writing in topic {self.topic} {label}".rstrip())
        elif name == "wait":
            await self._deliver()
        else:
            self.terminal.warn(f"unknown shell command :{name}; :help lists them")
        return True

    async def _list_cases(self) -> None:
        async with self.deps.uow() as uow:
            listed = await self.deps.services(uow).tickets.open_tickets()
            rows = []
            for ticket in listed:
                handoff = await uow.handoffs.handoff_for_ticket(ticket.id)
                topic = await uow.handoffs.topic(handoff.topic_id) if handoff else None
                rows.append((ticket, topic))
        shown = [(ticket, topic) for ticket, topic in rows if topic and topic.thread_id]
        if not shown:
            self.terminal.note("no open cases in the agents' group")
        for ticket, topic in shown:
            assert topic is not None
            state = ticket.with_agents.value if ticket.with_agents else ""
            taken = f", {ticket.taken_by}" if ticket.taken_by else ""
            self.terminal.write(
                f"{INDENT}[{topic.thread_id}] {topic.name} — case #{ticket.id}, "
                f"{ticket.reason.value}, {state}{taken}"
            )

    # -- what the agent does ----------------------------------------------------------------

    async def _write(self, text: str) -> None:
        assert self.topic is not None
        message: Json = {
            "message_id": self.session.next_message_id(CONSOLE_GROUP),
            "date": int(self.deps.clock.now().timestamp()),
            "chat": {
                "id": CONSOLE_GROUP,
                "type": "supergroup",
                "title": "Agents",
                "is_forum": True,
            },
            "from": self._user(),
            "message_thread_id": self.topic,
            "is_topic_message": True,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.session.remember(message)
        await self._feed({"message": message})

    async def _press(self, number: int) -> None:
        choice = self.screen.choice(number)
        if not isinstance(choice, InlinePress):
            self.terminal.note(f"button [{number}] is gone: its message was changed")
            return
        message = self.session.message(choice.chat_id, choice.message_id)
        if message is None:
            return
        self.terminal.write(self.terminal.style(f"{INDENT}↳ pressed “{choice.label}”", "dim"))
        query_id = f"agent-{next(self._ids)}"
        self.session.open_query(query_id)
        await self._feed(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(),
                    "chat_instance": "console-agents",
                    "message": message,
                    "data": choice.callback_data,
                }
            }
        )

    async def _feed(self, event: dict[str, Any]) -> None:
        update = Update.model_validate(
            {"update_id": next(self._ids), **event}, context={"bot": self.bot}
        )
        self.screen.begin_round()
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception as error:
            self.terminal.warn(f"the bot failed on this update: {error!r} (details in the log)")
        await self._deliver()
        self.screen.end_round()

    async def _deliver(self) -> None:
        """What the bot owes the group (new cases, cards, the customer's messages)."""
        await self.notifier.drain(lanes=(Lane.GROUPS,))

    async def _open_desk(self) -> None:
        async with self.deps.uow() as uow:
            await self.deps.services(uow).desk.record(
                CONSOLE_GROUP,
                title="Agents",
                locale=self.deps.settings.default_locale,
                problem=None,
            )
        self.terminal.note(
            f"You are {self.name}, an agent in the console's agents' group. Customers who ask "
            "for a person in `cancelbot shell` (same database) appear here. :help explains."
        )
        await self._deliver()

    async def _close_desk(self) -> None:
        """Nobody answers once the agent shell is gone: customers are no longer promised it."""
        async with self.deps.uow() as uow:
            await self.deps.services(uow).desk.record(
                CONSOLE_GROUP,
                title="Agents",
                locale=self.deps.settings.default_locale,
                problem="the console agent shell is closed",
            )

    def _user(self) -> Json:
        return {"id": AGENT_ID, "is_bot": False, "first_name": self.name}


async def run_agent_shell(
    deps: AppDeps,
    *,
    name: str = "Agent",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    terminal = Terminal(out, color=_isatty(out) and "NO_COLOR" not in os.environ)
    lines = LineReader(stdin or sys.stdin, terminal)
    return await AgentShell(deps, lines, terminal, name=name).run()
