"""Turn `text`/`caption` + `parse_mode`/`entities` into what Telegram stores, with its limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import MessageEntity
from aiogram.utils.text_decorations import html_decoration

from .errors import ApiError, bad_request
from .html import TelegramHtmlError, parse_html, utf16_length

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
_MAX_RAW_BYTES = 1 << 15
_TRIMMED = " \t\r\n"
_ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)


@dataclass(frozen=True)
class FormattedText:
    """Plain text + entities as Telegram returns them, plus the HTML view tests read."""

    text: str
    entities: list[dict[str, Any]]
    html: str


def message_text(text: str, parse_mode: str, entities: Any, *, strict_html: bool) -> FormattedText:
    """Validate a message `text` the way sendMessage/editMessageText do."""
    if not text:
        raise bad_request("message text is empty")
    formatted = _format(text, parse_mode, entities, strict_html=strict_html)
    if not formatted.text:
        raise bad_request("text must be non-empty")
    if utf16_length(formatted.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return formatted


def caption_text(text: str, parse_mode: str, entities: Any, *, strict_html: bool) -> FormattedText:
    """Validate a media caption: may be empty, at most 1024 UTF-16 units after parsing."""
    if not text:
        return FormattedText("", [], "")
    formatted = _format(text, parse_mode, entities, strict_html=strict_html)
    if utf16_length(formatted.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return formatted


def render_html(text: str, entities: list[dict[str, Any]]) -> str:
    """HTML for text + entities, the way aiogram's `Message.html_text` would render it."""
    return html_decoration.unparse(text, [MessageEntity.model_validate(e) for e in entities])


def _format(text: str, parse_mode: str, entities: Any, *, strict_html: bool) -> FormattedText:
    if len(text.encode("utf-8")) > _MAX_RAW_BYTES:
        raise bad_request("text is too long")
    mode = parse_mode.lower()
    if mode in {"", "none"}:
        plain, parsed = text, _explicit_entities(text, entities)
    elif mode == "html":
        try:
            result = parse_html(text, strict=strict_html)
        except TelegramHtmlError as error:
            raise ApiError(400, error.description) from error
        plain, parsed = result.text, result.entities
    elif mode in {"markdown", "markdownv2"}:
        raise bad_request(f"parse_mode {parse_mode} is not implemented by fake_telegram; use HTML")
    else:
        raise bad_request("unsupported parse_mode")
    plain, parsed = _trim(plain, parsed)
    html = text if mode == "html" else render_html(plain, parsed)
    return FormattedText(plain, parsed, html)


def _explicit_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """Check an `entities` array against the text like Telegram does."""
    if not entities:
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    size = utf16_length(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in _ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be a valid Number')
        if offset < 0:
            raise bad_request(f"receive an entity with incorrect offset {offset}")
        if offset > size:
            raise bad_request(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > size:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + length}"
            )
        checked.append(dict(entity))
    return checked


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading/trailing whitespace and clips entities to what is left."""
    stripped = text.strip(_TRIMMED)
    if stripped == text:
        return text, entities
    head = utf16_length(text[: len(text) - len(text.lstrip(_TRIMMED))])
    size = utf16_length(stripped)
    clipped = []
    for entity in entities:
        start = max(entity["offset"] - head, 0)
        end = min(entity["offset"] + entity["length"] - head, size)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, clipped
