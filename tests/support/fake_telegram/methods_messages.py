"""Bot API methods that send, edit, delete and answer messages.

Validation order follows telegram-bot-api: text/caption first, then reply_markup, then the
chat (not found / blocked), then the topic and the replied-to message.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .backend import Backend, Handler
from .errors import bad_request
from .formatting import caption_text, message_text
from .params import Params
from .records import CallbackAnswer
from .validation import check_callback_answer_text, check_chat_action, check_reply_markup
from .world import ChatState, copied_content, photo_content, text_content


async def send_message(api: Backend, params: Params) -> dict[str, Any]:
    text = message_text(
        params.text("text"),
        params.text("parse_mode"),
        params.json("entities"),
        strict_html=api.strict_html,
    )
    markup = check_reply_markup(params.json("reply_markup"))
    chat = api.world.writable_chat(params.chat_id())
    thread = api.world.open_thread(chat, params.integer("message_thread_id"))
    sent = api.world.post_bot_message(
        chat,
        text_content(text),
        markup,
        thread=thread,
        reply_to=_reply_to(api, chat, params),
        extra=_send_options(params),
    )
    return sent.payload


async def send_photo(api: Backend, params: Params) -> dict[str, Any]:
    caption = caption_text(
        params.text("caption"),
        params.text("parse_mode"),
        params.json("caption_entities"),
        strict_html=api.strict_html,
    )
    photo = params.text("photo")
    if not photo:
        raise bad_request("there is no photo in the request")
    markup = check_reply_markup(params.json("reply_markup"))
    chat = api.world.writable_chat(params.chat_id())
    thread = api.world.open_thread(chat, params.integer("message_thread_id"))
    sent = api.world.post_bot_message(
        chat,
        photo_content(_file_id_for(photo), caption),
        markup,
        thread=thread,
        reply_to=_reply_to(api, chat, params),
        extra=_send_options(params),
    )
    return sent.payload


async def copy_message(api: Backend, params: Params) -> dict[str, Any]:
    caption = None
    if params.has("caption"):
        caption = caption_text(
            params.text("caption"),
            params.text("parse_mode"),
            params.json("caption_entities"),
            strict_html=api.strict_html,
        )
    markup = check_reply_markup(params.json("reply_markup"))
    source = _source_message(api, params, "message to copy not found")
    chat = api.world.writable_chat(params.chat_id())
    thread = api.world.open_thread(chat, params.integer("message_thread_id"))
    sent = api.world.post_bot_message(
        chat,
        copied_content(source, caption),
        markup,
        thread=thread,
        reply_to=_reply_to(api, chat, params),
        extra=_send_options(params),
    )
    return {"message_id": sent.message_id}


async def copy_messages(api: Backend, params: Params) -> list[dict[str, Any]]:
    """Several messages at once, in id order; an album stays an album (same media group)."""
    ids = params.json("message_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise bad_request("message identifiers are not specified")
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        raise bad_request("message identifiers must be in a strictly increasing order")
    source_chat = api.world.readable_chat(params.chat_id("from_chat_id"))
    chat = api.world.writable_chat(params.chat_id())
    thread = api.world.open_thread(chat, params.integer("message_thread_id"))
    group_id = f"copy{len(api.world.sent_log) + 1}"
    copied = []
    for message_id in ids:
        source = source_chat.messages.get(message_id)
        if source is None:
            continue  # Telegram skips what it cannot copy
        extra = {"media_group_id": group_id} if "media_group_id" in source else {}
        sent = api.world.post_bot_message(
            chat, copied_content(source, None), None, thread=thread, extra=extra
        )
        copied.append({"message_id": sent.message_id})
    if not copied:
        raise bad_request("message to copy not found")
    return copied


async def forward_message(api: Backend, params: Params) -> dict[str, Any]:
    source = _source_message(api, params, "message to forward not found")
    chat = api.world.writable_chat(params.chat_id())
    thread = api.world.open_thread(chat, params.integer("message_thread_id"))
    origin = {"type": "user", "date": source["date"], "sender_user": source["from"]}
    sent = api.world.post_bot_message(
        chat,
        copied_content(source, None),
        None,
        thread=thread,
        extra={"forward_origin": origin, **_send_options(params)},
    )
    return sent.payload


async def edit_message_text(api: Backend, params: Params) -> dict[str, Any]:
    text = message_text(
        params.text("text"),
        params.text("parse_mode"),
        params.json("entities"),
        strict_html=api.strict_html,
    )
    markup = check_reply_markup(params.json("reply_markup"))
    chat = _edited_chat(api, params)
    return api.world.edit_text(chat, params.integer("message_id"), text, markup).payload


async def edit_message_caption(api: Backend, params: Params) -> dict[str, Any]:
    caption = caption_text(
        params.text("caption"),
        params.text("parse_mode"),
        params.json("caption_entities"),
        strict_html=api.strict_html,
    )
    markup = check_reply_markup(params.json("reply_markup"))
    chat = _edited_chat(api, params)
    return api.world.edit_caption(chat, params.integer("message_id"), caption, markup).payload


async def edit_message_reply_markup(api: Backend, params: Params) -> dict[str, Any]:
    markup = check_reply_markup(params.json("reply_markup"))
    chat = _edited_chat(api, params)
    return api.world.edit_markup(chat, params.integer("message_id"), markup).payload


async def delete_message(api: Backend, params: Params) -> bool:
    chat = api.world.readable_chat(params.chat_id())
    api.world.delete(chat, params.integer("message_id"))
    return True


async def answer_callback_query(api: Backend, params: Params) -> bool:
    text = params.text("text")
    check_callback_answer_text(text)
    query = api.world.close_query(params.text("callback_query_id"))
    answer = CallbackAnswer(
        query_id=query.query_id,
        text=text or None,
        show_alert=params.flag("show_alert"),
        url=params.text("url") or None,
    )
    api.world.users[query.user_id].callback_answers.append(answer)
    return True


async def send_chat_action(api: Backend, params: Params) -> bool:
    check_chat_action(params.text("action"))
    chat = api.world.writable_chat(params.chat_id())
    api.world.thread(chat, params.integer("message_thread_id"))
    return True


def _edited_chat(api: Backend, params: Params) -> ChatState:
    """Edits address chat_id + message_id; inline messages are not simulated."""
    if not params.has("chat_id"):
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        raise bad_request("message identifier is not specified")
    return api.world.writable_chat(params.chat_id())


def _source_message(api: Backend, params: Params, missing: str) -> dict[str, Any]:
    source_chat = api.world.readable_chat(params.chat_id("from_chat_id"))
    message = source_chat.messages.get(params.integer("message_id"))
    if message is None:
        raise bad_request(missing)
    return message


def _reply_to(api: Backend, chat: ChatState, params: Params) -> int | None:
    """reply_parameters (or the legacy reply_to_message_id) resolved in `chat`."""
    reply = params.json("reply_parameters")
    if isinstance(reply, dict):
        if "message_id" not in reply:
            raise bad_request('can\'t find field "message_id"')
        target = int(reply["message_id"])
        allow_missing = bool(reply.get("allow_sending_without_reply"))
    else:
        target = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
    return api.world.reply_target(chat, target, allow_missing=allow_missing)


def _send_options(params: Params) -> dict[str, Any]:
    """Message fields that follow from send options."""
    return {"has_protected_content": True} if params.flag("protect_content") else {}


def _file_id_for(photo: str) -> str:
    """Reuse a given file_id; invent a stable one for URLs and uploads, like Telegram would."""
    if photo.startswith(("http://", "https://", "attach://", "<file ")):
        return "AgACAgIAAxkBAAI" + hashlib.sha1(photo.encode()).hexdigest()[:24]
    return photo


HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
    "copyMessages": copy_messages,
    "editMessageCaption": edit_message_caption,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
