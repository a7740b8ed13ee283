"""Finding one order by a number someone typed, exactly but forgiving how it was written.

Guests verifying an order and the merchant's `cancelbot policy check` type numbers the
way people do: "so1002351", "SO 1002351", "#SO-1002351", "SOoo1OO2" (O for 0 straight
after the prefix). Those name the stored number as the customer's own lookups do
(`matching.normalize_order_number`), but a number that is merely close (a digit off)
names nothing: these callers act on the very order typed, so there is no "did you mean".
"""

from __future__ import annotations

import re
from typing import Final

from bot.services.cancellation.matching import normalize_order_number, read_lookalikes
from storage.models import Order
from storage.uow import UnitOfWork

# How shops write a number between its letter prefix and its digits.
_SEPARATORS: Final = ("", "-", " ", "_", "/", ".", "#")
_PREFIX: Final = re.compile(r"^[A-Z]*")


def readings(typed: str) -> tuple[str, ...]:
    """The canonical numbers `typed` may be, most literal first: as normalised, then with
    the look-alike letters (O, I, L) that end its letter prefix read as digits, one more
    at a time ("SOOOO000": SO-OO000, then SO-O0000, then SO-000000); one letter of
    prefix always stays."""
    key = normalize_order_number(typed)
    prefix = _PREFIX.match(key)
    head = prefix.group() if prefix else ""
    body = key[len(head) :]
    keys = [key] if key else []
    cut = len(head)
    while cut > 1 and head[cut - 1] in "OIL":
        cut -= 1
        keys.append(head[:cut] + read_lookalikes(head[cut:]) + body)
    return tuple(keys)


def spellings(typed: str) -> tuple[str, ...]:
    """The ways the number typed may be stored: each reading with each usual separator
    after its letter prefix, in upper and lower case, and as typed."""
    forms = {typed.strip(), typed.strip().upper()}
    for key in readings(typed):
        prefix = _PREFIX.match(key)
        head = prefix.group() if prefix else ""
        body = key[len(head) :]
        forms.add(key)
        if head and body:
            for separator in _SEPARATORS:
                forms |= {f"{head}{separator}{body}", f"{head.lower()}{separator}{body}"}
    return tuple(sorted(form for form in forms if form))


async def order_by_typed_number(uow: UnitOfWork, typed: str) -> Order | None:
    """The one order whose number is `typed`, however it was spaced, cased or dashed;
    None when none is, or when two stored numbers read the same (the caller cannot tell
    which was meant). The most literal reading that names an order wins. Runs in the
    caller's transaction."""
    keys = readings(typed)
    if not keys:
        return None
    found = await uow.orders.by_numbers(spellings(typed))
    exact = found.get(typed.strip())
    if exact is not None:
        return exact
    for key in keys:
        same = [order for order in found.values() if normalize_order_number(order.number) == key]
        if same:
            return same[0] if len(same) == 1 else None
    return None
