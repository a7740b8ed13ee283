"""What the policy engine reads about an order and its customer, in one round trip.

Every evaluation of a case (on the reason, on the offers, on the confirmation, and the
CLI's policy check) needs what the order was kept with, what earlier requests already
took back, the customer's recent requests and the offers they accepted. Four small
queries cost four hand-offs to the database driver each time; one UNION ALL of them
costs one. Each part fills its own columns and leaves the others NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OfferStatus, OfferType, RequestStatus
from storage.models import MERCHANT_REQUEST_PREFIX, CancellationItem, CancellationRequest, Offer
from storage.repositories.refunds import KeptWith, kept_with_union
from storage.types import UtcDateTime

_KEPT_PARTS = (0, 1)  # refunds, then vouchers (`kept_with_union`)
_TAKEN, _REQUESTED, _ACCEPTED = 2, 3, 4


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """The rows behind the engine's facts about one order and its customer."""

    kept_with: list[KeptWith]  # refunds first, then vouchers, each oldest first
    taken: dict[int, int]  # item id -> quantity in requests not denied or withdrawn
    request_times: list[datetime]  # the customer's own requests since `requests_since`
    accepted: list[tuple[OfferType, datetime]]  # offers of `types` accepted since


def _columns(kind: int, **filled: Any) -> list[Any]:
    """One part's columns in the union's order: its own, NULL for the others'."""
    return [literal(kind), *(filled.get(name, null()) for name in _COLUMNS)]


_COLUMNS = ("ordinal", "amount", "currency", "code", "spent", "item_id", "quantity", "at", "type")


def _facts_query() -> Any:
    kept = kept_with_union().subquery()
    first = select(
        kept.c.part.label("kind"),
        kept.c.row.label("ordinal"),
        kept.c.amount,
        kept.c.currency,
        kept.c.code,
        kept.c.spent,
        # Typed here, in the first part: PostgreSQL resolves a union's column types from
        # left to right (two untyped NULLs make text), and SQLAlchemy reads the first.
        cast(null(), Integer()).label("item_id"),
        cast(null(), Integer()).label("quantity"),
        cast(null(), UtcDateTime()).label("at"),
        cast(null(), Offer.type.type).label("type"),
    )
    taken = (
        select(
            *_columns(
                _TAKEN,
                item_id=CancellationItem.order_item_id,
                quantity=func.sum(CancellationItem.quantity),
            )
        )
        .join(CancellationRequest, CancellationRequest.id == CancellationItem.request_id)
        .where(
            CancellationRequest.order_id == bindparam("order_id"),
            CancellationRequest.status.not_in([RequestStatus.DENIED, RequestStatus.WITHDRAWN]),
        )
        .group_by(CancellationItem.order_item_id)
    )
    requested = select(*_columns(_REQUESTED, at=CancellationRequest.created_at)).where(
        CancellationRequest.customer_id == bindparam("customer_id"),
        CancellationRequest.created_at > bindparam("requests_since"),
        CancellationRequest.idempotency_key.not_like(f"{MERCHANT_REQUEST_PREFIX}%"),
    )
    accepted = select(*_columns(_ACCEPTED, at=Offer.answered_at, type=Offer.type)).where(
        Offer.customer_id == bindparam("customer_id"),
        Offer.type.in_(bindparam("types", expanding=True)),
        Offer.status == OfferStatus.ACCEPTED,
        Offer.answered_at > bindparam("offers_since"),
    )
    return union_all(first, taken, requested, accepted).order_by(
        literal_column("kind"), literal_column("ordinal")
    )


# Built once, with bound parameters: every evaluation asks.
_FACTS = _facts_query()


class PolicyFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def read(
        self,
        *,
        order_id: int,
        customer_id: int,
        requests_since: datetime,
        types: Sequence[OfferType],
        offers_since: datetime,
    ) -> PolicyFacts:
        params = {
            "order_id": order_id,
            "customer_id": customer_id,
            "requests_since": requests_since,
            "types": list(types),
            "offers_since": offers_since,
        }
        facts = PolicyFacts([], {}, [], [])
        rows = await self._session.execute(_FACTS, params)
        for kind, _, amount, currency, code, spent, item_id, quantity, at, offer_type in rows:
            if kind in _KEPT_PARTS:
                facts.kept_with.append(KeptWith(amount, currency, code, bool(spent)))
            elif kind == _TAKEN:
                facts.taken[item_id] = int(quantity)
            elif kind == _REQUESTED:
                facts.request_times.append(at)
            elif at is not None:
                facts.accepted.append((offer_type, at))
        return facts
