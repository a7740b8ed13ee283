"""The state Telegram keeps for one bot: people, chats, topics, messages and their rules."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .clock import FakeClock
from .errors import bad_request, chat_not_found, forbidden
from .formatting import FormattedText, render_html
from .records import SentMessage, Topic, UserState
from .validation import is_inline_keyboard

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CALLBACK_QUERY_TTL = 15.0
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@dataclass(eq=False)
class ChatState:
    """One chat: every message in it, the bot's messages as SentMessage, topics, keyboard."""

    chat: dict[str, Any]
    """The Chat object as it is embedded in messages."""
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: dict[int, SentMessage] = field(default_factory=dict)
    feed: list[tuple[SentMessage, int]] = field(default_factory=list)
    """(message, version) appended on every bot send and edit: what a reader sees arrive."""
    topics: dict[int, Topic] = field(default_factory=dict)
    members: set[int] = field(default_factory=set)
    left: set[int] = field(default_factory=set)
    """Former members (getChatMember answers "left")."""
    bot_rights: dict[str, bool] = field(default_factory=dict)
    """The bot's administrator rights in a group; empty: an ordinary member."""
    reply_keyboard: dict[str, Any] | None = None
    next_message_id: int = 1

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return self.chat["type"] == "private"

    @property
    def is_forum(self) -> bool:
        return bool(self.chat.get("is_forum"))

    def visible(self, thread_id: int | None = None) -> list[SentMessage]:
        """The bot's messages still in the chat, oldest first, optionally one topic only."""
        return [
            message
            for message in self.sent.values()
            if not message.deleted and (thread_id is None or message.message_thread_id == thread_id)
        ]


@dataclass(frozen=True)
class Content:
    """The content fields of a message plus the views of it that tests read."""

    fields: dict[str, Any]
    text: str
    html: str
    entities: list[dict[str, Any]]
    kind: str = "text"
    file_id: str | None = None


def text_content(formatted: FormattedText) -> Content:
    """Content of a text message."""
    fields: dict[str, Any] = {"text": formatted.text}
    if formatted.entities:
        fields["entities"] = formatted.entities
    return Content(fields, formatted.text, formatted.html, formatted.entities)


def photo_content(file_id: str, caption: FormattedText) -> Content:
    """Content of a photo message, with the PhotoSize list Telegram generates."""
    sizes = [
        {"file_id": f"{file_id}", "file_unique_id": f"u{file_id[-12:]}", "width": w, "height": h}
        for w, h in ((90, 67), (320, 240), (800, 600))
    ]
    fields: dict[str, Any] = {"photo": sizes}
    if caption.text:
        fields["caption"] = caption.text
    if caption.entities:
        fields["caption_entities"] = caption.entities
    return Content(fields, caption.text, caption.html, caption.entities, "photo", file_id)


_MEDIA_KINDS = (
    "photo",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
)


def copied_content(message: dict[str, Any], caption: FormattedText | None) -> Content:
    """The content of an existing message, for copyMessage/forwardMessage.

    `caption` replaces a media caption (copyMessage's `caption` parameter).
    """
    if "text" in message:
        entities = message.get("entities", [])
        formatted = FormattedText(message["text"], entities, render_html(message["text"], entities))
        return text_content(formatted)
    kind = next((k for k in _MEDIA_KINDS if k in message), None)
    if kind is None:
        raise bad_request("message can't be copied")
    if caption is None:
        entities = message.get("caption_entities", [])
        text = message.get("caption", "")
        caption = FormattedText(text, entities, render_html(text, entities))
    fields: dict[str, Any] = {kind: message[kind]}
    if caption.text:
        fields["caption"] = caption.text
    if caption.entities:
        fields["caption_entities"] = caption.entities
    file_id = _file_id(message[kind])
    return Content(fields, caption.text, caption.html, caption.entities, kind, file_id)


def _file_id(media: Any) -> str | None:
    """The file_id of a media field (photos are lists of sizes)."""
    if isinstance(media, list) and media:
        media = media[-1]
    return media.get("file_id") if isinstance(media, dict) else None


@dataclass(eq=False)
class PendingQuery:
    """A callback query waiting for answerCallbackQuery."""

    query_id: str
    user_id: int
    chat_id: int
    created_at: float
    answered: bool = False


class World:
    """Everything the fake Telegram remembers, and the rules for the bot acting on it."""

    def __init__(self, bot_user: dict[str, Any], clock: FakeClock) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.users: dict[int, UserState] = {}
        self.chats: dict[int, ChatState] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.queries: dict[str, PendingQuery] = {}
        self.sent_log: list[SentMessage] = []
        """Every message the bot sent, in order, across all chats."""
        self._next_query = 0

    # -- people and chats --------------------------------------------------------------------

    def add_user(self, user: dict[str, Any], phone: str | None) -> UserState:
        """Register a person and their private chat with the bot."""
        state = UserState(user=user, phone=phone)
        self.users[state.id] = state
        private = {"id": state.id, "type": "private", "first_name": user["first_name"]}
        private.update({k: user[k] for k in ("last_name", "username") if k in user})
        self.chats[state.id] = ChatState(chat=private)
        return state

    def add_group(self, chat_id: int, title: str, *, is_forum: bool) -> ChatState:
        """Register a (super)group the bot is an administrator of."""
        kind = "supergroup" if is_forum or str(chat_id).startswith("-100") else "group"
        chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
        if is_forum:
            chat["is_forum"] = True
        state = ChatState(chat=chat)
        self.chats[chat_id] = state
        return state

    def next_query_id(self) -> str:
        """Callback query ids look like Telegram's: long decimal strings."""
        self._next_query += 1
        return str(4_000_000_000_000_000_000 + self._next_query)

    # -- what the bot may address ----------------------------------------------------------------

    def readable_chat(self, chat_id: int | str) -> ChatState:
        """The chat, if the bot has ever seen it; else "chat not found"."""
        if isinstance(chat_id, str):
            chat_id = self._resolve_username(chat_id)
        chat = self.chats.get(chat_id)
        if chat is None or (chat.is_private and not self.users[chat.id].seen):
            raise chat_not_found()
        return chat

    def writable_chat(self, chat_id: int | str) -> ChatState:
        """A chat the bot may send to right now (private chats need a start and no block)."""
        chat = self.readable_chat(chat_id)
        if chat.is_private:
            user = self.users[chat.id]
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def thread(self, chat: ChatState, thread_id: int) -> Topic | None:
        """The forum topic for message_thread_id (0 = none); "message thread not found" if bad."""
        if not thread_id or not chat.is_forum:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def open_thread(self, chat: ChatState, thread_id: int) -> Topic | None:
        """A topic to post a new message in: a closed one answers TOPIC_CLOSED."""
        topic = self.thread(chat, thread_id)
        if topic is not None and topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return topic

    def member_status(self, chat: ChatState, user_id: int) -> str:
        """What getChatMember says about `user_id` in a group."""
        if user_id == self.bot_user["id"]:
            return "administrator" if chat.bot_rights else "member"
        if user_id in chat.members:
            return "member"
        return "left"

    def _resolve_username(self, username: str) -> int:
        """@username works for public groups and channels, never for people."""
        wanted = username.removeprefix("@").lower()
        for chat in self.chats.values():
            if not chat.is_private and str(chat.chat.get("username", "")).lower() == wanted:
                return chat.id
        raise chat_not_found()

    # -- messages ----------------------------------------------------------------------------

    def new_message(
        self,
        chat: ChatState,
        sender: dict[str, Any],
        fields: dict[str, Any],
        *,
        thread: Topic | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Store a message from anyone in `chat` and return its Message object."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.chat,
            "date": int(self.clock.now()),
        }
        if thread is not None:
            message["message_thread_id"] = thread.message_thread_id
            message["is_topic_message"] = True
        quoted = reply_to or (thread.message_thread_id if thread else None)
        if quoted and quoted in chat.messages:
            message["reply_to_message"] = quote(chat.messages[quoted])
        message.update(fields)
        chat.messages[message_id] = message
        return message

    def post_bot_message(
        self,
        chat: ChatState,
        content: Content,
        markup: dict[str, Any] | None,
        *,
        thread: Topic | None = None,
        reply_to: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SentMessage:
        """Store a message from the bot, remember the reply keyboard, make it readable."""
        fields = dict(content.fields)
        if is_inline_keyboard(markup):
            fields["reply_markup"] = markup
        fields.update(extra or {})
        payload = self.new_message(chat, self.bot_user, fields, thread=thread, reply_to=reply_to)
        self._remember_keyboard(chat, markup)
        sent = SentMessage(
            chat_id=chat.id,
            message_id=payload["message_id"],
            text=content.text,
            html=content.html,
            entities=content.entities,
            reply_markup=markup,
            payload=payload,
            message_thread_id=thread.message_thread_id if thread else None,
            kind=content.kind,
            file_id=content.file_id,
        )
        chat.sent[sent.message_id] = sent
        chat.feed.append((sent, 0))
        self.sent_log.append(sent)
        return sent

    def reply_target(self, chat: ChatState, message_id: int, *, allow_missing: bool) -> int | None:
        """Check reply_parameters.message_id the way Telegram does."""
        if not message_id:
            return None
        if message_id in chat.messages:
            return message_id
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")

    def edit_text(
        self, chat: ChatState, message_id: int, text: FormattedText, markup: dict[str, Any] | None
    ) -> SentMessage:
        """editMessageText: new text and (only) the inline keyboard given in the same call."""
        sent = self._editable(chat, message_id)
        if sent.kind != "text":
            raise bad_request("there is no text in the message to edit")
        if (sent.text, sent.entities, _inline(sent.reply_markup)) == (
            text.text,
            text.entities,
            _inline(markup),
        ):
            raise bad_request(NOT_MODIFIED)
        sent.text, sent.html, sent.entities = text.text, text.html, text.entities
        sent.payload["text"] = text.text
        sent.payload.pop("entities", None)
        if text.entities:
            sent.payload["entities"] = text.entities
        return self._finish_edit(chat, sent, markup)

    def edit_caption(
        self,
        chat: ChatState,
        message_id: int,
        caption: FormattedText,
        markup: dict[str, Any] | None,
    ) -> SentMessage:
        """editMessageCaption: a media message's new caption (and inline keyboard)."""
        sent = self._editable(chat, message_id)
        if sent.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        if (sent.text, sent.entities, _inline(sent.reply_markup)) == (
            caption.text,
            caption.entities,
            _inline(markup),
        ):
            raise bad_request(NOT_MODIFIED)
        sent.text, sent.html, sent.entities = caption.text, caption.html, caption.entities
        sent.payload.pop("caption_entities", None)
        sent.payload["caption"] = caption.text
        if caption.entities:
            sent.payload["caption_entities"] = caption.entities
        return self._finish_edit(chat, sent, markup)

    def edit_markup(
        self, chat: ChatState, message_id: int, markup: dict[str, Any] | None
    ) -> SentMessage:
        """editMessageReplyMarkup: replace (or, when absent, remove) the inline keyboard."""
        sent = self._editable(chat, message_id)
        if _inline(sent.reply_markup) == _inline(markup):
            raise bad_request(NOT_MODIFIED)
        return self._finish_edit(chat, sent, markup)

    def delete(self, chat: ChatState, message_id: int) -> None:
        """deleteMessage: any message of the chat (the bot is admin in its groups)."""
        if chat.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        sent = chat.sent.get(message_id)
        if sent is not None:
            sent.deleted = True

    def delete_topic(self, chat: ChatState, thread_id: int) -> None:
        """An agent deleted the topic and everything in it (Telegram tells the bot nothing)."""
        if chat.topics.pop(thread_id, None) is None:
            raise bad_request("message thread not found")
        for message_id, message in list(chat.messages.items()):
            if message.get("message_thread_id") == thread_id or message_id == thread_id:
                self.delete(chat, message_id)

    def _editable(self, chat: ChatState, message_id: int) -> SentMessage:
        if message_id not in chat.messages:
            raise bad_request("message to edit not found")
        sent = chat.sent.get(message_id)
        if sent is None:
            raise bad_request("message can't be edited")
        return sent

    def _finish_edit(
        self, chat: ChatState, sent: SentMessage, markup: dict[str, Any] | None
    ) -> SentMessage:
        sent.reply_markup = markup if is_inline_keyboard(markup) else None
        sent.payload.pop("reply_markup", None)
        if sent.reply_markup:
            sent.payload["reply_markup"] = sent.reply_markup
        sent.payload["edit_date"] = int(self.clock.now())
        sent.version += 1
        sent.edited = True
        chat.feed.append((sent, sent.version))
        return sent

    @staticmethod
    def _remember_keyboard(chat: ChatState, markup: dict[str, Any] | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    # -- callback queries ------------------------------------------------------------------------

    def open_query(self, user_id: int, chat_id: int) -> PendingQuery:
        """Remember a pressed button until the bot answers it."""
        query = PendingQuery(self.next_query_id(), user_id, chat_id, self.clock.now())
        self.queries[query.query_id] = query
        return query

    def close_query(self, query_id: str) -> PendingQuery:
        """Accept one answer within 15 s of fake time, like Telegram."""
        query = self.queries.get(query_id)
        too_old = query is not None and self.clock.now() - query.created_at > CALLBACK_QUERY_TTL
        if query is None or query.answered or too_old:
            raise bad_request(QUERY_TOO_OLD)
        query.answered = True
        return query


def quote(message: dict[str, Any]) -> dict[str, Any]:
    """A message as embedded in `reply_to_message`: Telegram never nests a second level."""
    quoted = copy.deepcopy(message)
    quoted.pop("reply_to_message", None)
    return quoted


def _inline(markup: dict[str, Any] | None) -> list[Any]:
    """The part of a markup that belongs to a message: its inline keyboard rows."""
    if not is_inline_keyboard(markup):
        return []
    return list((markup or {}).get("inline_keyboard") or [])
