"""Stock levels of sellable variants, and the atomic moves of units in and out of them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from storage.models import StockItem


def variants_clause() -> ColumnElement[bool]:
    """Every variant of the product groups the bound `skus` belong to: what
    `variants_of` reads, and the policy's facts with it (`PolicyFactsRepository`)."""
    return StockItem.product_group.in_(
        select(StockItem.product_group).where(StockItem.sku.in_(bindparam("skus", expanding=True)))
    )


# Built once, with bound parameters: every evaluation of a case reads the stock.
_BY_SKUS = select(StockItem).where(StockItem.sku.in_(bindparam("skus", expanding=True)))
_VARIANTS_OF = (
    select(StockItem).where(variants_clause()).order_by(StockItem.product_group, StockItem.sku)
)


class StockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, sku: str) -> StockItem | None:
        return await self._session.get(StockItem, sku)

    async def by_skus(self, skus: Collection[str]) -> dict[str, StockItem]:
        if not skus:
            return {}
        rows = await self._session.scalars(_BY_SKUS, {"skus": list(skus)})
        return {item.sku: item for item in rows}

    async def variants_of(self, skus: Collection[str]) -> list[StockItem]:
        """Every variant of the product groups these skus belong to, sold out or not, by
        group then sku: one query (the groups are a subquery)."""
        if not skus:
            return []
        return list(await self._session.scalars(_VARIANTS_OF, {"skus": list(skus)}))

    def add(self, item: StockItem) -> None:
        self._session.add(item)

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many variants (column -> value) in one statement, for bulk loads."""
        if rows:
            await self._session.execute(insert(StockItem), list(rows))

    async def take(self, sku: str, quantity: int) -> bool:
        """Reserve `quantity` units; False, and nothing taken, unless that many are free.

        The check and the decrement are one UPDATE, so two sessions taking the last unit
        cannot both succeed: the database makes the second wait and re-check the row.
        """
        _check_quantity(quantity)
        return await self._move(sku, -quantity, StockItem.available >= quantity)

    async def release(self, sku: str, quantity: int) -> bool:
        """Put `quantity` units back (a cancelled or returned item); False if the sku has no stock.

        An increment in SQL rather than read-add-write, so no concurrent change is lost.
        """
        _check_quantity(quantity)
        return await self._move(sku, quantity)

    async def _move(self, sku: str, change: int, *guards: ColumnElement[bool]) -> bool:
        """Add `change` to the variant's units in one statement; True if its row matched.

        A variant already loaded in this session gets the count the database returns:
        the ORM would compute it from the value last read, which another transaction
        may have changed since.
        """
        row = (
            await self._session.execute(
                update(StockItem)
                .where(StockItem.sku == sku, *guards)
                .values(available=StockItem.available + change)
                .returning(StockItem.available, StockItem.updated_at)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            return False
        loaded = self._session.identity_map.get(self._session.identity_key(StockItem, sku))
        if loaded is not None:
            set_committed_value(loaded, "available", row.available)
            set_committed_value(loaded, "updated_at", row.updated_at)
        return True


def _check_quantity(quantity: int) -> None:
    """A zero or negative move would turn a take into a release, or do nothing and succeed."""
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, got {quantity}")
