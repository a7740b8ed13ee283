"""Decode Bot API parameters from query strings, form bodies (aiogram's way) and JSON bodies.

aiogram sends every parameter as a form field and JSON-encodes complex values, so decoding
needs to know which fields hold JSON, numbers or booleans, as telegram-bot-api does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .errors import bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "menu_button",
        "media",
        "results",
        "message_ids",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "icon_color",
        "user_id",
        "max_connections",
        "cache_time",
        "duration",
        "width",
        "height",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_INTEGER = re.compile(r"^-?\d+$")


def decode_value(name: str, value: Any) -> Any:
    """Convert one raw parameter to the type the Bot API gives it."""
    if name in JSON_FIELDS and isinstance(value, str):
        return _json(name, value)
    if name in INT_FIELDS and isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value)
    if name in BOOL_FIELDS and isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return value


def decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode all parameters of one request."""
    return {name: decode_value(name, value) for name, value in raw.items()}


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query-string and body parameters, whatever the body's content type."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("JSON object expected as request body")
            raw.update(body)
        else:
            form = await request.post()
            raw.update({name: _form_value(value) for name, value in form.items()})
    return decode_params(raw)


def _form_value(value: Any) -> Any:
    """Uploaded files are recorded by name; their content is not kept."""
    if isinstance(value, web.FileField):
        return f"<file {value.filename}>"
    return value


def _json(name: str, value: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise bad_request(f"can't parse {name} JSON object") from error


class Params:
    """Typed access to decoded parameters, with Telegram's defaults and errors."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int = 0) -> int:
        """Telegram reads a malformed number as 0 (or the default), not as an error."""
        value = self.values.get(name)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value)
        return default

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        return _json(name, value) if isinstance(value, str) else value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """The target chat: an integer id or an @username; "chat_id is empty" if missing."""
        value = self.values.get(name)
        if value in (None, ""):
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        return int(text) if _INTEGER.match(text) else text
