"""What the policy engine reads about an order and its customer, in one round trip.

Every evaluation of a case (on the reason, on the offers, on the confirmation, and the
CLI's policy check) needs what the order was kept with, what earlier requests already
took back, the customer's recent requests and the offers they accepted, the stock of
the order's products (for exchanges) and the offers the case shows now (so the same
ones are shown again). Six small queries cost six hand-offs to the database driver
each time; one UNION ALL of them costs one. Each part fills its own columns and leaves
the others NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    String,
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
from storage.models import (
    MERCHANT_REQUEST_PREFIX,
    CancellationItem,
    CancellationRequest,
    Offer,
    StockItem,
)
from storage.repositories.cases import shown_clause
from storage.repositories.refunds import KeptWith, kept_with_union
from storage.repositories.stock import variants_clause
from storage.types import UtcDateTime

_KEPT_PARTS = (0, 1)  # refunds, then vouchers (`kept_with_union`)
_TAKEN, _REQUESTED, _ACCEPTED, _STOCK, _SHOWN = 2, 3, 4, 5, 6


class StockRow(NamedTuple):
    """One variant's stock, as `StockRepository.variants_of` reads it (named alike)."""

    sku: str
    product_group: str
    attributes: dict[str, str]
    unit_price: Decimal
    currency: str
    available: int


class ShownOffer(NamedTuple):
    """An offer of the case still shown, as `OfferRepository.shown_for_case` reads it
    (named alike)."""

    id: int
    type: OfferType
    value: Decimal
    currency: str
    percent: Decimal | None
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """The rows behind the engine's facts about one order and its customer."""

    kept_with: list[KeptWith]  # refunds first, then vouchers, each oldest first
    taken: dict[int, int]  # item id -> quantity in requests not denied or withdrawn
    request_times: list[datetime]  # the customer's own requests since `requests_since`
    accepted: list[tuple[OfferType, datetime]]  # offers of `types` accepted since
    stock: list[StockRow] = field(default_factory=list)
    """Every variant of the product groups of `skus`, by sku (`variants_of`)."""
    shown: list[ShownOffer] = field(default_factory=list)
    """The offers of `case_id` still shown, oldest first."""


def _columns(kind: int, **filled: Any) -> list[Any]:
    """One part's columns in the union's order: its own, NULL for the others'."""
    return [literal(kind), *(filled.get(name, null()) for name in _COLUMNS)]


_COLUMNS = (
    "ordinal",
    "amount",
    "currency",
    "code",
    "spent",
    "item_id",
    "quantity",
    "at",
    "type",
    "grp",
    "attributes",
    "percent",
)


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
        cast(null(), String()).label("grp"),
        cast(null(), StockItem.attributes.type).label("attributes"),
        cast(null(), Offer.percent.type).label("percent"),
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
    stock = select(
        *_columns(
            _STOCK,
            code=StockItem.sku,
            grp=StockItem.product_group,
            amount=StockItem.unit_price,
            currency=StockItem.currency,
            quantity=StockItem.available,
            attributes=StockItem.attributes,
        )
    ).where(variants_clause())
    shown = select(
        *_columns(
            _SHOWN,
            ordinal=Offer.id,
            type=Offer.type,
            amount=Offer.value,
            currency=Offer.currency,
            percent=Offer.percent,
            attributes=Offer.params,
        )
    ).where(shown_clause())
    # By sku within a part that has no ordinal (the stock): a group's variants in the
    # same order as `variants_of` gives them.
    return union_all(first, taken, requested, accepted, stock, shown).order_by(
        literal_column("kind"), literal_column("ordinal"), literal_column("code")
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
        skus: Sequence[str] = (),
        case_id: int | None = None,
    ) -> PolicyFacts:
        """`skus`: the order's items, whose product groups' stock is read too; `case_id`:
        the case whose offers still shown are read too."""
        params = {
            "order_id": order_id,
            "customer_id": customer_id,
            "requests_since": requests_since,
            "types": list(types),
            "offers_since": offers_since,
            "skus": list(skus),
            "case_id": case_id,
        }
        facts = PolicyFacts([], {}, [], [])
        rows = await self._session.execute(_FACTS, params)
        for row in rows:
            kind, _, amount, currency, code, spent, item_id, quantity, at, offer_type = row[:10]
            if kind == _STOCK:
                facts.stock.append(StockRow(code, row[10], row[11], amount, currency, quantity))
            elif kind == _SHOWN:
                shown = ShownOffer(row[1], offer_type, amount, currency, row[12], row[11])
                facts.shown.append(shown)
            elif kind in _KEPT_PARTS:
                facts.kept_with.append(KeptWith(amount, currency, code, bool(spent)))
            elif kind == _TAKEN:
                facts.taken[item_id] = int(quantity)
            elif kind == _REQUESTED:
                facts.request_times.append(at)
            elif at is not None:
                facts.accepted.append((offer_type, at))
        return facts
