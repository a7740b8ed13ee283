"""Stock moves are single UPDATEs: a take never drives a variant below zero, even in a race."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.wiring import AppDeps
from storage.models import StockItem
from tests.conftest import NOW

# Long enough for the second session's UPDATE to reach the database and wait there.
HOLD_SECONDS = 0.3


def variant(sku: str, available: int, group: str = "TS-COT", **fields: object) -> StockItem:
    values: dict[str, object] = {
        "sku": sku,
        "product_group": group,
        "name": "Cotton T-Shirt",
        "names": {"zh": "纯棉T恤"},
        "attributes": {"color": "blue", "size": sku.rsplit("-", 1)[-1]},
        "unit_price": Decimal("79.00"),
        "currency": "CNY",
        "available": available,
        "updated_at": NOW,
    }
    return StockItem(**(values | fields))


async def stock_in(deps: AppDeps, *items: StockItem) -> None:
    async with deps.uow() as uow, uow.transaction():
        for item in items:
            uow.stock.add(item)


async def available(deps: AppDeps, sku: str) -> int | None:
    async with deps.uow() as uow:
        item = await uow.stock.get(sku)
        return None if item is None else item.available


async def take(deps: AppDeps, sku: str, quantity: int) -> bool:
    async with deps.uow() as uow, uow.transaction():
        return await uow.stock.take(sku, quantity)


async def release(deps: AppDeps, sku: str, quantity: int) -> bool:
    async with deps.uow() as uow, uow.transaction():
        return await uow.stock.release(sku, quantity)


async def test_take_reserves_units_and_refuses_more_than_are_free(deps: AppDeps) -> None:
    await stock_in(deps, variant("TS-COT-BLUE-L", 3))

    assert await take(deps, "TS-COT-BLUE-L", 2)
    assert not await take(deps, "TS-COT-BLUE-L", 2)
    assert await available(deps, "TS-COT-BLUE-L") == 1
    assert await take(deps, "TS-COT-BLUE-L", 1)
    assert not await take(deps, "TS-COT-BLUE-L", 1)
    assert await available(deps, "TS-COT-BLUE-L") == 0


async def test_release_returns_units_even_to_a_sold_out_variant(deps: AppDeps) -> None:
    await stock_in(deps, variant("TS-COT-BLUE-XL", 0))

    assert await release(deps, "TS-COT-BLUE-XL", 2)

    assert await available(deps, "TS-COT-BLUE-XL") == 2


async def test_a_sku_without_stock_changes_nothing(deps: AppDeps) -> None:
    assert not await take(deps, "DG-EBOOK", 1)
    assert not await release(deps, "DG-EBOOK", 1)
    assert await available(deps, "DG-EBOOK") is None


@pytest.mark.parametrize("quantity", [0, -1])
async def test_a_move_needs_a_positive_quantity(deps: AppDeps, quantity: int) -> None:
    await stock_in(deps, variant("TS-COT-BLUE-L", 3))
    async with deps.uow() as uow:
        with pytest.raises(ValueError, match="at least 1"):
            await uow.stock.take("TS-COT-BLUE-L", quantity)
        with pytest.raises(ValueError, match="at least 1"):
            await uow.stock.release("TS-COT-BLUE-L", quantity)


async def test_a_variant_loaded_earlier_shows_the_databases_count(deps: AppDeps) -> None:
    """Another session sold two units after this one read the row; its count must not lie."""
    await stock_in(deps, variant("TS-COT-BLUE-L", 3))
    async with deps.uow() as uow:
        async with uow.transaction():
            loaded = await uow.stock.get("TS-COT-BLUE-L")
        assert await take(deps, "TS-COT-BLUE-L", 2)
        async with uow.transaction():
            assert await uow.stock.take("TS-COT-BLUE-L", 1)
        assert loaded is not None
        assert loaded.available == 0
        async with uow.transaction():
            assert await uow.stock.release("TS-COT-BLUE-L", 4)
        assert loaded.available == 4


async def test_two_sessions_taking_the_last_unit_cannot_both_get_it(deps: AppDeps) -> None:
    """The first holds its transaction open while the second tries: the second must wait,
    then see the unit gone. A read-then-write take would hand the unit out twice."""
    await stock_in(deps, variant("TS-COT-BLUE-L", 1))
    first_took = asyncio.Event()

    async def first() -> bool:
        async with deps.uow() as uow, uow.transaction():
            taken = await uow.stock.take("TS-COT-BLUE-L", 1)
            first_took.set()
            await asyncio.sleep(HOLD_SECONDS)
            return taken

    async def second() -> bool:
        await first_took.wait()
        return await take(deps, "TS-COT-BLUE-L", 1)

    results = await asyncio.gather(first(), second())

    assert results == [True, False]
    assert await available(deps, "TS-COT-BLUE-L") == 0


async def test_variants_are_found_by_sku_and_by_the_groups_of_skus(deps: AppDeps) -> None:
    await stock_in(
        deps,
        variant("TS-COT-BLUE-M", 4),
        variant("TS-COT-BLUE-L", 0),
        variant("BT-HP-BLUE", 5, group="BT-HP", name="Bluetooth Headphones"),
        variant("EK-17-WHITE", 8, group="EK-17", name="Electric Kettle"),
    )
    async with deps.uow() as uow:
        by_sku = await uow.stock.by_skus(["TS-COT-BLUE-M", "BT-HP-BLUE", "NO-SUCH"])
        # Any variant of a group names the whole group; an unknown sku names nothing.
        grouped = await uow.stock.variants_of(["TS-COT-BLUE-L", "BT-HP-BLUE", "NO-SUCH"])
        nothing = await uow.stock.variants_of([])
        unknown = await uow.stock.variants_of(["NO-SUCH"])

    assert sorted(by_sku) == ["BT-HP-BLUE", "TS-COT-BLUE-M"]
    assert [(item.product_group, item.sku, item.available) for item in grouped] == [
        ("BT-HP", "BT-HP-BLUE", 5),
        ("TS-COT", "TS-COT-BLUE-L", 0),
        ("TS-COT", "TS-COT-BLUE-M", 4),
    ]
    assert grouped[2].unit_price == Decimal("79.00")
    assert nothing == unknown == []


async def test_the_policy_facts_read_the_same_variants_in_their_one_query(deps: AppDeps) -> None:
    """The policy reads stock with its other facts (`PolicyFactsRepository.read`): the
    same rows, in the same order, as `variants_of`, on both databases."""
    await stock_in(
        deps,
        variant("TS-COT-BLUE-M", 4),
        variant("TS-COT-BLUE-L", 0, attributes={}),
        variant("BT-HP-BLUE", 5, group="BT-HP", name="Bluetooth Headphones"),
        variant("EK-17-WHITE", 8, group="EK-17", name="Electric Kettle"),
    )
    skus = ["TS-COT-BLUE-L", "BT-HP-BLUE", "NO-SUCH"]
    async with deps.uow() as uow:
        alone = await uow.stock.variants_of(skus)
        facts = await uow.policy_facts.read(
            order_id=0, customer_id=0, requests_since=NOW, types=[], offers_since=NOW, skus=skus
        )
        none = await uow.policy_facts.read(
            order_id=0, customer_id=0, requests_since=NOW, types=[], offers_since=NOW
        )

    fields = ("sku", "product_group", "attributes", "unit_price", "currency", "available")
    assert [tuple(getattr(row, name) for name in fields) for row in facts.stock] == [
        tuple(getattr(item, name) for name in fields) for item in alone
    ]
    assert [row.sku for row in facts.stock] == ["BT-HP-BLUE", "TS-COT-BLUE-L", "TS-COT-BLUE-M"]
    assert facts.stock[1].attributes == {}
    assert facts.stock[0].unit_price == Decimal("79.00")
    assert none.stock == []
