"""The orders a case's customer may mean, kept for the case while it is being identified.

Order matching needs a few columns of each of the customer's orders, not the orders:
they are read in one indexed query (`OrderRepository.candidate_rows`), turned into the
matcher's index (numbers and descriptions normalised once) and kept here, per case, so a
customer who types three guesses costs one query and one index. The orders named back
to the customer are loaded afresh, with their visibility checked again, so a stale entry
can only offer an order that is then refused as not found; entries expire after a few
minutes and the cache holds a bounded number of cases.

A new case of the same customer reuses their last index when nothing they may see has
changed since it was built: one aggregate query (`OrderRepository.candidate_version`)
instead of reading and indexing every order again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from bot.services.cancellation.matching import CandidateIndex, OrderCandidate
from storage.repositories.orders import CandidateRow, CandidateVersion

TTL_SECONDS = 300.0
MAX_CASES = 2048


class CaseCandidates:
    """Process-wide, built once (ServiceConfig); keyed by case and Telegram user."""

    def __init__(self, ttl: float = TTL_SECONDS, size: int = MAX_CASES) -> None:
        self._ttl = ttl
        self._size = size
        self._entries: OrderedDict[tuple[int, int], tuple[float, CandidateIndex]] = OrderedDict()
        self._viewers: OrderedDict[
            tuple[int, int | None], tuple[CandidateVersion, CandidateIndex]
        ] = OrderedDict()

    def get(self, case_id: int, user_id: int) -> CandidateIndex | None:
        entry = self._entries.get((case_id, user_id))
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, case_id: int, user_id: int, index: CandidateIndex) -> None:
        self._entries[(case_id, user_id)] = (time.monotonic(), index)
        self._entries.move_to_end((case_id, user_id))
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, case_id: int, user_id: int) -> None:
        self._entries.pop((case_id, user_id), None)

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
        self._viewers[(user_id, customer_id)] = (version, index)
        self._viewers.move_to_end((user_id, customer_id))
        while len(self._viewers) > self._size:
            self._viewers.popitem(last=False)


def candidates_of(rows: Sequence[CandidateRow]) -> list[OrderCandidate]:
    """Group the query's rows (one per item, orders newest first) into candidates."""
    grouped: dict[int, tuple[CandidateRow, list[str], list[str]]] = {}
    for row in rows:
        entry = grouped.get(row.order_id)
        if entry is None:
            entry = grouped[row.order_id] = (row, [], [])
        if row.item_name is not None:
            entry[1].extend((row.item_name, *(row.item_names or {}).values()))
            entry[2].extend((row.item_attributes or {}).values())
    return [
        OrderCandidate(row.order_id, row.number, tuple(names), tuple(attributes), row.placed_at)
        for row, names, attributes in grouped.values()
    ]
