"""A Bot API session that answers from memory and shows the bot's messages in a terminal.

The console shell runs the production Dispatcher and Bot; only this session stands
in for Telegram. It answers each method the bot uses with the result Telegram would
give (a Message with the next message id, the text stripped of its HTML with the
formatting as entities), and fails the way Telegram fails (bad HTML, editing a
message that is gone or unchanged, a callback answered twice), so the shell shows
the bot's real behaviour rather than a friendlier one. Results pass through
`BaseSession.check_response`, like an HTTP answer, so the request middlewares
(the transcript) see exactly what they would see in production.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    Close,
    CloseForumTopic,
    CopyMessage,
    CopyMessages,
    CreateForumTopic,
    DeleteMessage,
    DeleteMyCommands,
    DeleteWebhook,
    EditForumTopic,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetChat,
    GetChatMember,
    GetMe,
    GetWebhookInfo,
    LogOut,
    ReopenForumTopic,
    SendChatAction,
    SendMessage,
    SendPhoto,
    SetChatMenuButton,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.console_render import HtmlError, ParsedText, parse_html, utf16_length
from bot.services.domain.clock import Clock

if TYPE_CHECKING:
    from aiogram import Bot

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
# Methods with nothing to show: the console accepts them as Telegram would.
_ACCEPTED = (
    SendChatAction,
    SetMyCommands,
    DeleteMyCommands,
    SetWebhook,
    DeleteWebhook,
    SetChatMenuButton,
    Close,
    LogOut,
)
_NOT_COPIED = frozenset(
    {
        "message_id",
        "date",
        "chat",
        "from",
        "reply_markup",
        "edit_date",
        "message_thread_id",
        "is_topic_message",
        "media_group_id",
    }
)
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)

Json = dict[str, Any]
Keyboard = ReplyKeyboardMarkup | ReplyKeyboardRemove
SourceLookup = Callable[[int, int], Awaitable[Json | None]]
"""A message another process keeps (chat id, message id) → its content, or None."""


class ConsoleView(Protocol):
    """Where the session shows what the bot did (`console_render.Screen`)."""

    def show_message(
        self, message: Message, *, edited: bool = False, keyboard: Keyboard | None = None
    ) -> None: ...

    def show_notice(self, text: str, *, alert: bool) -> None: ...

    def show_deleted(self, chat_id: int, message_id: int) -> None: ...

    def show_unsupported(self, api_method: str) -> None: ...

    def show_topic(self, chat_id: int, thread_id: int, name: str, event: str) -> None: ...


class ApiError(Exception):
    """A Bot API failure, answered as Telegram's JSON error so aiogram raises its own exception."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


class ConsoleSession(BaseSession):
    """Bot API in memory: keeps every message of every chat, so buttons and edits work."""

    def __init__(
        self,
        view: ConsoleView,
        clock: Clock,
        *,
        bot_name: str = "Cancelbot",
        bot_username: str = "cancelbot_console_bot",
        lookup: SourceLookup | None = None,
    ) -> None:
        """`lookup` finds messages this session never saw: a customer shell and an agent
        shell are two processes, and each copies the other's messages (issue 9)."""
        super().__init__()
        self._lookup = lookup
        self._topics: dict[tuple[int, int], Json] = {}
        self._next_topic = itertools.count(1001)
        self._view = view
        self._clock = clock
        self._bot_name = bot_name
        self._bot_username = bot_username
        self._chats: dict[int, Json] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._last_message_id: dict[int, int] = {}
        self._open_queries: set[str] = set()
        self._file_ids = itertools.count(1)
        self._handlers: dict[type[TelegramMethod[Any]], Callable[[Bot, Any], Any]] = {
            SendMessage: self._send_message,
            SendPhoto: self._send_photo,
            EditMessageText: self._edit_text,
            EditMessageReplyMarkup: self._edit_markup,
            AnswerCallbackQuery: self._answer_callback,
            DeleteMessage: self._delete_message,
            CopyMessage: self._copy_message,
            CopyMessages: self._copy_messages,
            EditMessageCaption: self._edit_caption,
            CreateForumTopic: self._create_topic,
            EditForumTopic: self._edit_topic,
            CloseForumTopic: self._close_topic,
            ReopenForumTopic: self._reopen_topic,
            GetChat: self._get_chat,
            GetChatMember: self._get_chat_member,
            GetMe: self._get_me,
            GetWebhookInfo: lambda bot, method: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            },
        }
        for accepted in _ACCEPTED:
            self._handlers[accepted] = lambda bot, method: True
        self.closed = False

    # -- the chat, as the shell's simulated person sees it ----------------------------------

    def add_chat(self, chat: Json) -> None:
        self._chats[int(chat["id"])] = chat

    def next_message_id(self, chat_id: int) -> int:
        """Telegram numbers the messages of a private chat in one sequence for both sides."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def remember(self, message: Json) -> None:
        """Keep a message (the person's, too) for callbacks, edits and copies."""
        self._messages[(int(message["chat"]["id"]), int(message["message_id"]))] = message

    def message(self, chat_id: int, message_id: int) -> Json | None:
        return self._messages.get((chat_id, message_id))

    def open_query(self, query_id: str) -> None:
        """A callback query the person just sent; Telegram accepts one answer to it."""
        self._open_queries.add(query_id)

    # -- BaseSession ------------------------------------------------------------------------

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        handler = self._handlers.get(type(method))
        try:
            if handler is None:
                self._view.show_unsupported(method.__api_method__)
                raise ApiError(
                    f"Bad Request: method {method.__api_method__} is not available "
                    "in the console shell"
                )
            result = handler(bot, method)
            if inspect.isawaitable(result):
                result = await result
            payload: Json = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            payload = {"ok": False, "error_code": error.status, "description": error.description}
            status = error.status
        response = self.check_response(bot, method, status, self.json_dumps(payload))
        return cast(TelegramType, response.result)

    async def close(self) -> None:
        self.closed = True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise ApiError("Bad Request: the console shell has no files to download")
        yield b""  # makes this an async generator, as the base class declares

    # -- methods ----------------------------------------------------------------------------

    def _send_message(self, bot: Bot, method: SendMessage) -> Json:
        parsed = self._formatted(bot, method.text, method.parse_mode, method.entities)
        if not parsed.text.strip():
            raise ApiError("Bad Request: message text is empty")
        if utf16_length(parsed.text) > MAX_TEXT:
            raise ApiError("Bad Request: message is too long")
        content: Json = {"text": parsed.text}
        if parsed.entities:
            content["entities"] = parsed.entities
        return self._post(
            bot, method.chat_id, content, method.reply_markup, thread=method.message_thread_id
        )

    def _send_photo(self, bot: Bot, method: SendPhoto) -> Json:
        file_id = method.photo if isinstance(method.photo, str) else self._new_file_id("photo")
        content: Json = {
            "photo": [
                {"file_id": file_id, "file_unique_id": file_id[-16:], "width": 90, "height": 90},
                {"file_id": file_id, "file_unique_id": file_id[-16:], "width": 800, "height": 800},
            ]
        }
        content.update(
            self._caption(bot, method.caption, method.parse_mode, method.caption_entities)
        )
        return self._post(
            bot, method.chat_id, content, method.reply_markup, thread=method.message_thread_id
        )

    async def _copy_message(self, bot: Bot, method: CopyMessage) -> Json:
        source = await self._source(method.from_chat_id, method.message_id)
        if source is None:
            raise ApiError("Bad Request: message to copy not found")
        content = {key: value for key, value in source.items() if key not in _NOT_COPIED}
        if method.caption is not None:
            content.pop("caption_entities", None)
            content.update(
                self._caption(bot, method.caption, method.parse_mode, method.caption_entities)
            )
        copy = self._post(
            bot, method.chat_id, content, method.reply_markup, thread=method.message_thread_id
        )
        return {"message_id": copy["message_id"]}

    async def _copy_messages(self, bot: Bot, method: CopyMessages) -> list[Json]:
        copies = []
        for message_id in method.message_ids:
            source = await self._source(method.from_chat_id, message_id)
            if source is None:
                continue
            content = {key: value for key, value in source.items() if key not in _NOT_COPIED}
            copy = self._post(bot, method.chat_id, content, None, thread=method.message_thread_id)
            copies.append({"message_id": copy["message_id"]})
        if not copies:
            raise ApiError("Bad Request: message to copy not found")
        return copies

    async def _source(self, chat_id: int | str, message_id: int) -> Json | None:
        known = self._messages.get((self._chat_id(chat_id), message_id))
        if known is None and self._lookup is not None:
            known = await self._lookup(self._chat_id(chat_id), message_id)
        return known

    def _edit_caption(self, bot: Bot, method: EditMessageCaption) -> Json | bool:
        if method.inline_message_id is not None:
            return True
        stored = self._own_message(bot, method.chat_id, method.message_id, "edit")
        if "caption" not in stored and "text" in stored:
            raise ApiError("Bad Request: there is no caption in the message to edit")
        changed = self._caption(bot, method.caption, method.parse_mode, method.caption_entities)
        return self._edit(bot, stored, changed, method.reply_markup)

    # -- forum topics (the agents' group in `cancelbot shell --agent`) ----------------------

    def _create_topic(self, bot: Bot, method: CreateForumTopic) -> Json:
        chat = self._chat(method.chat_id)
        if not chat.get("is_forum"):
            raise ApiError("Bad Request: the chat is not a forum")
        thread = next(self._next_topic)
        topic = {"message_thread_id": thread, "name": method.name, "icon_color": 0x6FB9F0}
        self._topics[(int(chat["id"]), thread)] = {**topic, "closed": False}
        self._view.show_topic(int(chat["id"]), thread, method.name, "created")
        return topic

    def _topic(self, chat_id: int | str, thread: int | None) -> Json:
        topic = self._topics.get((self._chat_id(chat_id), thread or 0))
        if topic is None:
            raise ApiError("Bad Request: message thread not found")
        return topic

    def _edit_topic(self, bot: Bot, method: EditForumTopic) -> bool:
        topic = self._topic(method.chat_id, method.message_thread_id)
        if method.name is not None:
            if method.name == topic["name"]:
                raise ApiError("Bad Request: TOPIC_NOT_MODIFIED")
            topic["name"] = method.name
            self._view.show_topic(
                self._chat_id(method.chat_id), method.message_thread_id, method.name, "renamed"
            )
        return True

    def _close_topic(self, bot: Bot, method: CloseForumTopic) -> bool:
        return self._toggle_topic(method.chat_id, method.message_thread_id, closed=True)

    def _reopen_topic(self, bot: Bot, method: ReopenForumTopic) -> bool:
        return self._toggle_topic(method.chat_id, method.message_thread_id, closed=False)

    def _toggle_topic(self, chat_id: int | str, thread: int, *, closed: bool) -> bool:
        topic = self._topic(chat_id, thread)
        if topic["closed"] == closed:
            raise ApiError("Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        event = "closed" if closed else "reopened"
        self._view.show_topic(self._chat_id(chat_id), thread, str(topic["name"]), event)
        return True

    def _get_chat(self, bot: Bot, method: GetChat) -> Json:
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **self._chat(method.chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    def _get_chat_member(self, bot: Bot, method: GetChatMember) -> Json:
        """In the shell the bot manages the agents' group and everyone in it is a member."""
        if method.user_id == bot.id:
            rights = dict.fromkeys(_ADMIN_RIGHTS, True)
            return {
                "status": "administrator",
                "user": self._bot_user(bot),
                "can_be_edited": False,
                "is_anonymous": False,
                **rights,
            }
        user = {"id": method.user_id, "is_bot": False, "first_name": f"user {method.user_id}"}
        return {"status": "member", "user": user}

    def _edit_text(self, bot: Bot, method: EditMessageText) -> Json | bool:
        if method.inline_message_id is not None:
            return True  # inline messages live in other chats; nothing to show here
        stored = self._own_message(bot, method.chat_id, method.message_id, "edit")
        if "text" not in stored:
            raise ApiError("Bad Request: there is no text in the message to edit")
        parsed = self._formatted(bot, method.text or "", method.parse_mode, method.entities)
        if not parsed.text.strip():
            raise ApiError("Bad Request: message text is empty")
        if utf16_length(parsed.text) > MAX_TEXT:
            raise ApiError("Bad Request: MESSAGE_TOO_LONG")
        changed = {"text": parsed.text, "entities": parsed.entities or None}
        return self._edit(bot, stored, changed, method.reply_markup)

    def _edit_markup(self, bot: Bot, method: EditMessageReplyMarkup) -> Json | bool:
        if method.inline_message_id is not None:
            return True
        stored = self._own_message(bot, method.chat_id, method.message_id, "edit")
        return self._edit(bot, stored, {}, method.reply_markup)

    def _answer_callback(self, bot: Bot, method: AnswerCallbackQuery) -> bool:
        if method.callback_query_id not in self._open_queries:
            raise ApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self._open_queries.discard(method.callback_query_id)
        if method.text:
            self._view.show_notice(method.text, alert=bool(method.show_alert))
        return True

    def _delete_message(self, bot: Bot, method: DeleteMessage) -> bool:
        chat_id = self._chat_id(method.chat_id)
        if self._messages.pop((chat_id, method.message_id), None) is None:
            raise ApiError("Bad Request: message to delete not found")
        self._view.show_deleted(chat_id, method.message_id)
        return True

    def _get_me(self, bot: Bot, method: GetMe) -> Json:
        return {
            **self._bot_user(bot),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # -- helpers ----------------------------------------------------------------------------

    def _post(
        self, bot: Bot, chat_id: int | str, content: Json, markup: Any, *, thread: int | None = None
    ) -> Json:
        """A new message from the bot: stored, shown, and returned as Telegram's JSON."""
        chat = self._chat(chat_id)
        message: Json = {
            "message_id": self.next_message_id(int(chat["id"])),
            "date": self._now(),
            "chat": chat,
            "from": self._bot_user(bot),
            **content,
        }
        if thread:
            self._topic(chat["id"], thread)  # "message thread not found" when there is none
            message["message_thread_id"], message["is_topic_message"] = thread, True
        if isinstance(markup, InlineKeyboardMarkup):
            message["reply_markup"] = _dump(markup)
        self.remember(message)
        keyboard = markup if isinstance(markup, ReplyKeyboardMarkup | ReplyKeyboardRemove) else None
        self._view.show_message(_as_message(bot, message), keyboard=keyboard)
        return message

    def _edit(
        self, bot: Bot, stored: Json, changed: Json, markup: InlineKeyboardMarkup | None
    ) -> Json:
        """Telegram drops the inline keyboard of an edit that does not repeat it."""
        updated = {**stored, **changed, "reply_markup": _dump(markup) if markup else None}
        updated = {key: value for key, value in updated.items() if value is not None}
        unchanged = {k: v for k, v in stored.items() if k != "edit_date"}
        if {k: v for k, v in updated.items() if k != "edit_date"} == unchanged:
            raise ApiError(NOT_MODIFIED)
        updated["edit_date"] = self._now()
        self.remember(updated)
        self._view.show_message(_as_message(bot, updated), edited=True)
        return updated

    def _own_message(
        self, bot: Bot, chat_id: int | str | None, message_id: int | None, action: str
    ) -> Json:
        if chat_id is None or message_id is None:
            raise ApiError("Bad Request: chat_id and message_id are required")
        stored = self._messages.get((self._chat_id(chat_id), message_id))
        if stored is None:
            raise ApiError(f"Bad Request: message to {action} not found")
        if stored.get("from", {}).get("id") != bot.id:
            raise ApiError(f"Bad Request: message can't be {action}ed")
        return stored

    def _formatted(
        self,
        bot: Bot,
        text: str,
        parse_mode: str | Default | None,
        entities: list[MessageEntity] | None,
    ) -> ParsedText:
        """The text Telegram stores: HTML parsed into entities; other modes shown as sent."""
        mode = bot.default[parse_mode.name] if isinstance(parse_mode, Default) else parse_mode
        if entities:
            return ParsedText(text, [_dump(entity) for entity in entities])
        if mode is not None and mode.lower() == "html":
            try:
                return parse_html(text)
            except HtmlError as error:
                raise ApiError(f"Bad Request: can't parse entities: {error}") from None
        return ParsedText(text, [])

    def _caption(
        self,
        bot: Bot,
        caption: str | None,
        parse_mode: str | Default | None,
        entities: list[MessageEntity] | None,
    ) -> Json:
        if not caption:
            return {}
        parsed = self._formatted(bot, caption, parse_mode, entities)
        if utf16_length(parsed.text) > MAX_CAPTION:
            raise ApiError("Bad Request: message caption is too long")
        content: Json = {"caption": parsed.text}
        if parsed.entities:
            content["caption_entities"] = parsed.entities
        return content

    def _chat_id(self, chat_id: int | str) -> int:
        try:
            return int(chat_id)
        except ValueError:
            raise ApiError("Bad Request: chat not found") from None

    def _chat(self, chat_id: int | str) -> Json:
        """A chat the shell registered, else a plausible one (an agents' group, another user)."""
        number = self._chat_id(chat_id)
        known = self._chats.get(number)
        if known is not None:
            return known
        if number < 0:
            return {"id": number, "type": "supergroup", "title": f"chat {number}"}
        return {"id": number, "type": "private", "first_name": f"user {number}"}

    def _bot_user(self, bot: Bot) -> Json:
        return {
            "id": bot.id,
            "is_bot": True,
            "first_name": self._bot_name,
            "username": self._bot_username,
        }

    def _new_file_id(self, kind: str) -> str:
        return f"console-{kind}-{next(self._file_ids):012d}"

    def _now(self) -> int:
        return int(self._clock.now().timestamp())


def _dump(value: Any) -> Json:
    return cast(Json, value.model_dump(mode="json", exclude_none=True))


def _as_message(bot: Bot, message: Json) -> Message:
    return Message.model_validate(message, context={"bot": bot})
