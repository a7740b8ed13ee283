"""The languages the bot speaks and how a reader's language is chosen."""

from __future__ import annotations

import re

LOCALES = ("en", "zh")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Whole words of letters only: not the "SO" of "SO-1002345", nor "x2".
_LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z]{2,}(?![\w-])")
# Fewer English words than this say nothing about the language: "ok", "SO 1002345".
MIN_ENGLISH_WORDS = 2


def locale_from_language_code(language_code: str | None, default: str) -> str:
    """Telegram's `language_code` ("zh-hans", "zh-TW", "en-US") mapped onto our locales."""
    return supported(language_code) or default


def supported(language_code: str | None) -> str | None:
    """Our locale for a Telegram `language_code`, or None when it is missing or another."""
    if language_code:
        base = language_code.split("-", 1)[0].lower()
        if base in LOCALES:
            return base
    return None


def locale_of_text(text: str | None) -> str | None:
    """The language a message is written in, when it says: zh for any Chinese character,
    en for two English words or more and no Chinese; None for an order number, "ok",
    an emoji or a sticker."""
    if not text:
        return None
    if _HAN.search(text):
        return "zh"
    return "en" if len(_LATIN_WORD.findall(text)) >= MIN_ENGLISH_WORDS else None


def pick_locale(
    chosen: str | None,
    customer_locale: str | None,
    language_code: str | None,
    default: str,
    written: str | None = None,
) -> str:
    """The reader's own choice (/language) first, then the merchant's record, then
    Telegram's language, then the language they write in, then the default."""
    for candidate in (chosen, customer_locale, supported(language_code), written):
        if candidate is not None and candidate in LOCALES:
            return candidate
    return default
