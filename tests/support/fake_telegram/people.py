"""Simulated people: customers in private chats, agents in a forum supergroup.

Reading, writing and pressing are inherited from Conversation (see its docstring for how the
unread cursor works). `expect_topic` takes a `timeout` like the other waits (`noqa: ASYNC109`).
"""

from __future__ import annotations

from typing import Any

from .backend import Backend
from .conversation import DEFAULT_TIMEOUT, Conversation
from .recording import explained_timeout
from .records import CallbackAnswer, Topic, UserState
from .world import ChatState


class FakeUser(Conversation):
    """A person chatting with the bot in private. See Conversation for reading and pressing."""

    def __init__(self, api: Backend, person: UserState) -> None:
        super().__init__(api, person, api.world.chats[person.id])
        self.person = person

    @property
    def user(self) -> dict[str, Any]:
        """The User object Telegram sends for this person."""
        return self.person.user

    @property
    def phone(self) -> str | None:
        return self.person.phone

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Every answerCallbackQuery the bot gave this person, in order."""
        return self.person.callback_answers

    def block_bot(self) -> None:
        """Block the bot: its sends now fail with 403 and it gets a my_chat_member update."""
        if not self.person.blocked:
            self.person.blocked = True
            self._member_update("member", "kicked")

    def unblock_bot(self) -> None:
        """Unblock the bot (Telegram's "Restart"), announced with a my_chat_member update."""
        if self.person.blocked:
            self.person.blocked = False
            self._member_update("kicked", "member")

    def _before_acting(self) -> None:
        """Writing to the bot in private starts the chat, and un-blocks a blocked bot."""
        super()._before_acting()
        self.unblock_bot()
        self.person.started = True

    def _member_update(self, old: str, new: str) -> None:
        """Telegram tells the bot about (un)blocking only in a chat that was started."""
        if not self.person.started:
            return
        bot = self._api.world.bot_user
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        update = {
            "chat": self._chat.chat,
            "from": self.person.user,
            "date": int(self._api.clock.now()),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        self._api.updates.push("my_chat_member", update)
        self._api.log.touch(self._chat.id)


class FakeGroup:
    """A supergroup (usually a forum) where the bot and agents work."""

    def __init__(self, api: Backend, chat: ChatState) -> None:
        self._api = api
        self.chat = chat

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str:
        return str(self.chat.chat["title"])

    @property
    def topics(self) -> list[Topic]:
        """Forum topics in creation order."""
        return list(self.chat.topics.values())

    def remove(self, user_id: int) -> None:
        """The person leaves (or is removed from) the group; getChatMember says "left"."""
        self.chat.members.discard(user_id)
        self.chat.left.add(user_id)

    def set_bot_rights(self, **rights: bool) -> None:
        """The bot's administrator rights; none at all makes it an ordinary member."""
        self.chat.bot_rights = dict(rights)

    def topic_named(self, name: str) -> Topic | None:
        """The newest topic whose name contains `name`."""
        matches = [topic for topic in self.topics if name in topic.name]
        return matches[-1] if matches else None

    async def expect_topic(self, name: str, timeout: float = DEFAULT_TIMEOUT) -> Topic:  # noqa: ASYNC109
        """Wait until the bot has created a topic whose name contains `name`."""
        async with explained_timeout(timeout, lambda: self._explain(name)):
            return await self._api.log.wait_until(lambda: self.topic_named(name))

    def _explain(self, name: str) -> str:
        topics = [topic.name for topic in self.topics]
        return (
            f"no topic containing {name!r} in {self.title}; topics: {topics}\n"
            f"recent API calls:\n{self._api.log.dump()}"
        )


class FakeAgent(FakeUser):
    """A member of a support group. As a FakeUser they also have a private chat with the bot."""

    def __init__(self, api: Backend, person: UserState, group: FakeGroup) -> None:
        super().__init__(api, person)
        self.group = group
        self._views: dict[int | None, Conversation] = {}

    def topic(self, topic: Topic | int) -> Conversation:
        """This agent inside one forum topic: posts there, reads and presses there."""
        thread_id = topic.message_thread_id if isinstance(topic, Topic) else topic
        if thread_id not in self.group.chat.topics:
            raise AssertionError(f"no topic {thread_id} in {self.group.title}")
        return self._view(thread_id)

    def delete_topic(self, topic: Topic | int) -> None:
        """Delete a topic and all its messages in the app: Telegram sends the bot nothing."""
        thread_id = topic.message_thread_id if isinstance(topic, Topic) else topic
        self._api.world.delete_topic(self.group.chat, thread_id)
        self._views.pop(thread_id, None)
        self._api.log.touch(self.group.id)

    async def close_topic(self, topic: Topic | int) -> dict[str, Any]:
        """Close a topic in the app; the bot sees the "topic closed" service message."""
        thread_id = topic.message_thread_id if isinstance(topic, Topic) else topic
        found = self.group.chat.topics[thread_id]
        found.closed = True
        view = self._view(thread_id)
        return await view._post({"forum_topic_closed": {}})

    def in_group(self) -> Conversation:
        """This agent in the whole group: reads every topic, posts to General."""
        return self._view(None)

    def _view(self, thread_id: int | None) -> Conversation:
        if thread_id not in self._views:
            view = Conversation(self._api, self.person, self.group.chat, thread_id)
            self._views[thread_id] = view
        return self._views[thread_id]
