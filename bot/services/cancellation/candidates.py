"""The orders a case's customer may mean, kept for the case while it is being identified.

Order matching needs a few columns of each of the customer's orders, not the orders:
their numbers and dates are read in one indexed query (`OrderRepository.candidate_rows`),
turned into the matcher's index (numbers normalised once) and kept here, per case, so a
customer who types three guesses costs one query and one index. What the items are
called is read and indexed the first time a message describes an order
(`OrderRepository.candidate_descriptions`, `CandidateIndex.describe`), once for the
index: a typed number, the usual first guess, needs none of it. The orders named back
to the customer are loaded afresh, with their visibility checked again, so a stale entry
can only offer an order that is then refused as not found; entries expire after a few
minutes, and the cache holds a bounded number of cases and of orders in all (a shop
whose customers each have thousands of orders fills it with fewer indexes).

A new case of the same customer reuses their last index when nothing they may see has
changed since it was built: one aggregate query (`OrderRepository.candidate_version`)
instead of reading and indexing every order again. A viewer with no index yet skips that
query: the rows come with the same fingerprint.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from bot.services.cancellation.matching import CandidateIndex
from storage.repositories.orders import CandidateVersion

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

TTL_SECONDS = 300.0
MAX_CASES = 2048
MAX_ORDERS = 100_000
"""Orders held in all, in each of the two tables (an index of 2,000 orders took ~1.1 MiB)."""


class CaseCandidates:
    """Process-wide, built once (ServiceConfig); keyed by case and Telegram user."""

    def __init__(
        self, ttl: float = TTL_SECONDS, size: int = MAX_CASES, orders: int = MAX_ORDERS
    ) -> None:
        self._ttl = ttl
        self._entries: _Bounded[tuple[int, int], tuple[float, CandidateIndex]] = _Bounded(
            size, orders
        )
        self._viewers: _Bounded[tuple[int, int | None], tuple[CandidateVersion, CandidateIndex]] = (
            _Bounded(size, orders)
        )

    def get(self, case_id: int, user_id: int) -> CandidateIndex | None:
        entry = self._entries.get((case_id, user_id))
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, case_id: int, user_id: int, index: CandidateIndex) -> None:
        self._entries.put((case_id, user_id), (time.monotonic(), index), len(index))

    def forget(self, case_id: int, user_id: int) -> None:
        self._entries.pop((case_id, user_id))

    def knows_viewer(self, user_id: int, customer_id: int | None) -> bool:
        """Whether an index was built for this viewer (whatever orders it was built from)."""
        return self._viewers.get((user_id, customer_id)) is not None

    def for_viewer(
        self, user_id: int, customer_id: int | None, version: CandidateVersion
    ) -> CandidateIndex | None:
        """The index last built for this viewer, if built from the same orders."""
        entry = self._viewers.get((user_id, customer_id))
        return entry[1] if entry is not None and entry[0] == version else None

    def put_for_viewer(
        self,
        user_id: int,
        customer_id: int | None,
        version: CandidateVersion,
        index: CandidateIndex,
    ) -> None:
        self._viewers.put((user_id, customer_id), (version, index), len(index))

    @property
    def held(self) -> tuple[int, int]:
        """(entries, orders) in the per-case and per-viewer tables together."""
        return (
            len(self._entries) + len(self._viewers),
            self._entries.weight + self._viewers.weight,
        )


class _Bounded(Generic[K, V]):
    """Least recently stored first out, past `size` entries or `budget` orders in all."""

    def __init__(self, size: int, budget: int) -> None:
        self._size = size
        self._budget = budget
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.weight = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        held = self._items.get(key)
        return held[0] if held is not None else None

    def put(self, key: K, value: V, weight: int) -> None:
        self.pop(key)
        self._items[key] = (value, weight)
        self.weight += weight
        while len(self._items) > 1 and (
            len(self._items) > self._size or self.weight > self._budget
        ):
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped

    def pop(self, key: K) -> None:
        held = self._items.pop(key, None)
        if held is not None:
            self.weight -= held[1]
