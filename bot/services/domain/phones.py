"""Phone numbers compared in one canonical form: "+" and the digits of the E.164 number."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s().\-]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalize_phone(raw: str) -> str | None:
    """`+86 138-0013-8000` → `+8613800138000`; None when it is not an international number.

    Telegram sends a contact's number without the plus sign ("8613800138000"), so a
    bare run of digits is read as international too.
    """
    compact = _SEPARATORS.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.isdigit():
        compact = "+" + compact
    return compact if _E164.match(compact) else None


def mask_phone(phone: str) -> str:
    """Keep the last four digits: `+8613800138000` → `+*********8000`."""
    digits = phone.lstrip("+")
    return "+" + "*" * max(len(digits) - 4, 0) + digits[-4:]
