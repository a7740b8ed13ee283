"""The index order matching reads is shared by a customer's cases while their orders
stay the same, and read again as soon as what they may see changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.cancellation.candidates import CaseCandidates
from bot.services.cancellation.cases import Found
from bot.services.cancellation.matching import CandidateIndex, OrderCandidate
from bot.services.domain.clock import FixedClock
from bot.services.linking.identity import Identity, Sender
from bot.wiring import AppDeps
from storage.repositories.orders import CandidateVersion, OrderRepository
from tests.api.support import customer, item, link, load, order
from tests.conftest import NOW

ANN = 7001


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen")],
        orders=[
            order("SO-1000001", "C001", item("TS", "99.00")),
            order("SO-1000002", "C001", item("MUG", "100.00")),
            order("SO-5557779", "C002", item("HAT", "50.00")),
        ],
    )
    await link(deps, "C001", ANN)
    return deps


def _count_calls(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """One entry per call of `OrderRepository.<method>` (which still runs)."""
    counted: list[int] = []
    original = getattr(OrderRepository, method)

    async def counting(self: OrderRepository, *args: object) -> object:
        counted.append(1)
        return await original(self, *args)

    monkeypatch.setattr(OrderRepository, method, counting)
    return counted


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per time the orders' rows were read for matching."""
    return _count_calls(monkeypatch, "candidate_rows")


@pytest.fixture
def fingerprints(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per `candidate_version` query."""
    return _count_calls(monkeypatch, "candidate_version")


async def guess(deps: AppDeps, text: str) -> tuple[Found, list[str]]:
    """A new case of Ann's, and one guess in it."""
    async with deps.uow() as uow:
        services = deps.services(uow)
        identity: Identity = await services.identity.resolve(
            Sender(user_id=ANN, chat_id=ANN, first_name="Ann")
        )
        case_id = await services.cases.start(identity)
        await uow.commit()
        found = await services.cases.identify(identity, case_id, text)
        await uow.commit()
    return found.found, [view.number for view in found.orders]


async def test_a_new_case_reuses_the_index_while_the_orders_are_the_same(
    shop: AppDeps, reads: list[int]
) -> None:
    assert await guess(shop, "SO-100001") == (Found.CONFIDENT, ["SO-1000001"])
    assert await guess(shop, "SO-1000002") == (Found.EXACT, ["SO-1000002"])
    assert len(reads) == 1  # the second case matched on the first case's index


async def test_only_a_viewer_with_an_index_asks_for_the_fingerprint(
    shop: AppDeps, reads: list[int], fingerprints: list[int]
) -> None:
    """The first read brings its own fingerprint; later cases ask only for that."""
    assert await guess(shop, "SO-1000001") == (Found.EXACT, ["SO-1000001"])
    assert (len(reads), len(fingerprints)) == (1, 0)
    assert await guess(shop, "SO-1000002") == (Found.EXACT, ["SO-1000002"])
    assert (len(reads), len(fingerprints)) == (1, 1)


@pytest.fixture
def descriptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per time the items' names were read for matching."""
    return _count_calls(monkeypatch, "candidate_descriptions")


async def test_what_items_are_called_is_read_once_and_only_for_a_description(
    shop: AppDeps, reads: list[int], descriptions: list[int]
) -> None:
    """A typed number needs the numbers only; the first description reads the items'
    names into the index, which later cases of the same customer reuse."""
    assert await guess(shop, "SO-100001") == (Found.CONFIDENT, ["SO-1000001"])
    assert (len(reads), len(descriptions)) == (1, 0)
    assert await guess(shop, "the mug") == (Found.CONFIDENT, ["SO-1000002"])
    assert await guess(shop, "my mug please") == (Found.CONFIDENT, ["SO-1000002"])
    assert await guess(shop, "SO-1000001 t-shirt") == (Found.EXACT, ["SO-1000001"])
    assert (len(reads), len(descriptions)) == (1, 1)


async def test_a_new_order_is_found_by_the_next_case(shop: AppDeps, reads: list[int]) -> None:
    assert await guess(shop, "SO-1000001") == (Found.EXACT, ["SO-1000001"])
    await load(shop, orders=[order("SO-1000003", "C001", item("CUP", "20.00"))])

    assert await guess(shop, "SO-1000003") == (Found.EXACT, ["SO-1000003"])
    assert len(reads) == 2


async def test_a_changed_order_is_read_again(shop: AppDeps, reads: list[int]) -> None:
    assert await guess(shop, "mug") == (Found.CONFIDENT, ["SO-1000002"])
    assert isinstance(shop.clock, FixedClock)
    shop.clock.set(NOW + timedelta(minutes=5))  # the next import, a little later
    await load(shop, orders=[order("SO-1000002", "C001", item("KETTLE", "100.00"))])

    assert await guess(shop, "kettle") == (Found.CONFIDENT, ["SO-1000002"])
    assert len(reads) == 2


async def test_another_customers_orders_are_never_in_the_index(
    shop: AppDeps, reads: list[int]
) -> None:
    assert await guess(shop, "SO-1000001") == (Found.EXACT, ["SO-1000001"])
    assert (await guess(shop, "SO-5557779"))[1] == []


def _index(orders: int) -> CandidateIndex:
    return CandidateIndex(
        [OrderCandidate(n, f"SO-{1_000_000 + n}", ("Mug",), ("blue",), NOW) for n in range(orders)]
    )


def test_the_cache_drops_the_oldest_indexes_past_its_budget_of_orders() -> None:
    cache = CaseCandidates(size=100, orders=250)
    version = CandidateVersion(1, 1, NOW)
    for viewer in range(4):  # 100 orders each: the third passes the budget
        cache.put(case_id=viewer, user_id=viewer, index=_index(100))
        cache.put_for_viewer(viewer, None, version, _index(100))

    assert [cache.get(n, n) is not None for n in range(4)] == [False, False, True, True]
    assert [cache.for_viewer(n, None, version) is not None for n in range(4)] == [
        False,
        False,
        True,
        True,
    ]
    assert cache.held == (4, 400)


def test_the_cache_keeps_the_newest_index_even_alone_over_budget_and_counts_replacements() -> None:
    cache = CaseCandidates(size=100, orders=50)
    cache.put(case_id=1, user_id=1, index=_index(80))
    assert cache.get(1, 1) is not None  # one customer with many orders still gets a cache
    cache.put(case_id=1, user_id=1, index=_index(30))  # the same case, indexed again
    assert cache.held == (1, 30)
    cache.forget(1, 1)
    assert cache.held == (0, 0)
