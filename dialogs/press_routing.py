"""Button presses skip the routers that have no handler for them.

aiogram tries a press against every handler of every router in turn, and each
`SomeCallback.filter()` parses the button's data before it can say no: ~20 routers
deep for the last step of a cancellation. A router whose every press handler (its own
and its sub-routers') is one of those filters can only take presses whose data starts
with one of their prefixes, so `route_presses_by_prefix` gives it a root filter saying
so, derived from the handlers themselves when the dispatcher is built, after every
handler is registered (a handler written later is counted with no list to edit).
Routers with any other press handler (a catch-all for stale buttons, a rule on the raw
data) keep seeing every press.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter as Parses
from aiogram.types import CallbackQuery


class CallbackPrefixes(Filter):
    """The press's data starts with one of `heads` (a prefix and its separator)."""

    def __init__(self, heads: frozenset[str]) -> None:
        self.heads = tuple(sorted(heads))

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        return data is not None and data.startswith(self.heads)

    def __str__(self) -> str:
        return f"CallbackPrefixes({', '.join(self.heads)})"


def route_presses_by_prefix(router: Router) -> frozenset[str] | None:
    """Give `router` and its sub-routers the root filter their press handlers allow;
    returns the prefixes `router`'s tree takes, or None if it may take any press."""
    heads: set[str] | None = set()
    for sub in router.sub_routers:
        taken = route_presses_by_prefix(sub)
        heads = None if taken is None or heads is None else heads | taken
    own = _own_heads(router)
    heads = None if own is None or heads is None else heads | own
    if heads is not None:
        router.callback_query.filter(CallbackPrefixes(frozenset(heads)))
    return frozenset(heads) if heads is not None else None


def _own_heads(router: Router) -> set[str] | None:
    heads: set[str] = set()
    for handler in router.callback_query.handlers:
        parsers = [f.callback for f in handler.filters or () if isinstance(f.callback, Parses)]
        if not parsers:
            return None
        data = parsers[0].callback_data
        heads.add(f"{data.__prefix__}{data.__separator__}")
    return heads
