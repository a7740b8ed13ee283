"""Plain records tests read: API calls, bot messages, callback answers, webhook deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request as the fake saw and answered it."""

    method: str
    """Canonical method name, e.g. "sendMessage", whatever case the client used."""
    params: dict[str, Any]
    """Decoded parameters: numbers and booleans converted, JSON fields parsed."""
    status: int
    response: dict[str, Any]
    at: float
    """Fake-clock time of the request."""
    via_webhook_reply: bool = False
    """True when the bot made this call in the body of its webhook response."""

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in {"reply_markup", "entities"}}
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({shown}) -> {outcome}"


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent, kept up to date in place when the bot edits or deletes it."""

    chat_id: int
    message_id: int
    text: str
    """Plain text as Telegram stores it (tags stripped); the caption for media messages."""
    html: str
    """The HTML the bot sent with parse_mode=HTML, else text+entities rendered as HTML."""
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    """The markup as sent: inline keyboard, reply keyboard, remove_keyboard or force_reply."""
    payload: dict[str, Any]
    """The Message object exactly as Telegram returned it to the bot (last version)."""
    message_thread_id: int | None = None
    kind: str = "text"
    """"text", or the media kind ("photo", ...), or "forward"."""
    file_id: str | None = None
    version: int = 0
    """0 when sent, +1 for every edit."""
    edited: bool = False
    deleted: bool = False

    def inline_buttons(self) -> list[dict[str, Any]]:
        """Every inline button object, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def reply_buttons(self) -> list[dict[str, Any]]:
        """Every reply-keyboard button as an object (string buttons become {"text": ...})."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]

    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, or of the reply keyboard sent with this message."""
        return [button["text"] for button in self.inline_buttons() or self.reply_buttons()]

    def button(self, label: str) -> dict[str, Any]:
        """The inline button with exactly this label; AssertionError listing labels if absent."""
        for button in self.inline_buttons():
            if button["text"] == label:
                return button
        raise AssertionError(f"no inline button {label!r} in message {self.message_id}: {self}")

    def __str__(self) -> str:
        state = " (deleted)" if self.deleted else " (edited)" if self.edited else ""
        buttons = f" {self.buttons()}" if self.buttons() else ""
        return f"#{self.message_id}{state}: {self.text!r}{buttons}"


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button press (answerCallbackQuery)."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class Press:
    """The result of a simulated button press."""

    label: str
    kind: str
    """"callback" (inline button), "text", "contact" or "location" (reply keyboard)."""
    query_id: str | None = None
    data: str | None = None
    message_id: int | None = None
    """The bot message whose inline button was pressed."""


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt of the fake to POST an update to the bot's webhook."""

    update_id: int | None
    url: str
    status: int | None
    """HTTP status, or None when the connection failed."""
    secret_sent: str | None
    at: float
    manual: bool = False
    """True for `FakeTelegram.post_update_to_webhook`, False for the delivery loop."""
    error: str | None = None


@dataclass
class Topic:
    """A forum topic in a supergroup."""

    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_json(self) -> dict[str, Any]:
        topic: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class UserState:
    """A simulated person as Telegram knows them."""

    user: dict[str, Any]
    phone: str | None = None
    seen: bool = False
    """The bot has received at least one update from this person."""
    started: bool = False
    """The person has written to the bot in private, so the bot may message them."""
    blocked: bool = False
    callback_answers: list[CallbackAnswer] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.user["id"])
