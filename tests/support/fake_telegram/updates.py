"""The bot's update queue with telegram-bot-api's getUpdates semantics.

- Updates of types not in `allowed_updates` are never queued (Telegram filters at creation);
  the last list given to getUpdates/setWebhook is remembered, and an empty or unknown list
  means the default (everything except chat_member and reactions).
- `offset` confirms (forgets) every update with a smaller id; a negative offset keeps only
  the last -offset updates.
- A long poll returns as soon as an update arrives; a second getUpdates ends the first one
  with 409, as does setWebhook.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import Update

from .changes import Changes
from .errors import conflict

UPDATE_TYPES = frozenset(Update.model_fields) - {"update_id"}
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"


@dataclass
class UpdateQueue:
    """Pending updates, the allowed-types filter and the single long-poll slot."""

    first_update_id: int = 100_000_001
    pending: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    """Updates never queued because their type was not allowed (for debugging tests)."""
    allowed: frozenset[str] = UPDATE_TYPES - DEFAULT_EXCLUDED
    allowed_list: list[str] = field(default_factory=list)
    closed: bool = False
    changes: Changes = field(default_factory=Changes)
    """Fired on every change, shared with the call log so one wait sees everything."""
    _ids: itertools.count[int] = field(init=False)
    _poll_generation: int = 0
    _poll_abort_reason: str = ""
    _waiting_polls: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(self.first_update_id)

    def make(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An update with a fresh update_id, without queueing it."""
        return {"update_id": next(self._ids), kind: payload}

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update unless its type is filtered out; wake the long poll."""
        update = self.make(kind, payload)
        if kind not in self.allowed:
            self.dropped.append(update)
            return None
        self.pending.append(update)
        self.changes.fire()
        return update

    def set_allowed(self, allowed_updates: Any) -> None:
        """Apply allowed_updates like Telegram: absent/invalid keeps the current filter."""
        if not isinstance(allowed_updates, list) or not all(
            isinstance(kind, str) for kind in allowed_updates
        ):
            return
        known = {kind.lower() for kind in allowed_updates} & UPDATE_TYPES
        self.allowed = frozenset(known) or UPDATE_TYPES - DEFAULT_EXCLUDED
        self.allowed_list = sorted(known)

    def confirm(self, offset: int) -> None:
        """Forget updates before `offset`; a negative offset keeps the last -offset ones."""
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset > 0:
            self.pending = [update for update in self.pending if update["update_id"] >= offset]

    def clear(self) -> None:
        """drop_pending_updates=True."""
        self.pending.clear()

    @property
    def long_poll_waiting(self) -> bool:
        """A getUpdates call is parked, waiting for an update."""
        return self._waiting_polls > 0

    def take(self, limit: int) -> list[dict[str, Any]]:
        """The oldest pending updates (they stay queued until confirmed by offset)."""
        return self.pending[:limit]

    async def wait_for_updates(self) -> None:
        """Long poll: return when an update is queued or the queue closes; bound it with
        asyncio.timeout(). Raises 409 if another getUpdates or setWebhook takes over."""
        self.abort_poll(OTHER_GET_UPDATES)
        generation = self._poll_generation
        self._waiting_polls += 1
        self.changes.fire()
        try:
            await self.changes.wait_until(
                lambda: self.pending or self.closed or generation != self._poll_generation
            )
        finally:
            self._waiting_polls -= 1
        if generation != self._poll_generation:
            raise conflict(self._poll_abort_reason)

    def abort_poll(self, reason: str) -> None:
        """End a waiting long poll with 409 `reason` (a new getUpdates, or setWebhook)."""
        self._poll_generation += 1
        self._poll_abort_reason = reason
        self.changes.fire()

    async def next_for_webhook(self) -> dict[str, Any] | None:
        """Wait for the oldest pending update (the webhook sends one at a time, in order)."""
        await self.changes.wait_until(lambda: self.pending or self.closed)
        return None if self.closed else self.pending[0]

    def delivered(self, update_id: int) -> None:
        """The webhook accepted (or finally gave up on) this update."""
        self.pending = [update for update in self.pending if update["update_id"] != update_id]

    def close(self) -> None:
        """Release every waiter so the server can shut down promptly."""
        self.closed = True
        self.changes.fire()
