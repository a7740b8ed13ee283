"""Telegram's HTML parse mode: plain text + entities, or the error Telegram would give.

This follows TDLib's `parse_html` (the code behind the Bot API): the same supported tags,
attribute rules, UTF-8 byte offsets in error messages and UTF-16 entity offsets.
One deliberate difference, on by default (`strict=True`): a bare `&` or an unknown named
entity such as `&nbsp;` is rejected. Telegram shows those literally, which in a bot almost
always means text was interpolated without escaping, so the fake makes it fail loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .links import InvalidUrlError, check_url

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\0\v\f")
_END = "\0"


class TelegramHtmlError(ValueError):
    """Markup Telegram refuses; `description` is the full Bot API error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def description(self) -> str:
        """What the Bot API answers, e.g. `Bad Request: can't parse entities: ...`."""
        return f"Bad Request: can't parse entities: {self.message}"


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram stores it: tags removed, entities decoded, formatting as entities."""

    text: str
    entities: list[dict[str, Any]]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of all Telegram limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML; raise TelegramHtmlError exactly where Telegram would fail."""
    return _HtmlParser(source, strict=strict).parse()


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    text_start: int


@dataclass
class _Entity:
    type: str
    offset: int
    length: int
    argument: str = ""

    def to_json(self) -> dict[str, Any]:
        entity: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.type == "text_link":
            entity["url"] = self.argument
        elif self.type == "pre" and self.argument:
            entity["language"] = self.argument
        elif self.type == "custom_emoji":
            entity["custom_emoji_id"] = self.argument
        return entity


@dataclass
class _HtmlParser:
    source: str
    strict: bool
    pos: int = 0
    offset: int = 0
    out: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[_Entity] = field(default_factory=list)

    def parse(self) -> ParsedText:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&":
                self._text_entity()
            elif char == "<":
                self._tag()
            else:
                self._emit(char)
                self.pos += 1
        if self.stack:
            name = self.stack[-1].name
            raise TelegramHtmlError(f'Can\'t find end tag corresponding to start tag "{name}"')
        for entity in self.entities:
            if entity.type == "code":
                entity.argument = ""  # a language only survives on a pre entity
        entities = sorted(self.entities, key=lambda e: (e.offset, -e.length))
        return ParsedText("".join(self.out), [entity.to_json() for entity in entities])

    # -- characters ------------------------------------------------------------------------

    def _at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else _END

    def _byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += len(text)
        self.offset += utf16_length(text)

    def _skip_spaces(self) -> None:
        while self.pos < len(self.source) and self.source[self.pos] in _SPACES:
            self.pos += 1

    def _decode_entity(self, start: int) -> tuple[str, int] | None:
        """Decode `&...;` at `start` the way TDLib does: (character, end) or None."""
        if self._at(start + 1) == "#":
            decoded = self._numeric_reference(start)
        else:
            decoded = self._named_reference(start)
        if decoded is None:
            return None
        character, end = decoded
        return character, end + 1 if self._at(end) == ";" else end

    def _numeric_reference(self, start: int) -> tuple[str, int] | None:
        """`&#8364;` or `&#x20AC;` (lower-case x only, at most 9 characters before `;`)."""
        hexadecimal = self._at(start + 2) == "x"
        digits_start = end = start + 2 + hexadecimal
        alphabet = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while self._at(end) in alphabet:
            end += 1
        digits = self.source[digits_start:end]
        if not digits or end - start >= 10:
            return None
        code = int(digits, 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise TelegramHtmlError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return chr(code), end

    def _named_reference(self, start: int) -> tuple[str, int] | None:
        """Only `&lt;`, `&gt;`, `&amp;` and `&quot;` exist in Telegram HTML."""
        end = start + 1
        while self._at(end).isascii() and self._at(end).isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(self.source[start + 1 : end])
        return None if named is None else (named, end)

    def _text_entity(self) -> None:
        decoded = self._decode_entity(self.pos)
        if decoded is not None:
            self._emit(decoded[0])
            self.pos = decoded[1]
            return
        if self.strict:
            raise TelegramHtmlError(self._strict_ampersand_message())
        self._emit("&")
        self.pos += 1

    def _strict_ampersand_message(self) -> str:
        end = self.pos + 1
        while self._at(end).isascii() and self._at(end).isalnum():
            end += 1
        offset = self._byte_offset(self.pos)
        if end > self.pos + 1 and self._at(end) == ";":
            entity = self.source[self.pos : end + 1]
            return (
                f'Unsupported HTML entity "{entity}" at byte offset {offset} '
                "(fake_telegram strict_html; Telegram would show it literally)"
            )
        return (
            f'Character "&" at byte offset {offset} must be escaped as "&amp;" '
            "(fake_telegram strict_html; Telegram would show it literally)"
        )

    # -- tags ------------------------------------------------------------------------------

    def _tag(self) -> None:
        begin = self.pos
        self.pos += 1
        if self._at(self.pos) == "/":
            self._end_tag(begin)
        else:
            self._start_tag(begin)

    def _start_tag(self, begin: int) -> None:
        while self._at(self.pos) not in _SPACES and self._at(self.pos) != ">":
            self.pos += 1
        if self.pos >= len(self.source):
            raise TelegramHtmlError(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        name = self.source[begin + 1 : self.pos].lower()
        if name not in SUPPORTED_TAGS:
            raise TelegramHtmlError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(begin)}'
            )
        argument = self._attributes(name, begin)
        if name == "span" and argument != "spoiler":
            raise TelegramHtmlError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset(begin)}'
            )
        self.stack.append(_OpenTag(name, argument, self.offset, self.length))
        self.pos += 1

    def _attributes(self, tag: str, begin: int) -> str:
        """Read attributes up to `>`; return the one argument this tag cares about."""
        argument = ""
        while self._at(self.pos) != ">":
            self._skip_spaces()
            if self._at(self.pos) == ">":
                break
            name = self._attribute_name(tag, begin)
            self._skip_spaces()
            if self._at(self.pos) != "=":
                if self.pos >= len(self.source):
                    raise TelegramHtmlError(
                        f'Unclosed start tag "{tag}" at byte offset {self._byte_offset(begin)}'
                    )
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            self.pos += 1
            self._skip_spaces()
            if self.pos >= len(self.source):
                raise TelegramHtmlError(
                    f'Unclosed start tag "{tag}" at byte offset {self._byte_offset(begin)}'
                )
            value = self._attribute_value()
            if self.pos >= len(self.source):
                offset = self._byte_offset(begin)
                raise TelegramHtmlError(f"Unclosed start tag at byte offset {offset}")
            argument = _tag_argument(tag, name, value, argument)
        return argument

    def _attribute_name(self, tag: str, begin: int) -> str:
        start = self.pos
        while self._at(self.pos) not in _SPACES and self._at(self.pos) not in "=>/\"'":
            self.pos += 1
        if self.pos == start:
            raise TelegramHtmlError(
                f'Empty attribute name in the tag "{tag}" at byte offset {self._byte_offset(begin)}'
            )
        return self.source[start : self.pos]

    def _attribute_value(self) -> str:
        quote = self._at(self.pos)
        if quote not in "\"'":
            start = self.pos
            while self._at(self.pos).isascii() and (
                self._at(self.pos).isalnum() or self._at(self.pos) in ".-"
            ):
                self.pos += 1
            if self._at(self.pos) not in _SPACES and self._at(self.pos) != ">":
                raise TelegramHtmlError(
                    f"Unexpected end of name token at byte offset {self._byte_offset(start)}"
                )
            return self.source[start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.source) and self.source[self.pos] != quote:
            decoded = self._decode_entity(self.pos) if self.source[self.pos] == "&" else None
            if decoded is not None:
                value.append(decoded[0])
                self.pos = decoded[1]
            else:
                value.append(self.source[self.pos])
                self.pos += 1
        if self._at(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def _end_tag(self, begin: int) -> None:
        if not self.stack:
            raise TelegramHtmlError(f"Unexpected end tag at byte offset {self._byte_offset(begin)}")
        while self._at(self.pos) not in _SPACES and self._at(self.pos) != ">":
            self.pos += 1
        end_name = self.source[begin + 2 : self.pos].lower()
        self._skip_spaces()
        if self._at(self.pos) != ">":
            raise TelegramHtmlError(f"Unclosed end tag at byte offset {self._byte_offset(begin)}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise TelegramHtmlError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        if self.offset > open_tag.offset:
            self._close_entity(open_tag)
        self.stack.pop()
        self.pos += 1

    def _close_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.offset, self.offset - tag.offset
        if tag.name in _SIMPLE_ENTITY_TYPES:
            self.entities.append(_Entity(_SIMPLE_ENTITY_TYPES[tag.name], offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or not 0 < int(tag.argument) < 2**63:
                raise TelegramHtmlError("Invalid custom emoji identifier specified")
            self.entities.append(_Entity("custom_emoji", offset, length, tag.argument))
        elif tag.name == "a":
            self._close_link(tag, offset, length)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append(_Entity(kind, offset, length))
        else:
            self._close_code(tag, offset, length)

    def _close_link(self, tag: _OpenTag, offset: int, length: int) -> None:
        url = tag.argument or "".join(self.out)[tag.text_start :]
        try:
            checked = check_url(url)
        except InvalidUrlError:
            return  # Telegram silently drops links it cannot use.
        self.entities.append(_Entity("text_link", offset, length, checked))

    def _close_code(self, tag: _OpenTag, offset: int, length: int) -> None:
        """`<pre><code class="language-x">` (either nesting order) becomes one pre entity."""
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last.offset, last.length) == (offset, length)
        if tag.name == "pre":
            if last is not None and same_span and last.type == "code" and last.argument:
                last.type = "pre"
            else:
                self.entities.append(_Entity("pre", offset, length))
        elif last is not None and same_span and last.type == "pre" and tag.argument:
            last.argument = tag.argument
        else:
            self.entities.append(_Entity("code", offset, length, tag.argument))


def _tag_argument(tag: str, attribute: str, value: str, current: str) -> str:
    """The attribute value that matters for `tag`, following TDLib's rules."""
    if tag == "a" and attribute == "href":
        return value
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    if tag == "blockquote" and attribute == "expandable":
        return "1"
    return current
