"""Orders, their items, and which orders a Telegram user may see."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import aggregate_strings

from storage.enums import OrderStatus
from storage.models import (
    CancellationItem,
    CancellationRequest,
    Customer,
    GuestAccess,
    Order,
    OrderItem,
)
from storage.types import RAW, StoredTimes, dict_from_raw, utc_from_raw

S = TypeVar("S")


class OrderForMatching(NamedTuple):
    """One order as order matching compares it (`OrderNumbers` and `OrderDescription`
    are how the repository reads the same for many orders)."""

    order_id: int
    number: str
    names: tuple[str, ...]  # every item's name and every translation of it
    attributes: tuple[str, ...]  # attribute values of its items: "blue", "M"
    placed_at: datetime


class OrderNumbers(NamedTuple):
    """The id, number and date of each order a user may see, as columns
    (`OrderRepository.candidate_rows`): read for thousands of orders at once, where an
    object per order cost more Python than the query."""

    ids: Sequence[int]
    numbers: Sequence[str]
    placed_at: Sequence[datetime]  # each decoded when read (`StoredTimes`)


class OrderDescription(NamedTuple):
    """An order's items as matching reads them (`OrderRepository.candidate_descriptions`)."""

    names: tuple[str, ...]
    attributes: tuple[str, ...]


class CandidateVersion(NamedTuple):
    """A fingerprint of the orders a user may see (`OrderRepository.candidate_version`)."""

    orders: int
    id_sum: int
    last_change: datetime | None


class CandidateRows(NamedTuple):
    """The orders a user may see as matching first reads them, and their fingerprint."""

    orders: OrderNumbers
    version: CandidateVersion  # what `candidate_version` gives for these same orders


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: int) -> Order | None:
        return await self._session.get(Order, order_id)

    async def get_for_update(self, order_id: int) -> Order | None:
        """Lock the order row (PostgreSQL), so two refunds of it are decided in turn."""
        return await self._session.scalar(
            select(Order).where(Order.id == order_id).with_for_update()
        )

    async def by_number(self, number: str) -> Order | None:
        return await self._session.scalar(select(Order).where(Order.number == number))

    async def by_number_for_update(self, number: str) -> Order | None:
        """Lock the order row (PostgreSQL) while its status changes."""
        return await self._session.scalar(
            select(Order).where(Order.number == number).with_for_update()
        )

    async def by_numbers(self, numbers: Sequence[str]) -> dict[str, Order]:
        if not numbers:
            return {}
        rows = await self._session.scalars(select(Order).where(Order.number.in_(numbers)))
        return {order.number: order for order in rows}

    async def for_customer(self, customer_id: int, limit: int | None = None) -> Sequence[Order]:
        """The customer's orders, newest first."""
        query = (
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return (await self._session.scalars(query)).all()

    async def visible_to(
        self, telegram_user_id: int, customer_id: int | None, now: datetime
    ) -> Sequence[Order]:
        """Orders this Telegram user may see, newest first."""
        params = viewer(telegram_user_id, customer_id, now)
        return (await self._session.scalars(_VISIBLE_TO.on(self._session), params)).all()

    async def open_to(
        self,
        telegram_user_id: int,
        customer_id: int | None,
        now: datetime,
        closed: Collection[OrderStatus],
    ) -> Sequence[Order]:
        """Orders this user may see, with their items, newest first, but none whose status
        is in `closed` or that a cancellation request is already under way for: the
        orders a customer may still pick to cancel, in one query."""
        params = {"closed": list(closed), **viewer(telegram_user_id, customer_id, now)}
        return (await self._session.scalars(_OPEN_TO.on(self._session), params)).unique().all()

    async def candidate_rows(
        self, telegram_user_id: int, customer_id: int | None, now: datetime
    ) -> CandidateRows:
        """The id, number and date of each order this user may see, in no particular order
        (`candidate_descriptions` reads what their items are called, only for a message
        that describes an order), with their fingerprint, so a first read needs no
        `candidate_version` query.

        One indexed query that returns a single row: each column of those orders joined
        into one string (`_CANDIDATE_COLUMNS`), split here. At 2,000 orders, a row per
        order cost more in the driver and in Python than the query itself. A number that
        holds the separator, which no importer writes but the column allows, makes the
        split come out wrong in length: those orders are read again a row each."""
        params = viewer(telegram_user_id, customer_id, now)
        connection = await self._session.connection()
        count, ids, numbers, dates, last_change = (
            await connection.execute(_CANDIDATE_COLUMNS.on(self._session), params)
        ).one()
        if not count:
            return CandidateRows(
                OrderNumbers([], [], StoredTimes([])), CandidateVersion(0, 0, None)
            )
        id_list = [int(order_id) for order_id in ids.split(",")]
        number_list = numbers.split(_JOINED)
        if len(number_list) == len(id_list):
            date_list = dates.split(_JOINED)
        else:
            rows = (await connection.execute(_CANDIDATE_ROWS.on(self._session), params)).all()
            id_list = [row[0] for row in rows]
            number_list, date_list = [row[1] for row in rows], [row[2] for row in rows]
        orders = OrderNumbers(id_list, number_list, StoredTimes(date_list))
        version = CandidateVersion(len(id_list), sum(id_list), utc_from_raw(last_change))
        return CandidateRows(orders, version)

    async def candidate_descriptions(
        self, telegram_user_id: int, customer_id: int | None, now: datetime
    ) -> dict[int, OrderDescription]:
        """What the items of each order this user may see are called, by order id: every
        item's name and translations, and its attribute values. An order without items
        is absent. Read as `candidate_rows` reads (plain columns, decoded here)."""
        params = viewer(telegram_user_id, customer_id, now)
        connection = await self._session.connection()
        rows = await connection.execute(_CANDIDATE_DESCRIPTIONS.on(self._session), params)
        grouped: dict[int, tuple[list[str], list[str]]] = {}
        for order_id, item_name, item_names, item_attributes in rows:
            names, attributes = grouped.setdefault(order_id, ([], []))
            names.append(item_name)
            names.extend(dict_from_raw(item_names).values())
            attributes.extend(dict_from_raw(item_attributes).values())
        return {
            order_id: OrderDescription(tuple(names), tuple(attributes))
            for order_id, (names, attributes) in grouped.items()
        }

    async def candidate_version(
        self, telegram_user_id: int, customer_id: int | None, now: datetime
    ) -> CandidateVersion:
        """What changes whenever `candidate_rows` would: how many orders this user may see,
        the sum of their ids and their latest change (an import that changes an order or
        its items moves its `updated_at`). One aggregate over the same index."""
        params = viewer(telegram_user_id, customer_id, now)
        count, id_sum, changed = (
            await self._session.execute(_CANDIDATE_VERSION.on(self._session), params)
        ).one()
        return CandidateVersion(int(count), int(id_sum), changed)

    async def visible_many(
        self,
        order_ids: Collection[int],
        telegram_user_id: int,
        customer_id: int | None,
        now: datetime,
    ) -> dict[int, Order]:
        """Those of `order_ids` this user may see, by id."""
        if not order_ids:
            return {}
        params = {"order_ids": list(order_ids), **viewer(telegram_user_id, customer_id, now)}
        rows = await self._session.scalars(_VISIBLE_MANY, params)
        return {order.id: order for order in rows.unique()}

    async def visible_one(
        self, order_id: int, telegram_user_id: int, customer_id: int | None, now: datetime
    ) -> Order | None:
        """The order, only if this Telegram user may see it."""
        params = {"order_id": order_id, **viewer(telegram_user_id, customer_id, now)}
        return (await self._session.scalars(_VISIBLE_ONE, params)).unique().first()

    async def replacements_of(self, order_id: int) -> Sequence[Order]:
        """Orders opened to replace this one (exchanges)."""
        return (
            await self._session.scalars(select(Order).where(Order.replaces_order_id == order_id))
        ).all()

    async def guest_access(self, telegram_user_id: int, order_id: int) -> GuestAccess | None:
        return await self._session.scalar(
            select(GuestAccess).where(
                GuestAccess.telegram_user_id == telegram_user_id,
                GuestAccess.order_id == order_id,
            )
        )

    def add(self, order: Order) -> None:
        self._session.add(order)

    def add_guest_access(self, access: GuestAccess) -> None:
        self._session.add(access)

    async def keys_by_numbers(self, numbers: Sequence[str]) -> dict[str, OrderKeys]:
        """Who owns each existing order and its items' ids by sku: cheap rows, no entities."""
        if not numbers:
            return {}
        rows = await self._session.execute(
            select(Order.number, Customer.external_id, OrderItem.sku, OrderItem.id)
            .join(Customer, Customer.id == Order.customer_id)
            .outerjoin(OrderItem, OrderItem.order_id == Order.id)
            .where(Order.number.in_(numbers))
        )
        found: dict[str, OrderKeys] = {}
        for number, owner, sku, item_id in rows:
            keys = found.setdefault(number, OrderKeys(number, owner, {}))
            if sku is not None:
                keys.item_ids[sku] = item_id
        return found

    async def referenced_item_ids(self, item_ids: Collection[int]) -> set[int]:
        """Those of `item_ids` that a cancellation request names, so they must not be deleted."""
        if not item_ids:
            return set()
        rows = await self._session.scalars(
            select(CancellationItem.order_item_id)
            .where(CancellationItem.order_item_id.in_(item_ids))
            .distinct()
        )
        return set(rows)

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Insert many orders (column -> value, no items) in one statement; their ids by number.

        The unit of work inserts one row per statement on SQLite, as it must read each id
        back in order; a bulk load cannot afford that.
        """
        if not rows:
            return {}
        result = await self._session.execute(
            insert(Order).returning(Order.number, Order.id), list(rows)
        )
        return {number: order_id for number, order_id in result}

    async def insert_items(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many order items (column -> value, `order_id` included) in one statement."""
        if rows:
            await self._session.execute(insert(OrderItem), list(rows))


class OrderKeys(NamedTuple):
    """An order's identity for import checks: its number, owner and item ids by sku."""

    number: str
    owner_external_id: str
    item_ids: dict[str, int]


def _granted(column: Any) -> Select[Any]:
    """`column` over the orders a guest verified, while their access lasts."""
    return select(column).where(
        GuestAccess.telegram_user_id == bindparam("viewer"),
        GuestAccess.expires_at > bindparam("now"),
    )


def visible_clause() -> ColumnElement[bool]:
    """Who may see an order: its linked customer, or a guest who verified it and whose
    access has not expired. Every query that shows or acts on an order found by its id
    uses this, with the viewer's parameters from `viewer` (a guest's `viewer_customer`
    is NULL, which equals no order's customer). Queries of all the orders a viewer may
    see use `_Listing`."""
    return or_(
        Order.id.in_(_granted(GuestAccess.order_id)),
        Order.customer_id == bindparam("viewer_customer"),
    )


def listed_clause() -> ColumnElement[bool]:
    """`visible_clause` for PostgreSQL, in a query that has nothing else to find the
    orders by. There, an IN over a subquery cannot join a bitmap OR, so the OR read the
    whole orders table; the guest's order ids are read first instead, as one array (an
    InitPlan, run once), and both sides of the OR are index lookups. (SQLite looks both
    branches of `visible_clause` up in their indexes as it is.)"""
    granted = _granted(func.array_agg(GuestAccess.order_id))
    return or_(
        Order.customer_id == bindparam("viewer_customer"),
        # The cast makes it an array value: `= ANY (SELECT ...)` alone would be an IN.
        Order.id == func.any(cast(granted.scalar_subquery(), ARRAY(Integer))),
    )


def viewer(telegram_user_id: int, customer_id: int | None, now: datetime) -> dict[str, Any]:
    return {"viewer": telegram_user_id, "viewer_customer": customer_id, "now": now}


@dataclass(frozen=True, slots=True)
class _Listing(Generic[S]):
    """A statement over all the orders a viewer may see, built once for each form of
    the visibility test: SQLite's (`visible_clause`) and PostgreSQL's (`listed_clause`)."""

    sqlite: S
    postgresql: S

    @classmethod
    def of(cls, build: Callable[[ColumnElement[bool]], S]) -> _Listing[S]:
        return cls(build(visible_clause()), build(listed_clause()))

    @classmethod
    def of_each(cls, build: Callable[[ColumnElement[bool], str], S]) -> _Listing[S]:
        """`of` for a statement that differs by more than the visibility test: `build`
        also gets the dialect's name."""
        return cls(build(visible_clause(), "sqlite"), build(listed_clause(), "postgresql"))

    def on(self, session: AsyncSession) -> S:
        return self.sqlite if session.get_bind().dialect.name == "sqlite" else self.postgresql


# Built once, with bound parameters: order lookups run on most steps of a conversation,
# and building these statements costs more Python than running them.
_VISIBLE_TO = _Listing.of(
    lambda visible: select(Order).where(visible).order_by(Order.placed_at.desc(), Order.id)
)
_OPEN_TO = _Listing.of(
    lambda visible: (
        select(Order)
        .options(joinedload(Order.items))
        .where(
            visible,
            Order.status.not_in(bindparam("closed", expanding=True)),
            ~exists().where(
                CancellationRequest.order_id == Order.id, CancellationRequest.is_active.is_(True)
            ),
        )
        .order_by(Order.placed_at.desc(), Order.id)
    )
)
# What matching reads of every order a viewer may see. Their timestamp and JSON columns
# are read as the driver gives them (`RAW`, or as text) and decoded by the repository:
# SQLAlchemy's per-value processing of them took three quarters of the query's time at
# 2,000 orders, and most item JSON is an empty object.
_JOINED = "\x1f"
"""What `_CANDIDATE_COLUMNS` joins values with: ASCII's unit separator."""


def _placed_as_text(dialect: str) -> ColumnElement[str]:
    """`Order.placed_at` as SQLite stores it, "2026-11-23 10:00:00.000000" (naive UTC),
    which `utc_from_raw` reads: as stored on SQLite, formatted so on PostgreSQL."""
    if dialect == "sqlite":
        return type_coerce(Order.placed_at, String)
    utc = func.timezone("UTC", Order.placed_at)
    return func.to_char(utc, "YYYY-MM-DD HH24:MI:SS.US", type_=String)


def _candidate_columns(
    visible: ColumnElement[bool], dialect: str
) -> Select[int, str | None, str | None, str | None, Any]:
    """One row: how many orders the viewer may see, then their ids, numbers and dates,
    each column joined into one string, and their latest change. The aggregates of one
    query take the same rows in the same order, so the n-th value of each column is the
    same order's; in no particular order (matching ranks by score, then date, then id).
    Read from `ix_orders_customer_listing` alone on SQLite (a covering index)."""
    return select(
        func.count(Order.id),
        aggregate_strings(cast(Order.id, String), ","),
        aggregate_strings(Order.number, _JOINED),
        aggregate_strings(_placed_as_text(dialect), _JOINED),
        func.max(type_coerce(Order.updated_at, RAW)),
    ).where(visible)


_CANDIDATE_COLUMNS = _Listing.of_each(_candidate_columns)
_CANDIDATE_ROWS = _Listing.of_each(
    lambda visible, dialect: select(Order.id, Order.number, _placed_as_text(dialect)).where(visible)
)
_CANDIDATE_DESCRIPTIONS = _Listing.of(
    lambda visible: (
        select(
            OrderItem.order_id,
            OrderItem.name,
            type_coerce(OrderItem.names, RAW),
            type_coerce(OrderItem.attributes, RAW),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(visible)
        .order_by(OrderItem.order_id, OrderItem.id)
    )
)
_CANDIDATE_VERSION = _Listing.of(
    lambda visible: select(
        func.count(Order.id), func.coalesce(func.sum(Order.id), 0), func.max(Order.updated_at)
    ).where(visible)
)
# With their items in the same query (a join), not a second one as `Order.items` loads
# them by itself: the orders named back by matching, and a step's order.
_VISIBLE_MANY = (
    select(Order)
    .options(joinedload(Order.items))
    .where(Order.id.in_(bindparam("order_ids", expanding=True)), visible_clause())
)
_VISIBLE_ONE = (
    select(Order)
    .options(joinedload(Order.items))
    .where(Order.id == bindparam("order_id"), visible_clause())
)
