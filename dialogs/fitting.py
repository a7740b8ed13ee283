"""Listings that fit in one Telegram message, however long the merchant's names are.

Telegram refuses a message whose text, once its HTML is parsed, is longer than 4,096
UTF-16 code units. A listing (the orders and refunds of /status, a refund's history)
is rendered with everything first; while it is too long, the longest list shown loses
its last entry, and the template says how many were left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

MESSAGE_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units of the text without its HTML tags."""
    plain = html.unescape(_TAG.sub("", text)).strip()
    return len(plain.encode("utf-16-le")) // 2


def fit(
    render: Callable[[Mapping[str, int]], str],
    sizes: Mapping[str, int],
    limit: int = MESSAGE_LIMIT,
) -> tuple[str, dict[str, int]]:
    """Render with as many entries of each list as fit; return the text and how many of
    each list it shows. `render(shown)` gets {list name: entries to show}."""
    shown = dict(sizes)
    text = render(shown)
    while telegram_length(text) > limit:
        longest = max(shown, key=lambda name: shown[name])
        if shown[longest] == 0:
            raise ValueError("even without any entries the message is too long")
        # Large lists shrink by halves first, so a thousand entries take a few renders.
        over = telegram_length(text) / limit
        shown[longest] = shown[longest] // 2 if over > 2 else shown[longest] - 1
        text = render(shown)
    return text, shown
