"""`cancelbot shell`: chat with the bot in a terminal, playing a customer, without Telegram.

The shell builds the production Dispatcher (routers, middlewares, templates,
database, FSM storage) and a Bot whose session is a `ConsoleSession`, then turns
each line typed into one Telegram update and awaits it before reading the next.
So what the shell shows is what a customer would see in Telegram, and what it
stores (links, transcripts, FSM state) is what the bot would store.

Typing a listed number presses that button: only the numbers shown under the bot's
last reply count, so any other number (the last four digits of a phone, an order
number) is sent as text. Lines starting with `:` are the shell's own commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.channels.console_render import (
    INDENT,
    YOU,
    InlinePress,
    ReplyPress,
    Screen,
    Terminal,
)
from bot.channels.console_session import ConsoleSession, Json, SourceLookup
from bot.channels.notifier import Lane
from bot.channels.pauses import pause
from bot.demo_data import DEMO_HIGHLIGHTS, seed_demo
from bot.wiring import AppDeps, build_bot, build_dispatcher, build_notifier
from storage.models import Customer

# Never reaches Telegram; fixed, so the bot id in FSM keys is the same on every run.
CONSOLE_TOKEN = "1000000001:console-shell-offline-not-a-real-token"
# Real Telegram user ids are far below this; shell users are this plus the customer's key.
SHELL_USER_BASE = 10**15
NEWCOMER_ID = SHELL_USER_BASE
NEWCOMER_NAME = "Alex"
NEWCOMER_PHONE = "+999 0000 0000"  # an unassigned country code: matches no customer
STRANGER_ID = SHELL_USER_BASE - 1  # the owner of a card shared with `:contact NUMBER`
MAX_LISTED = 9
POLL_SECONDS = 1.0
MAX_BUTTON_DIGITS = 2
EXIT_OK, EXIT_USAGE = 0, 2

log = logging.getLogger(__name__)

HELP = """\
How the shell works
  Type a message and press Enter: it reaches the bot as if typed in Telegram.
  Bot commands (/start, /status, /language, /cancel, /help) go to the bot too.
  Buttons are shown as [1], [2], …; type a listed number to press that button.
  The numbers restart with every reply of the bot, and only the numbers listed
  under its last reply are presses: any other number, such as 1234 (the last
  four digits of a phone), is sent as text.
Shell commands (never sent to the bot)
  :buttons            list the buttons the numbers press right now
  :say TEXT           send TEXT exactly, even a listed number or a leading ":"
  :contact            share your own phone number (what the Share button does)
  :contact NUMBER     share someone else's contact card, e.g. :contact +8613800001002
  :phone NUMBER       change the phone number of your simulated Telegram account
  :photo [CAPTION]    send a photo
  :sticker            send a sticker
  :wait               show what arrived since (an agent's answer from `shell --agent`)
  :who                who you are playing
  :help               this help
  :quit               leave (Ctrl+D does too)"""

_COMMAND = re.compile(r"^:([a-z]+)(?:\s+(.*))?$", re.IGNORECASE)


class NotPlayable(Exception):
    """A customer id the shell cannot play, with the sentence saying why."""


class ShellExit(Exception):
    """Leave the shell with this exit code (after saying why)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Player:
    """The simulated Telegram account; its private chat with the bot has the same id."""

    user_id: int
    first_name: str
    last_name: str | None
    language_code: str | None
    phone: str | None
    customer_id: str | None = None

    @classmethod
    def newcomer(cls, language: str | None) -> Player:
        return cls(NEWCOMER_ID, NEWCOMER_NAME, None, language, NEWCOMER_PHONE)

    @classmethod
    def of(cls, customer: Customer, language: str | None) -> Player:
        first, _, last = customer.name.strip().partition(" ")
        return cls(
            user_id=SHELL_USER_BASE + customer.id,
            first_name=first or customer.external_id,
            last_name=last or None,
            language_code=language or customer.locale,
            phone=customer.phone,
            customer_id=customer.external_id,
        )

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {
            "id": self.user_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.last_name:
            chat["last_name"] = self.last_name
        return chat

    def describe(self) -> str:
        who = (
            f"{self.full_name} (customer {self.customer_id})"
            if self.customer_id
            else f"a newcomer, {self.full_name}, whose account is not linked to a customer"
        )
        language = self.language_code or "not set"
        return f"{who}; Telegram user {self.user_id}, language {language}, phone {self.phone}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


async def run_shell(
    deps: AppDeps,
    *,
    customer_id: str | None = None,
    language: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Play a customer (`customer_id`) or pick one from a list; returns the exit code."""
    out = stdout or sys.stdout
    terminal = Terminal(out, color=_isatty(out) and "NO_COLOR" not in os.environ)
    lines = LineReader(stdin or sys.stdin, terminal)
    try:
        await _ensure_customers(deps, terminal)
        if customer_id is not None:
            player = await _player_for(deps, customer_id, language, terminal)
        else:
            player = await _choose_player(deps, language, lines, terminal)
    except ShellExit as leave:
        return leave.code
    return await ConsoleShell(deps, player, lines, terminal).run()


class LineReader:
    """Reads one line at a time without blocking the event loop.

    Each read runs in a daemon thread, so Ctrl+C at the prompt ends the process at
    once instead of waiting for a thread stuck in `readline`. Input from a pipe is
    echoed after `you › `, so a scripted session reads like the chat it was.
    """

    def __init__(self, stream: TextIO, terminal: Terminal) -> None:
        self._stream = stream
        self._terminal = terminal
        self.interactive = _isatty(stream)

    async def read(self) -> str | None:
        """The next line without its line break; None at the end of the input."""
        if self.interactive:
            self._terminal.prompt()
        line = await _read_line(self._stream)
        if not line:
            if self.interactive:
                self._terminal.write()
            return None
        line = line.rstrip("\r\n")
        if not self.interactive:
            self._terminal.echo(line)
        return line


class ConsoleShell:
    """One session of a person playing `player` against the production dispatcher."""

    def __init__(
        self, deps: AppDeps, player: Player, lines: LineReader, terminal: Terminal
    ) -> None:
        self.deps = deps
        self.player = player
        self.lines = lines
        self.terminal = terminal
        self.screen = Screen(terminal, chat_id=player.user_id)
        self.session = ConsoleSession(
            self.screen,
            deps.clock,
            bot_username=deps.settings.bot_username or "cancelbot_console_bot",
            lookup=relay_lookup(deps),  # an agent's message, copied from `shell --agent`
        )
        self.session.add_chat(player.chat())
        self.dispatcher: Dispatcher = build_dispatcher(deps)
        self.bot: Bot = build_bot(deps.settings, session=self.session, token=CONSOLE_TOKEN)
        # Messages owed through the outbox (receipts, refund news) print after each reply.
        self.notifier = build_notifier(deps, self.bot)
        self._update_ids = count(1)
        self._query_ids = count(1)
        self._file_ids = count(1)

    async def _deliver(self) -> None:
        """Messages the bot owes people (receipts, refund news, an agent's answers); the
        agents' group is `cancelbot shell --agent`'s to deliver."""
        await self.notifier.drain(lanes=(Lane.PEOPLE,))

    async def run(self) -> int:
        workflow = {"bots": [self.bot], "dispatcher": self.dispatcher, "bot": self.bot}
        await self.dispatcher.emit_startup(**self.dispatcher.workflow_data, **workflow)
        # At a terminal, an agent's answer shows up without waiting for your next line.
        poller = DeliveryLoop(self._deliver, POLL_SECONDS) if self.lines.interactive else None
        if poller is not None:
            poller.start()
        try:
            self._banner()
            if self.player.customer_id is not None:
                await self._open_as_customer()
            while (line := await self.lines.read()) is not None:
                if not await self.handle(line):
                    break
        finally:
            if poller is not None:
                await poller.stop()
            await self.dispatcher.emit_shutdown(**self.dispatcher.workflow_data, **workflow)
            await self.bot.session.close()
        return EXIT_OK

    async def handle(self, line: str) -> bool:
        """Act on one line of input; False when the person leaves."""
        text = line.strip()
        if not text:
            return True
        command = _COMMAND.match(text)
        if command is not None:
            return await self._command(command.group(1).lower(), command.group(2) or "")
        if text.isdigit() and len(text) <= MAX_BUTTON_DIGITS:
            number = int(text)
            if 1 <= number <= self.screen.choice_count:
                await self._press(number)
                return True
        await self._send({"text": line})
        return True

    # -- shell commands ---------------------------------------------------------------------

    async def _command(self, name: str, argument: str) -> bool:
        if name in ("quit", "q", "exit"):
            return False
        if name == "help":
            self.terminal.write(HELP)
        elif name == "buttons":
            self.screen.show_choices()
        elif name == "who":
            self.terminal.note(f"you are {self.player.describe()}")
        elif name == "say" and argument:
            await self._send({"text": argument})
        elif name == "contact" and argument:
            await self._share_contact(argument, own=False)
        elif name == "contact":
            await self._share_own_contact()
        elif name == "phone" and argument:
            self.player.phone = argument.strip()
            self.terminal.note(f"your Telegram account's phone number is now {self.player.phone}")
        elif name == "photo":
            await self._send_photo(argument)
        elif name == "sticker":
            await self._send_sticker()
        elif name == "wait":
            self.screen.begin_round()
            await self._deliver()
            self.screen.end_round()
        elif name in ("say", "phone"):
            self.terminal.warn(f":{name} needs something after it; :help shows how")
        else:
            self.terminal.warn(
                f"unknown shell command :{name}. :help lists them; "
                f"to send it to the bot as text, type :say :{name}"
            )
        return True

    # -- what the person can send -----------------------------------------------------------

    async def _press(self, number: int) -> None:
        choice = self.screen.choice(number)
        if choice is None:
            self.terminal.note(f"button [{number}] is gone: its message was changed or deleted")
            return
        own_number = _shares(choice) and self.player.phone is not None
        shares = f", sharing your number {self.player.phone}" if own_number else ""
        self._said(f"pressed “{choice.label}”{shares}")
        if isinstance(choice, ReplyPress):
            self.screen.pressed_reply_button()
            if choice.request_contact:
                await self._share_own_contact(announce=False)
            else:
                await self._send({"text": choice.label})
            return
        await self._press_inline(choice)

    async def _press_inline(self, choice: InlinePress) -> None:
        message = self.session.message(choice.chat_id, choice.message_id)
        if message is None:
            self.terminal.note("that button's message was deleted")
            return
        query_id = f"{self.player.user_id}-{next(self._query_ids)}"
        self.session.open_query(query_id)
        await self._feed(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.player.user(),
                    "chat_instance": f"console-{self.player.user_id}",
                    "message": message,
                    "data": choice.callback_data,
                }
            }
        )

    async def _share_own_contact(self, *, announce: bool = True) -> None:
        if self.player.phone is None:
            self.terminal.note("your Telegram account has no phone number; set one with :phone")
            return
        await self._share_contact(self.player.phone, own=True, announce=announce)

    async def _share_contact(self, phone: str, *, own: bool, announce: bool = True) -> None:
        """Telegram sends an own number as bare digits; a forwarded card keeps what it holds."""
        if own:
            card = {
                "phone_number": "".join(ch for ch in phone if ch.isdigit()),
                "first_name": self.player.first_name,
                "user_id": self.player.user_id,
            }
            if self.player.last_name:
                card["last_name"] = self.player.last_name
        else:
            card = {"phone_number": phone.strip(), "first_name": "Someone", "user_id": STRANGER_ID}
        if announce:
            whose = "your own number" if own else "someone else's contact card"
            self._said(f"shared a contact: {phone.strip()} ({whose})")
        await self._send({"contact": card})

    async def _send_photo(self, caption: str) -> None:
        file_id = f"console-user-photo-{self.player.user_id}-{next(self._file_ids)}"
        sizes = [
            {"file_id": file_id, "file_unique_id": file_id[-20:], "width": w, "height": h}
            for w, h in ((90, 68), (1280, 960))
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        self._said("sent a photo" + (f" with the caption “{caption}”" if caption else ""))
        await self._send(content)

    async def _send_sticker(self) -> None:
        file_id = f"console-user-sticker-{next(self._file_ids)}"
        sticker = {
            "file_id": file_id,
            "file_unique_id": file_id[-20:],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        self._said("sent a sticker 👍")
        await self._send({"sticker": sticker})

    async def _send(self, content: dict[str, Any]) -> None:
        """A message from the person in their private chat with the bot."""
        chat_id = self.player.user_id
        message = {
            "message_id": self.session.next_message_id(chat_id),
            "date": int(self.deps.clock.now().timestamp()),
            "chat": self.player.chat(),
            "from": self.player.user(),
            **content,
        }
        text = content.get("text")
        if isinstance(text, str) and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.session.remember(message)
        await self._feed({"message": message})

    async def _feed(self, event: dict[str, Any]) -> None:
        """One update through the whole dispatcher, awaited; a failure is shown, not fatal."""
        update = Update.model_validate(
            {"update_id": next(self._update_ids), **event}, context={"bot": self.bot}
        )
        self.screen.begin_round()
        try:
            await self.dispatcher.feed_update(self.bot, update)
            await self._deliver()
        except Exception as error:
            self.terminal.warn(f"the bot failed on this update: {error!r} (details in the log)")
        self.screen.end_round()

    # -- start ------------------------------------------------------------------------------

    def _banner(self) -> None:
        self.terminal.note(f"You are {self.player.describe()}.")
        self.terminal.note(
            "Type a message, a bot command or a button's number; :help explains, :quit leaves."
        )
        if self.player.customer_id is None:
            self.terminal.note("Type /start to begin, as Telegram does when someone opens a bot.")

    async def _open_as_customer(self) -> None:
        """Link the account the way a customer does (their own contact), then /start."""
        if self.player.phone is None:
            self.terminal.note(
                f"customer {self.player.customer_id} has no phone number on record, so the "
                "account cannot be linked by contact; try “Use an order number instead”"
            )
        else:
            self.terminal.write(
                self.terminal.style(YOU, "you")
                + f"📱 shares their own phone number, {self.player.phone}"
            )
            await self._share_own_contact(announce=False)
        self.terminal.write(self.terminal.style(YOU, "you") + "/start")
        await self._send({"text": "/start"})

    def _said(self, what: str) -> None:
        self.terminal.write(self.terminal.style(f"{INDENT}↳ {what}", "dim"))


def relay_lookup(deps: AppDeps) -> SourceLookup:
    """The content of a relayed message, as the other shell's copy row recorded it."""

    async def lookup(chat_id: int, message_id: int) -> Json | None:
        async with deps.uow() as uow:
            relay = await uow.handoffs.relay_by_source(chat_id, message_id)
            row = (
                await uow.handoffs.outbox_row(relay.outbox_id)
                if relay and relay.outbox_id
                else None
            )
        if relay is None:
            return None
        text = str((row.context.get("text") if row else None) or "")
        if relay.kind == "text":
            return {"text": text or "…"}
        return {"text": f"[{relay.kind}] {text}".rstrip()}

    return lookup


class DeliveryLoop:
    """A shell's background delivery, at a terminal: what the bot owes shows up between
    your lines. Stopping waits for a delivery under way to end, so a message being
    sent is never cut off inside its transaction (it was cancelled there before)."""

    def __init__(self, deliver: Callable[[], Awaitable[None]], interval: float) -> None:
        self._deliver = deliver
        self._interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="shell-delivery")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not await pause(self._stopping, self._interval):
            try:
                await self._deliver()
            except Exception:  # the shell goes on; the next line delivers again
                log.debug("shell delivery failed", exc_info=True)


# -- choosing whom to play ------------------------------------------------------------------


async def _ensure_customers(deps: AppDeps, terminal: Terminal) -> None:
    """A fresh database gets the demo shop, so the shell has someone to play at once."""
    async with deps.uow() as uow:
        customers = await uow.customers.count()
    if customers:
        return
    report = await seed_demo(deps.session_factory, deps.clock)
    terminal.note(
        f"The database had no customers, so the demo data was loaded: "
        f"{report.customers_created} customers, {report.orders_created} orders."
    )


async def _player_for(
    deps: AppDeps, customer_id: str, language: str | None, terminal: Terminal
) -> Player:
    """`--as CUSTOMER_ID`: an id that cannot be played ends the shell with a usage error."""
    try:
        return await _find_player(deps, customer_id, language)
    except NotPlayable as problem:
        terminal.warn(str(problem))
        raise ShellExit(EXIT_USAGE) from None


async def _find_player(deps: AppDeps, customer_id: str, language: str | None) -> Player:
    wanted = customer_id.strip()
    async with deps.uow() as uow:
        customer = await uow.customers.by_external_id(wanted)
        if customer is None and wanted.upper() != wanted:
            customer = await uow.customers.by_external_id(wanted.upper())
        some = [c.external_id for c in await uow.customers.sample(5)] if customer is None else []
    if customer is None:
        raise NotPlayable(
            f"There is no customer with the id {customer_id!r}. Run `cancelbot shell` without "
            f"--as to pick one from a list (some ids: {', '.join(some)})."
        )
    if customer.telegram_user_id is not None and customer.telegram_user_id < SHELL_USER_BASE:
        raise NotPlayable(
            f"Customer {customer.external_id} is linked to a real Telegram account; the shell "
            "will not move that link to a simulated one. Pick another customer."
        )
    return Player.of(customer, language)


async def _choose_player(
    deps: AppDeps, language: str | None, lines: LineReader, terminal: Terminal
) -> Player:
    """The menu shown without --as; answered on the first line of a scripted session."""
    listed = await _listed_customers(deps)
    terminal.write("Who would you like to play?")
    for number, (customer_id, name, note) in enumerate(listed, start=1):
        terminal.write(f"  [{number}] {customer_id}  {name}" + (f" — {note}" if note else ""))
    terminal.write("  [0] a newcomer: a Telegram account not linked to any customer")
    terminal.write(
        "Type a number or a customer id (`cancelbot shell --as C1001` skips this question)."
    )
    while (answer := await lines.read()) is not None:
        answer = answer.strip()
        if answer in (":quit", ":q", ":exit"):
            break
        if answer == "0":
            # No Telegram language unless --lang: the bot answers in the language they
            # write in, as it does for such accounts on Telegram.
            return Player.newcomer(language)
        if answer.isdigit() and 1 <= int(answer) <= len(listed):
            answer = listed[int(answer) - 1][0]
        elif not answer or answer.isdigit():
            terminal.note(f"Type 0–{len(listed)} or a customer id.")
            continue
        try:
            return await _find_player(deps, answer, language)
        except NotPlayable as problem:
            terminal.warn(str(problem))
    raise ShellExit(EXIT_OK)


async def _listed_customers(deps: AppDeps) -> list[tuple[str, str, str]]:
    """(id, name, highlight): the demo customers worth playing, else the first few."""
    async with deps.uow() as uow:
        found = await uow.customers.by_external_ids(list(DEMO_HIGHLIGHTS)[:MAX_LISTED])
        if not found:
            sample = await uow.customers.sample(MAX_LISTED)
            return [(c.external_id, c.name, "") for c in sample]
    return [
        (customer_id, found[customer_id].name, note)
        for customer_id, note in DEMO_HIGHLIGHTS.items()
        if customer_id in found
    ][:MAX_LISTED]


def _shares(choice: InlinePress | ReplyPress) -> bool:
    return isinstance(choice, ReplyPress) and choice.request_contact


# -- input ----------------------------------------------------------------------------------


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _read_line(stream: TextIO) -> str:
    """`stream.readline()` in a daemon thread; "" at the end of the input."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def deliver(line: str | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(line or "")

    def read() -> None:
        try:
            line, error = stream.readline(), None
        except Exception as exc:
            line, error = None, exc
        # The loop may have closed while we waited for input: nobody needs the line then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await done
