"""Checks the Bot API applies to keyboards, commands and other small inputs.

Descriptions are the ones telegram-bot-api answers. Where the fake is stricter than Telegram
(an inline button with several action fields: Telegram silently keeps the first one) the
description says so.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request
from .html import utf16_length
from .links import InvalidUrlError, check_url

MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
FORUM_ICON_COLORS = frozenset({0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F})
CHAT_ACTIONS = frozenset(
    {
        "cancel",
        "typing",
        "record_video",
        "upload_video",
        "record_audio",
        "record_voice",
        "upload_audio",
        "upload_voice",
        "upload_photo",
        "upload_document",
        "choose_sticker",
        "pick_up_location",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
_REPLY_BUTTON_REQUESTS = (
    "request_contact",
    "request_location",
    "request_poll",
    "request_users",
    "request_chat",
    "web_app",
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate `reply_markup` (any of the four kinds); return it, or None when absent."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    for flag in ("remove_keyboard", "force_reply", "selective", "resize_keyboard"):
        if flag in markup and not isinstance(markup[flag], bool):
            raise bad_request(f'field "{flag}" must be of type Boolean')
    return markup


def is_inline_keyboard(markup: dict[str, Any] | None) -> bool:
    """Only inline keyboards are attached to (and returned with) a message."""
    return bool(markup) and "inline_keyboard" in (markup or {})


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" must be of type Array')
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(
                'Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Can\'t find field "text"')
    if not button["text"].strip():
        raise bad_request(prefix + "Text must be non-empty (fake_telegram strict check)")
    actions = [name for name in _INLINE_ACTIONS if button.get(name) not in (None, "")]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            prefix + f"exactly one of the fields {actions} must be used "
            "(fake_telegram strict check; Telegram would silently use the first)"
        )
    if "callback_data" in actions:
        _check_callback_data(button["callback_data"])
    if "url" in actions:
        _check_button_url(button["url"])


def _check_callback_data(data: Any) -> None:
    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


def _check_button_url(url: Any) -> None:
    if not isinstance(url, str):
        raise bad_request('can\'t parse inline keyboard button: Field "url" must be of type String')
    try:
        check_url(url)
    except InvalidUrlError as error:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: {error}") from error


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list):
        raise bad_request('field "keyboard" must be of type Array')
    for row in rows:
        if not isinstance(row, list):
            raise bad_request('Field "keyboard" must be an Array of Arrays')
        for button in row:
            _check_reply_button(button)


def _check_reply_button(button: Any) -> None:
    prefix = "can't parse keyboard button: "
    if isinstance(button, str):
        text = button
    elif isinstance(button, dict):
        if not isinstance(button.get("text"), str):
            raise bad_request(prefix + 'Can\'t find field "text"')
        text = button["text"]
        requests = [name for name in _REPLY_BUTTON_REQUESTS if button.get(name)]
        if len(requests) > 1:
            raise bad_request(
                prefix + f"at most one of the fields {requests} may be used "
                "(fake_telegram strict check)"
            )
    else:
        raise bad_request(prefix + "KeyboardButton must be a String or an Object")
    if not text.strip():
        raise bad_request(prefix + "Text must be non-empty (fake_telegram strict check)")


def check_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list: lowercase names of 1-32 chars, descriptions of 1-256."""
    if commands in (None, ""):
        return []
    if not isinstance(commands, list):
        raise bad_request("Expected an Array of BotCommand")
    checked = []
    for command in commands:
        if not isinstance(command, dict) or not {"command", "description"} <= command.keys():
            raise bad_request("can't parse BotCommand: Can't find field \"command\"")
        name = str(command["command"]).removeprefix("/")
        description = str(command["description"])
        if not _COMMAND.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": name, "description": description})
    return checked


def command_scope_key(scope: Any) -> str:
    """A stable key for a BotCommandScope so commands are stored per scope."""
    if scope in (None, ""):
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    parts = [str(scope["type"])]
    parts += [f"{key}={scope[key]}" for key in ("chat_id", "user_id") if key in scope]
    return ";".join(parts)


def check_callback_answer_text(text: str) -> None:
    """answerCallbackQuery shows at most 200 characters."""
    if utf16_length(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")


def check_chat_action(action: str) -> None:
    """sendChatAction accepts only Telegram's fixed list of actions."""
    if action.lower() not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")


def check_topic_name(name: str) -> None:
    """Forum topic names are 1-128 characters."""
    if not 1 <= len(name.strip()) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name.strip() else "TOPIC_TITLE_INVALID")


def check_icon_color(color: int) -> None:
    """Topic icon colors are one of Telegram's six fixed values."""
    if color not in FORUM_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
