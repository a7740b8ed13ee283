"""Bot API methods about the bot itself, chats, commands, menu buttons and forum topics."""

from __future__ import annotations

from typing import Any

from .backend import Backend, Handler
from .errors import bad_request
from .params import Params
from .records import Topic
from .validation import check_commands, check_icon_color, check_topic_name, command_scope_key
from .world import ChatState

DEFAULT_ICON_COLOR = 0x6FB9F0
_TOPIC_NOT_MODIFIED = "TOPIC_NOT_MODIFIED"


async def get_me(api: Backend, params: Params) -> dict[str, Any]:
    return {
        **api.world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def log_out(api: Backend, params: Params) -> bool:
    return True


async def get_chat(api: Backend, params: Params) -> dict[str, Any]:
    chat = api.world.readable_chat(params.chat_id())
    return {
        **chat.chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


ADMIN_RIGHTS = (
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


async def get_chat_member(api: Backend, params: Params) -> dict[str, Any]:
    """The member's status: the bot (an administrator with its rights), members, others "left"."""
    chat = api.world.readable_chat(params.chat_id())
    user_id = params.integer("user_id")
    if user_id == api.world.bot_user["id"]:
        user: dict[str, Any] = api.world.bot_user
    elif user_id in api.world.users:
        user = api.world.users[user_id].user
    else:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if chat.is_private:
        return {"status": "member" if user_id == chat.id else "left", "user": user}
    status = api.world.member_status(chat, user_id)
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False})
        member.update({right: chat.bot_rights.get(right, False) for right in ADMIN_RIGHTS})
    return member


async def set_my_commands(api: Backend, params: Params) -> bool:
    commands = check_commands(params.json("commands"))
    key = (command_scope_key(params.json("scope")), params.text("language_code"))
    if commands:
        api.world.commands[key] = commands
    else:
        api.world.commands.pop(key, None)
    return True


async def get_my_commands(api: Backend, params: Params) -> list[dict[str, str]]:
    key = (command_scope_key(params.json("scope")), params.text("language_code"))
    return api.world.commands.get(key, [])


async def delete_my_commands(api: Backend, params: Params) -> bool:
    key = (command_scope_key(params.json("scope")), params.text("language_code"))
    api.world.commands.pop(key, None)
    return True


async def set_chat_menu_button(api: Backend, params: Params) -> bool:
    chat_id = params.chat_id() if params.has("chat_id") else None
    if chat_id is not None:
        chat_id = api.world.readable_chat(chat_id).id
    button = params.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in {"default", "commands", "web_app"}:
        raise bad_request("can't parse menu button: Unsupported type specified")
    api.world.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(api: Backend, params: Params) -> dict[str, Any]:
    chat_id = api.world.readable_chat(params.chat_id()).id if params.has("chat_id") else None
    buttons = api.world.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "commands"}


async def create_forum_topic(api: Backend, params: Params) -> dict[str, Any]:
    chat = _forum(api, params)
    if not chat.bot_rights.get("can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    name = params.text("name")
    check_topic_name(name)
    color = params.integer("icon_color", DEFAULT_ICON_COLOR)
    check_icon_color(color)
    emoji = params.text("icon_custom_emoji_id") or None
    created: dict[str, Any] = {"name": name, "icon_color": color}
    if emoji:
        created["icon_custom_emoji_id"] = emoji
    service = api.world.new_message(chat, api.world.bot_user, {"forum_topic_created": created})
    topic = Topic(service["message_id"], name, color, emoji)
    service["message_thread_id"] = topic.message_thread_id
    service["is_topic_message"] = True
    chat.topics[topic.message_thread_id] = topic
    return topic.to_json()


async def edit_forum_topic(api: Backend, params: Params) -> bool:
    chat, topic = _topic(api, params)
    changes: dict[str, Any] = {}
    if params.has("name") and params.text("name") != topic.name:
        check_topic_name(params.text("name"))
        changes["name"] = topic.name = params.text("name")
    if "icon_custom_emoji_id" in params.values:
        emoji = params.text("icon_custom_emoji_id") or None
        if emoji != topic.icon_custom_emoji_id:
            topic.icon_custom_emoji_id = emoji
            changes["icon_custom_emoji_id"] = emoji or ""
    if not changes:
        raise bad_request(_TOPIC_NOT_MODIFIED)
    api.world.new_message(chat, api.world.bot_user, {"forum_topic_edited": changes}, thread=topic)
    return True


async def close_forum_topic(api: Backend, params: Params) -> bool:
    return _toggle_topic(api, params, closed=True)


async def reopen_forum_topic(api: Backend, params: Params) -> bool:
    return _toggle_topic(api, params, closed=False)


async def delete_forum_topic(api: Backend, params: Params) -> bool:
    chat, topic = _topic(api, params)
    api.world.delete_topic(chat, topic.message_thread_id)
    return True


def _toggle_topic(api: Backend, params: Params, *, closed: bool) -> bool:
    chat, topic = _topic(api, params)
    if topic.closed == closed:
        raise bad_request(_TOPIC_NOT_MODIFIED)
    topic.closed = closed
    event = "forum_topic_closed" if closed else "forum_topic_reopened"
    api.world.new_message(chat, api.world.bot_user, {event: {}}, thread=topic)
    return True


def _forum(api: Backend, params: Params) -> ChatState:
    chat = api.world.readable_chat(params.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(api: Backend, params: Params) -> tuple[ChatState, Topic]:
    chat = _forum(api, params)
    topic = api.world.thread(chat, params.integer("message_thread_id"))
    if topic is None:
        raise bad_request("message thread not found")
    return chat, topic


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "logOut": log_out,
    "close": log_out,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "createForumTopic": create_forum_topic,
    "editForumTopic": edit_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
}
