"""What the console shell prints: Telegram HTML as terminal text, and numbered buttons.

`parse_html` reads the HTML parse mode the way Telegram does (tags become entities,
unknown tags are an error), so the console session can answer with the same text
and entities Telegram would. `Screen` prints the bot's side of the chat and keeps
the numbered buttons a person can press by typing their number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, TextIO

from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

BOT = "bot › "
YOU = "you › "
INDENT = " " * len(BOT)

# Terminal styles for Telegram entity types: (start, end) ANSI sequences.
_ENTITY_STYLES = {
    "bold": ("\x1b[1m", "\x1b[22m"),
    "italic": ("\x1b[3m", "\x1b[23m"),
    "underline": ("\x1b[4m", "\x1b[24m"),
    "strikethrough": ("\x1b[9m", "\x1b[29m"),
}
_STYLES = {
    "bot": ("\x1b[36m", "\x1b[39m"),
    "you": ("\x1b[32m", "\x1b[39m"),
    "dim": ("\x1b[2m", "\x1b[22m"),
    "warn": ("\x1b[33m", "\x1b[39m"),
}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


class HtmlError(ValueError):
    """Markup Telegram would refuse ("can't parse entities")."""


@dataclass(frozen=True, slots=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]]


def utf16_length(text: str) -> int:
    """Telegram counts lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Plain text plus entities (UTF-16 offsets), or HtmlError where Telegram fails too."""
    parser = _TelegramHtml()
    parser.feed(source)
    parser.close()
    return parser.result()


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any] | None


class _TelegramHtml(HTMLParser):
    """The tags of Telegram's HTML parse mode; entities are decoded by HTMLParser itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._offset = 0
        self._stack: list[_Open] = []
        self._entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        kind = _SIMPLE_TAGS.get(tag)
        entity: dict[str, Any] | None = None
        if kind is not None:
            entity = {"type": kind}
        elif tag == "a":
            entity = {"type": "text_link", "url": values.get("href", "")}
        elif tag == "span" and values.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "blockquote":
            entity = {"type": "expandable_blockquote" if "expandable" in values else "blockquote"}
        elif tag != "tg-emoji":
            raise HtmlError(f'Unsupported start tag "{tag}"')
        if entity is not None:
            entity["offset"] = self._offset
        self._stack.append(_Open(tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HtmlError(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise HtmlError(f'Unexpected end tag "{tag}"')
        opened = self._stack.pop()
        if opened.tag != tag:
            raise HtmlError(f'Unmatched end tag, expected "</{opened.tag}>", found "</{tag}>"')
        entity = opened.entity
        if entity is not None and self._offset > entity["offset"]:
            entity["length"] = self._offset - entity["offset"]
            self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._offset += utf16_length(data)

    def result(self) -> ParsedText:
        if self._stack:
            raise HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1].tag}"'
            )
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self._parts), entities)


def render_entities(text: str, entities: Sequence[MessageEntity], *, color: bool) -> str:
    """Terminal text: styled entities as ANSI when `color`, links always followed by their URL."""
    opens: dict[int, list[str]] = defaultdict(list)
    closes: dict[int, list[str]] = defaultdict(list)
    for entity in entities:
        end = entity.offset + entity.length
        style = _ENTITY_STYLES.get(entity.type)
        if color and style is not None:
            opens[entity.offset].append(style[0])
            closes[end].insert(0, style[1])
        if entity.type == "text_link" and entity.url:
            closes[end].append(f" ({entity.url})")
    if not opens and not closes:
        return text
    out: list[str] = []
    position = 0
    for char in text:
        out.extend(closes.pop(position, ()))
        out.extend(opens.pop(position, ()))
        out.append(char)
        position += 2 if ord(char) > 0xFFFF else 1
    out.extend(closes.pop(position, ()))
    return "".join(out)


# -- the terminal ---------------------------------------------------------------------------


class Terminal:
    """Writes whole lines and flushes each, so a pipe shows them in order; styles on a TTY only."""

    def __init__(self, out: TextIO, *, color: bool) -> None:
        self.out = out
        self.color = color

    def style(self, text: str, name: str) -> str:
        if not self.color or not text:
            return text
        start, end = _STYLES[name]
        return f"{start}{text}{end}"

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def block(self, first_prefix: str, body: str) -> None:
        """A message: the prefix on its first line, the following lines indented under it."""
        lines = body.split("\n") or [""]
        rendered = [first_prefix + lines[0]]
        rendered += [INDENT + line if line else "" for line in lines[1:]]
        self.write("\n".join(rendered))

    def note(self, text: str) -> None:
        """A line from the shell itself, not from the bot."""
        self.write(self.style(f"· {text}", "dim"))

    def warn(self, text: str) -> None:
        self.write(self.style(f"! {text}", "warn"))

    def prompt(self) -> None:
        self.out.write(self.style(YOU, "you"))
        self.out.flush()

    def echo(self, line: str) -> None:
        """The person's input, when it came from a pipe and the terminal did not show it."""
        self.write(self.style(YOU, "you") + line)


# -- the bot's side of the chat -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InlinePress:
    """An inline button: pressing it sends a callback query about the message carrying it."""

    label: str
    chat_id: int
    message_id: int
    callback_data: str


@dataclass(frozen=True, slots=True)
class ReplyPress:
    """A reply-keyboard button: pressing it sends its label, or the person's own contact."""

    label: str
    request_contact: bool


Choice = InlinePress | ReplyPress


class Screen:
    """Prints what the bot sends and numbers the buttons a person can press.

    Numbers restart with every reply of the bot: the inline buttons of the messages
    in that reply first, then the reply keyboard below the text box (which stays
    until the bot removes it, as in Telegram). When the bot does not answer, the
    numbers shown last stay valid.
    """

    def __init__(self, terminal: Terminal, chat_id: int) -> None:
        self.terminal = terminal
        self.chat_id = chat_id
        self._choices: list[Choice | None] = []
        self._keyboard: ReplyKeyboardMarkup | None = None
        self._replied = False
        self._said_anything = False

    # -- rounds: one input of the person and everything the bot did about it

    def begin_round(self) -> None:
        self._replied = False
        self._said_anything = False

    def end_round(self) -> None:
        if self._replied:
            self._show_keyboard()
            self.show_hint()
        elif not self._said_anything:
            self.terminal.write(self.terminal.style(INDENT + "(no reply)", "dim"))

    @property
    def choice_count(self) -> int:
        return len(self._choices)

    def choice(self, number: int) -> Choice | None:
        """The button shown as [number]; None when it is gone (its message changed)."""
        return self._choices[number - 1]

    def show_hint(self) -> None:
        count = len(self._choices)
        if count == 0:
            return
        keys = "1" if count == 1 else f"1–{count}"
        self.terminal.write(
            self.terminal.style(f"{INDENT}↳ type {keys} to press a button, :help for more", "dim")
        )

    def show_choices(self) -> None:
        """`:buttons`: list what the numbers press right now."""
        if not any(self._choices):
            self.terminal.note("no buttons to press right now")
            return
        for number, choice in enumerate(self._choices, start=1):
            if choice is not None:
                kind = "keyboard" if isinstance(choice, ReplyPress) else f"on #{choice.message_id}"
                self.terminal.write(f"{INDENT}[{number}] {choice.label}  ({kind})")
        self.show_hint()

    def pressed_reply_button(self) -> None:
        """Telegram hides a one-time keyboard once one of its buttons is pressed."""
        if self._keyboard is not None and self._keyboard.one_time_keyboard:
            self._keyboard = None

    # -- what the console session reports

    def show_message(
        self,
        message: Message,
        *,
        edited: bool = False,
        keyboard: ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
    ) -> None:
        self._said_anything = True
        own_chat = message.chat.id == self.chat_id
        if own_chat and not self._replied:
            self._replied = True
            self._choices = []
        if own_chat and edited:
            self._forget_buttons_of(message.message_id)
        if own_chat and isinstance(keyboard, ReplyKeyboardMarkup):
            self._keyboard = keyboard
        elif own_chat and isinstance(keyboard, ReplyKeyboardRemove):
            self._keyboard = None

        marker = "✎ " if edited else ""
        body = marker + self._body(message)
        if own_chat:
            self.terminal.block(self.terminal.style(BOT, "bot"), body)
        else:
            self.terminal.write(self.terminal.style(f"bot → chat {message.chat.id}:", "bot"))
            self.terminal.block(INDENT, body)
        if isinstance(message.reply_markup, InlineKeyboardMarkup):
            self._show_inline(message, pressable=own_chat)

    def show_notice(self, text: str, *, alert: bool) -> None:
        """answerCallbackQuery with a text: an alert box or a short toast."""
        self._said_anything = True
        kind = "alert" if alert else "toast"
        self.terminal.block(self.terminal.style(BOT, "bot"), f"[{kind}] {text}")

    def show_deleted(self, chat_id: int, message_id: int) -> None:
        self._said_anything = True
        if chat_id == self.chat_id:
            self._forget_buttons_of(message_id)
        where = "" if chat_id == self.chat_id else f" in chat {chat_id}"
        self.terminal.write(
            self.terminal.style(f"{BOT}(deleted message #{message_id}{where})", "dim")
        )

    def show_unsupported(self, api_method: str) -> None:
        self.terminal.warn(f"the bot called {api_method}, which the console shell does not offer")

    def show_topic(self, chat_id: int, thread_id: int, name: str, event: str) -> None:
        """A forum topic was created, renamed, closed or reopened (the agents' group)."""
        self._said_anything = True
        self.terminal.write(self.terminal.style(f"{BOT}(topic {thread_id} {event}: {name})", "dim"))

    # -- helpers

    def _body(self, message: Message) -> str:
        color = self.terminal.color
        if message.text is not None:
            return render_entities(message.text, message.entities or (), color=color)
        caption = render_entities(
            message.caption or "", message.caption_entities or (), color=color
        )
        if message.photo:
            return f"[photo] {caption}".rstrip()
        return f"[{message.content_type}] {caption}".rstrip()

    def _show_inline(self, message: Message, *, pressable: bool) -> None:
        markup = message.reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        for row in markup.inline_keyboard:
            cells = []
            for button in row:
                if pressable and button.callback_data is not None:
                    self._choices.append(
                        InlinePress(
                            button.text, message.chat.id, message.message_id, button.callback_data
                        )
                    )
                    cells.append(f"[{len(self._choices)}] {button.text}")
                elif button.url:
                    cells.append(f"[↗ {button.text}: {button.url}]")
                else:
                    cells.append(f"[{button.text}]")
            self.terminal.write(INDENT + "   ".join(cells))

    def _show_keyboard(self) -> None:
        if self._keyboard is None:
            return
        self.terminal.write(self.terminal.style(f"{INDENT}keyboard:", "dim"))
        for row in self._keyboard.keyboard:
            cells = []
            for button in row:
                label = button if isinstance(button, str) else button.text
                contact = not isinstance(button, str) and bool(button.request_contact)
                simple = isinstance(button, str) or not _special_request(button)
                if contact or simple:
                    self._choices.append(ReplyPress(label, request_contact=contact))
                    suffix = " (shares your contact)" if contact else ""
                    cells.append(f"[{len(self._choices)}] {label}{suffix}")
                else:
                    cells.append(f"[{label}] (not available in the shell)")
            self.terminal.write(INDENT + "   ".join(cells))

    def _forget_buttons_of(self, message_id: int) -> None:
        """A changed or deleted message no longer carries the buttons numbered before."""
        self._choices = [
            None if isinstance(c, InlinePress) and c.message_id == message_id else c
            for c in self._choices
        ]


def _special_request(button: Any) -> bool:
    """Reply buttons that ask Telegram for something the shell cannot provide."""
    return any(
        getattr(button, name, None)
        for name in (
            "request_location",
            "request_poll",
            "request_users",
            "request_chat",
            "request_user",
            "web_app",
        )
    )
