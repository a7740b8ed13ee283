"""The cancellation conversation end to end: the real bot, a fake Telegram, a tiny shop.

Each test builds exactly the shop it needs with `Scenario` (customers, orders and stock
loaded through the real `Importer`, dates relative to `NOW`), links a simulated person
to one of its customers by sharing their contact (`Scenario.link`, which returns a
`Chat`, see chat.py), walks the dialog like that person would, and reads the database
(rows.py).

When to read the database: `Chat.press` returns once the bot answered the callback
query, which it does only after the handler returned (its transactions committed), and
the services commit before the bot sends the message that follows; so once a test has
seen the answer it waited for, what led to it is stored. Where the bot still writes
after its last message, `settle` stops it gracefully first (updates in flight finish,
the notifier ends its sends). Nothing sleeps and nothing is timed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import pytest

from bot.channels.telegram import BotServer
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from bot.services.imports.importer import Importer, ImportSource
from bot.services.imports.records import (
    CustomerRecord,
    ImportFile,
    OrderItemRecord,
    OrderRecord,
    StockRecord,
)
from bot.wiring import AppDeps, build_bot, build_deps
from tests.conftest import NOW
from tests.e2e.cancellation.chat import Chat
from tests.e2e.conftest import stop_bot
from tests.support.fake_telegram import FakeTelegram

AUTO: Any = object()  # "derive it from the order's status"


# -- time -------------------------------------------------------------------------------------


def ago(*, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours, minutes=minutes)


def ahead(*, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours, minutes=minutes)


# -- the shop -----------------------------------------------------------------------------------


def item(
    name: str,
    price: str,
    *,
    zh: str | None = None,
    sku: str | None = None,
    category: str = "electronics",
    quantity: int = 1,
    returnable: bool = True,
    activated: bool = False,
    **attributes: str,
) -> OrderItemRecord:
    """One order line; the sku defaults to the name in capitals."""
    return OrderItemRecord(
        sku=sku or name.upper().replace(" ", "-")[:40],
        name=name,
        names={"zh": zh} if zh else {},
        attributes=attributes,
        category=category,  # type: ignore[arg-type]
        quantity=quantity,
        unit_price=Decimal(price),
        returnable=returnable,
        activated=activated,
    )


@dataclass
class Scenario:
    """Customers, orders and stock for one test, loaded through the real importer, and
    the people (`link`) who talk about them to the running bot."""

    deps: AppDeps
    fake: FakeTelegram
    server: BotServer
    _customers: list[CustomerRecord] = field(default_factory=list)
    _orders: list[OrderRecord] = field(default_factory=list)
    _stock: list[StockRecord] = field(default_factory=list)
    _count: int = 0

    def customer(
        self,
        name: str = "Ann Lee",
        *,
        tier: Literal["regular", "vip"] = "regular",
        locale: Literal["en", "zh"] | None = None,
    ) -> CustomerRecord:
        self._count += 1
        record = CustomerRecord(
            id=f"C{self._count:03d}",
            name=name,
            phone=f"+86 138 0000 {self._count:04d}",
            tier=tier,  # type: ignore[arg-type]
            locale=locale,
        )
        self._customers.append(record)
        return record

    def order(
        self,
        customer: CustomerRecord,
        number: str,
        *items: OrderItemRecord,
        status: str = "paid",
        payment: str = "card",
        shipping: str = "10.00",
        currency: str = "CNY",
        placed: datetime | None = None,
        paid: datetime | None = AUTO,
        shipped: datetime | None = None,
        delivered: datetime | None = None,
        service: datetime | None = None,
        promised: date | None = None,
    ) -> OrderRecord:
        """An order whose timeline follows from its status unless given: paid an hour after
        it was placed, shipped a day before delivery, delivered two days ago."""
        if status == "delivered":
            delivered = delivered or ago(days=2)
            shipped = shipped or delivered - timedelta(days=1)
        elif status == "shipped":
            shipped = shipped or ago(days=2)
        start = shipped or NOW
        placed = placed or min(start - timedelta(days=1), ago(hours=3))
        if paid is AUTO:
            paid = None if status == "pending_payment" else placed + timedelta(hours=1)
        record = OrderRecord(
            number=number,
            customer_id=customer.id,
            status=status,  # type: ignore[arg-type]
            currency=currency,
            payment_method=payment,  # type: ignore[arg-type]
            shipping_fee=Decimal(shipping),
            placed_at=placed,
            paid_at=paid,
            shipped_at=shipped,
            delivered_at=delivered,
            service_at=service,
            promised_delivery_date=promised,
            items=list(items),
        )
        self._orders.append(record)
        return record

    def variant(
        self,
        sku: str,
        group: str,
        name: str,
        price: str,
        *,
        available: int,
        currency: str = "CNY",
        **attributes: str,
    ) -> StockRecord:
        """A sellable variant: exchanges offer another one of the same group and price."""
        record = StockRecord(
            sku=sku,
            group=group,
            name=name,
            attributes=attributes,
            unit_price=Decimal(price),
            currency=currency,
            available=available,
        )
        self._stock.append(record)
        return record

    async def load(self) -> None:
        """Import what was added since the last load (earlier records are left alone)."""
        file = ImportFile(customers=self._customers, orders=self._orders, stock=self._stock)
        report = await Importer(self.deps.session_factory, self.deps.clock).load(
            ImportSource.from_import_file(file, name="scenario")
        )
        assert report.ok, [str(error) for error in report.errors]
        self._customers, self._orders, self._stock = [], [], []

    async def link(
        self, customer: CustomerRecord, lang: str = "en", *, user_id: int | None = None
    ) -> Chat:
        """A Telegram account for `customer`, linked by sharing its own contact."""
        number = int(customer.id.removeprefix("C"))
        person = self.fake.user(
            user_id or 7000 + number,
            customer.name.split()[0],
            language_code=lang,
            phone=customer.phone,
        )
        chat = Chat(person, customer.locale or lang, customer, self.deps, self.server)
        await person.share_contact()
        await chat.expect_text("link/linked", name=customer.name)
        await chat.expect_text("menu/main")
        return chat


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def bot(
    deps: AppDeps, settings: Settings, fake: FakeTelegram, clock: FixedClock
) -> AsyncIterator[BotServer]:
    """The real bot, built by `bot.wiring` like `start_bot` does, polling the fake Telegram,
    on an empty database (no demo shop: `Scenario` loads what a test needs).

    Its session is the fake's loopback one, which closes without aiogram's 250 ms TLS
    grace sleep; everything else is production wiring.
    """
    configured = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{**settings.model_dump(), "telegram_api_base": fake.base_url},
    )
    server = BotServer(
        build_deps(configured, clock=clock), build_bot(configured, session=fake.session())
    )
    await server.start()
    yield server
    await stop_bot(server)


@pytest.fixture
def scenario(deps: AppDeps, fake: FakeTelegram, bot: BotServer) -> Scenario:
    return Scenario(deps, fake, bot)


@pytest.fixture(params=["en", "zh"])
def lang(request: pytest.FixtureRequest) -> str:
    """Run the test in English and in Chinese."""
    return str(request.param)


async def settle(server: BotServer) -> None:
    """Stop the bot gracefully: updates in flight finish and the notifier's sends end, so
    the database holds everything the conversation did."""
    await stop_bot(server)
