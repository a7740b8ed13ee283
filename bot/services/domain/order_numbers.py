"""Finding one order by a number someone typed, exactly but forgiving how it was written.

Guests verifying an order and the merchant's `cancelbot policy check` type numbers the
way people do: "so1002351", "SO 1002351", "#SO-1002351". Those name the stored
"SO-1002351" as the customer's own lookups do (`matching.normalize_order_number`), but a
number that is merely close (a digit off) names nothing: these callers act on the very
order typed, so there is no "did you mean".
"""

from __future__ import annotations

import re
from typing import Final

from bot.services.cancellation.matching import normalize_order_number
from storage.models import Order
from storage.uow import UnitOfWork

# How shops write a number between its letter prefix and its digits.
_SEPARATORS: Final = ("", "-", " ", "_", "/", ".", "#")
_PREFIX: Final = re.compile(r"^[A-Z]*")


def spellings(typed: str) -> tuple[str, ...]:
    """The ways the number typed may be stored: its canonical form with each usual
    separator after the letter prefix, in upper and lower case, and as typed."""
    key = normalize_order_number(typed)
    prefix = _PREFIX.match(key)
    head = prefix.group() if prefix else ""
    body = key[len(head) :]
    forms = {typed.strip(), typed.strip().upper(), key}
    if head and body:
        for separator in _SEPARATORS:
            forms |= {f"{head}{separator}{body}", f"{head.lower()}{separator}{body}"}
    return tuple(sorted(form for form in forms if form))


async def order_by_typed_number(uow: UnitOfWork, typed: str) -> Order | None:
    """The one order whose number is `typed`, however it was spaced, cased or dashed;
    None when none is, or when two stored numbers read the same (the caller cannot tell
    which was meant). Runs in the caller's transaction."""
    key = normalize_order_number(typed)
    if not key:
        return None
    found = await uow.orders.by_numbers(spellings(typed))
    exact = found.get(typed.strip())
    if exact is not None:
        return exact
    same = [order for order in found.values() if normalize_order_number(order.number) == key]
    return same[0] if len(same) == 1 else None
