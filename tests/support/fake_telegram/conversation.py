"""One person's view of one chat (or one forum topic): writing, reading, pressing buttons.

Reading works like scrolling a chat. Every message the bot sends and every edit it makes is
an event; `next_message()` returns the message behind the next event this conversation has
not consumed yet, in its *current* state. A message that was sent and then edited before
the test looked is returned once (already edited); an edit made after the test read a message
makes that message come back from `next_message()` again. Deleted messages are skipped.
`expect(text)` consumes everything up to and including the first new message containing
`text`. Messages present before the conversation object was created count as unread.

Waiting methods take a `timeout` (hence `noqa: ASYNC109`): in a test, a per-call limit reads
better than wrapping every step in `asyncio.timeout()`; failures explain what was seen.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import re
import time
from collections.abc import Callable
from typing import Any

from .backend import Backend
from .recording import explained_timeout
from .records import CallbackAnswer, Press, SentMessage, UserState
from .world import ChatState

# How long a simulated person waits for the bot before the test fails. Generous on purpose:
# it bounds a failure, never a success, and a loaded CI machine must not turn into red tests.
DEFAULT_TIMEOUT = 15.0
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_/<>])")


class Conversation:
    """Acts as `person` in `chat`, optionally inside forum topic `thread_id`."""

    def __init__(
        self, api: Backend, person: UserState, chat: ChatState, thread_id: int | None = None
    ) -> None:
        self._api = api
        self._person = person
        self._chat = chat
        self._thread_id = thread_id
        self._position = 0
        self._observed: dict[int, int] = {}

    @property
    def id(self) -> int:
        """The person's user id."""
        return self._person.id

    @property
    def chat_id(self) -> int:
        return self._chat.id

    @property
    def thread_id(self) -> int | None:
        return self._thread_id

    # -- reading -----------------------------------------------------------------------------

    @property
    def inbox(self) -> list[SentMessage]:
        """The bot's messages visible here, oldest first, in their current (edited) state."""
        return self._chat.visible(self._thread_id)

    @property
    def last(self) -> SentMessage:
        """The newest visible bot message; AssertionError if there is none."""
        if not self.inbox:
            raise AssertionError(f"{self._who()} has no messages from the bot yet")
        return self.inbox[-1]

    @property
    def unread(self) -> list[SentMessage]:
        """Messages next_message() would still return, without consuming them."""
        seen: dict[int, int] = dict(self._observed)
        result = []
        for message, version in self._chat.feed[self._position :]:
            if self._is_news(message, version, seen):
                seen[message.message_id] = message.version
                result.append(message)
        return result

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard currently shown in this chat, or None."""
        return self._chat.reply_keyboard

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> SentMessage:  # noqa: ASYNC109
        """Wait for the next sent-or-edited message not consumed yet, and consume it."""
        problem = f"no new message within {timeout}s"
        async with explained_timeout(timeout, lambda: self._explain(problem)):
            return await self._api.log.wait_until(lambda: self._take(lambda _: True))

    async def expect(self, contains: str, timeout: float = DEFAULT_TIMEOUT) -> SentMessage:  # noqa: ASYNC109
        """Wait for a new message whose text contains `contains`; consume up to it."""
        problem = f"no new message containing {contains!r} within {timeout}s"
        async with explained_timeout(timeout, lambda: self._explain(problem)):
            return await self._api.log.wait_until(
                lambda: self._take(lambda message: contains in message.text)
            )

    async def settle(self, quiet: float = 0.2, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until nothing has touched this chat for `quiet` seconds (use sparingly)."""
        deadline = time.monotonic() + timeout
        while True:
            last = self._api.log.last_touch(self._chat.id) or 0.0
            remaining = last + quiet - time.monotonic()
            if remaining <= 0:
                return
            if time.monotonic() + remaining > deadline:
                raise AssertionError(self._explain(f"chat never went quiet within {timeout}s"))
            await asyncio.sleep(remaining)

    def _take(self, matches: Callable[[SentMessage], bool]) -> SentMessage | None:
        for index in range(self._position, len(self._chat.feed)):
            message, version = self._chat.feed[index]
            if self._is_news(message, version, self._observed) and matches(message):
                self._position = index + 1
                self._observed[message.message_id] = message.version
                return message
        return None

    def _is_news(self, message: SentMessage, version: int, observed: dict[int, int]) -> bool:
        in_thread = self._thread_id is None or message.message_thread_id == self._thread_id
        fresh = observed.get(message.message_id, -1) < version
        return in_thread and fresh and not message.deleted

    # -- writing -----------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: SentMessage | int | None = None) -> dict[str, Any]:
        """Write a text message; a leading /command gets its bot_command entity."""
        fields: dict[str, Any] = {"text": text}
        command = _COMMAND.match(text)
        if command:
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return await self._post(fields, reply_to=reply_to)

    async def share_contact(
        self, phone: str | None = None, *, own: bool = True, first_name: str | None = None
    ) -> dict[str, Any]:
        """Send a contact: your own (as a request_contact button does) or someone else's."""
        phone = phone or self._person.phone
        if not phone:
            raise AssertionError(f"{self._who()} has no phone; pass phone=... to share_contact")
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or (self._person.user["first_name"] if own else "Friend"),
            "user_id": self._person.id if own else self._person.id + 1_000_000,
        }
        if own and "last_name" in self._person.user:
            contact["last_name"] = self._person.user["last_name"]
        return await self._post({"contact": contact})

    async def send_photo(
        self, file_id: str | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        """Send a photo (three sizes, like Telegram's PhotoSize list)."""
        file_id = file_id or _file_id("photo", self._chat.next_message_id)
        sizes = [
            {"file_id": file_id, "file_unique_id": f"u{file_id[-10:]}{w}", "width": w, "height": h}
            for w, h in ((90, 67), (320, 240), (1280, 960))
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return await self._post(fields)

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        file_id = _file_id("sticker", self._chat.next_message_id)
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id[-10:]}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._post({"sticker": sticker})

    async def send_voice(self, duration: int = 3) -> dict[str, Any]:
        file_id = _file_id("voice", self._chat.next_message_id)
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id[-10:]}",
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return await self._post({"voice": voice})

    async def send_document(
        self, file_name: str = "receipt.pdf", caption: str | None = None
    ) -> dict[str, Any]:
        file_id = _file_id("document", self._chat.next_message_id)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id[-10:]}",
            "file_name": file_name,
            "mime_type": "application/pdf",
            "file_size": 20480,
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        return await self._post(fields)

    async def send_album(self, count: int = 2, caption: str | None = None) -> list[dict[str, Any]]:
        """Several photos sent together: one update each, sharing a media_group_id; the
        caption (if any) on the first, as Telegram's apps do."""
        group_id = str(int(hashlib.sha1(_file_id("album", count).encode()).hexdigest()[:12], 16))
        sent = []
        for index in range(count):
            file_id = _file_id("photo", self._chat.next_message_id)
            sizes = [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id[-10:]}{w}",
                    "width": w,
                    "height": h,
                }
                for w, h in ((90, 67), (1280, 960))
            ]
            fields: dict[str, Any] = {"photo": sizes, "media_group_id": group_id}
            if caption and index == 0:
                fields["caption"] = caption
            sent.append(await self._post(fields))
        return sent

    async def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Edit one of your own messages (its text, or a media message's caption); the bot
        gets an edited_message update."""
        stored = self._chat.messages.get(message["message_id"])
        if stored is None or stored["from"]["id"] != self._person.id:
            raise AssertionError(f"message {message['message_id']} is not yours to edit")
        stored.pop("entities", None)
        stored.pop("caption_entities", None)
        stored["text" if "text" in stored else "caption"] = text
        stored["edit_date"] = int(self._api.clock.now())
        self._api.updates.push("edited_message", copy.deepcopy(stored))
        self._api.log.touch(self._chat.id)
        return copy.deepcopy(stored)

    async def send_location(
        self, latitude: float = 52.370216, longitude: float = 4.895168
    ) -> dict[str, Any]:
        return await self._post({"location": {"latitude": latitude, "longitude": longitude}})

    async def _post(
        self, fields: dict[str, Any], *, reply_to: SentMessage | int | None = None
    ) -> dict[str, Any]:
        """Store a message from the person, deliver it to the bot, return a copy of it."""
        self._before_acting()
        thread = self._chat.topics.get(self._thread_id) if self._thread_id else None
        reply_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
        message = self._api.world.new_message(
            self._chat, self._person.user, fields, thread=thread, reply_to=reply_id
        )
        self._api.updates.push("message", copy.deepcopy(message))
        self._api.log.touch(self._chat.id)
        return copy.deepcopy(message)

    def _before_acting(self) -> None:
        """Hook for the private chat: writing to the bot starts (or un-blocks) it."""
        self._person.seen = True

    # -- pressing ------------------------------------------------------------------------------

    async def press(self, label: str) -> Press:
        """Press a button by its label (exact, else unambiguous substring).

        Inline keyboards are searched newest message first; then the reply keyboard, where a
        button sends its text, or the contact/location it requests.
        """
        found = self._find_inline(label, self.inbox[::-1])
        if found is not None:
            return await self._press_inline(*found)
        reply_button = self._find_reply(label)
        if reply_button is not None:
            return await self._press_reply(reply_button)
        raise AssertionError(self._explain(f"no button {label!r} to press"))

    async def press_in(self, message: SentMessage | int, label: str) -> Press:
        """Press a button of one specific (possibly old) message: stale-button tests."""
        target = self._message(message)
        found = self._find_inline(label, [target])
        if found is None:
            raise AssertionError(f"no button {label!r} in message {target}")
        return await self._press_inline(*found)

    async def press_data(self, message: SentMessage | int, callback_data: str) -> Press:
        """Send a callback query with arbitrary data on `message` (tampering tests)."""
        return await self._callback(self._message(message), callback_data, label="")

    def callback_answer(self, press: Press) -> CallbackAnswer | None:
        """The bot's answer to `press`, or None if it has not answered (yet)."""
        answers = self._person.callback_answers
        return next((a for a in answers if a.query_id == press.query_id), None)

    async def answer_to(self, press: Press, timeout: float = DEFAULT_TIMEOUT) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait until the bot answers the callback query of `press`."""
        if press.query_id is None:
            raise AssertionError(f"{press.label!r} was not an inline button press")
        problem = f"callback query for {press.label!r} was never answered"
        async with explained_timeout(timeout, lambda: self._explain(problem)):
            return await self._api.log.wait_until(lambda: self.callback_answer(press))

    def _message(self, message: SentMessage | int) -> SentMessage:
        message_id = message.message_id if isinstance(message, SentMessage) else message
        found = self._chat.sent.get(message_id)
        if found is None or found.deleted:
            raise AssertionError(f"message {message_id} is not (or no longer) in this chat")
        return found

    def _find_inline(
        self, label: str, messages: list[SentMessage]
    ) -> tuple[SentMessage, dict[str, Any]] | None:
        for exact in (True, False):
            for message in messages:
                buttons = message.inline_buttons()
                hits = [b for b in buttons if (b["text"] == label if exact else label in b["text"])]
                if len(hits) > 1:
                    labels = [b["text"] for b in hits]
                    raise AssertionError(f"{label!r} is ambiguous in message {message}: {labels}")
                if hits:
                    return message, hits[0]
        return None

    def _find_reply(self, label: str) -> dict[str, Any] | None:
        rows = (self._chat.reply_keyboard or {}).get("keyboard") or []
        buttons = [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]
        for exact in (True, False):
            hits = [b for b in buttons if (b["text"] == label if exact else label in b["text"])]
            if len(hits) > 1:
                raise AssertionError(f"{label!r} is ambiguous on the reply keyboard: {hits}")
            if hits:
                return hits[0]
        return None

    async def _press_inline(self, message: SentMessage, button: dict[str, Any]) -> Press:
        if "callback_data" in button:
            return await self._callback(message, button["callback_data"], label=button["text"])
        kind = next((k for k in button if k != "text"), "?")
        raise AssertionError(
            f"button {button['text']!r} is a {kind} button ({button.get(kind)!r}); only "
            "callback buttons can be pressed in the fake"
        )

    async def _press_reply(self, button: dict[str, Any]) -> Press:
        if button.get("request_contact"):
            await self.share_contact()
            return Press(button["text"], "contact")
        if button.get("request_location"):
            await self.send_location()
            return Press(button["text"], "location")
        await self.send(button["text"])
        return Press(button["text"], "text")

    async def _callback(self, message: SentMessage, data: str, *, label: str) -> Press:
        self._before_acting()
        query = self._api.world.open_query(self._person.id, self._chat.id)
        payload = {
            "id": query.query_id,
            "from": self._person.user,
            "message": copy.deepcopy(message.payload),
            "chat_instance": _chat_instance(self._chat.id),
            "data": data,
        }
        self._api.updates.push("callback_query", payload)
        self._api.log.touch(self._chat.id)
        return Press(label, "callback", query.query_id, data, message.message_id)

    # -- explaining failures ---------------------------------------------------------------------

    def _who(self) -> str:
        name = self._person.user["first_name"]
        where = f" in topic {self._thread_id}" if self._thread_id else ""
        return f"{name} ({self._person.id}){where}"

    def _explain(self, problem: str) -> str:
        unread = {id(m) for m in self.unread}
        lines = [f"{self._who()}: {problem}", "inbox (* = unread):"]
        lines += [f"  {'*' if id(m) in unread else ' '} {m}" for m in self.inbox] or ["  (empty)"]
        if self._chat.reply_keyboard:
            lines.append(f"reply keyboard: {self._chat.reply_keyboard.get('keyboard')}")
        lines.append("recent API calls:")
        lines.append(self._api.log.dump())
        return "\n".join(lines)


def _chat_instance(chat_id: int) -> str:
    """A stable opaque chat_instance, as Telegram sends with callback queries."""
    return str(int(hashlib.sha1(str(chat_id).encode()).hexdigest()[:15], 16))


def _file_id(kind: str, salt: int) -> str:
    """A plausible, unique-enough file_id for media a person sends."""
    digest = hashlib.sha1(f"{kind}:{salt}:{time.monotonic_ns()}".encode()).hexdigest()
    return f"AgAC{kind[:2].upper()}{digest[:28]}"
