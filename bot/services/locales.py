"""The languages the bot speaks and how a reader's language is chosen."""

from __future__ import annotations

LOCALES = ("en", "zh")


def locale_from_language_code(language_code: str | None, default: str) -> str:
    """Telegram's `language_code` ("zh-hans", "zh-TW", "en-US") mapped onto our locales."""
    if language_code:
        base = language_code.split("-", 1)[0].lower()
        if base in LOCALES:
            return base
    return default


def pick_locale(
    chosen: str | None, customer_locale: str | None, language_code: str | None, default: str
) -> str:
    """The reader's own choice (/language) first, then the merchant's record, then Telegram's."""
    for candidate in (chosen, customer_locale):
        if candidate is not None and candidate in LOCALES:
            return candidate
    return locale_from_language_code(language_code, default)
