"""A built-in demo shop: customers and orders whose dates are set relative to "now", and stock.

Whenever it is loaded, the interesting cases stay interesting: an order delivered
7 days ago is still just inside a 7-day window, a booking is still 12 hours away.
A handful of hand-written customers (see `DEMO_HIGHLIGHTS`) carry those cases; the
rest of the orders are drawn from a seeded random generator, so the set is the
same for a seed and differs only in its dates from one "now" to another.

Stock covers the goods worth exchanging (clothes, shoes, headphones, the kettle).
Orders and stock derive a variant's sku the same way, and a product's catalog sku
is its stock group, so every ordered size or colour finds its siblings.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import product as cartesian
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.cancellation.requests import move_request, new_request, whole_order
from bot.services.conversation.surveys import ticket_subject
from bot.services.domain.clock import Clock
from bot.services.imports.importer import Importer, ImportReport, ImportSource
from bot.services.imports.records import (
    CustomerRecord,
    ImportFile,
    OrderItemRecord,
    OrderRecord,
    StockRecord,
)
from storage.enums import (
    AgentActionKind,
    CaseStatus,
    ConversationStatus,
    CustomerTier,
    Direction,
    HandoffState,
    ItemCategory,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
    RefundStatus,
    RelayDirection,
    RequestKind,
    RequestStatus,
    TicketReason,
    TicketStatus,
    VoucherKind,
)
from storage.models import (
    AgentAction,
    AgentProfile,
    AgentTopic,
    CancellationRequest,
    Conversation,
    Customer,
    Handoff,
    Offer,
    Order,
    Refund,
    RefundEvent,
    RelayedMessage,
    SupportCase,
    Survey,
    TelegramUser,
    Ticket,
    TranscriptEntry,
    Voucher,
)

DEMO_SOURCE_NAME = "built-in demo data"
FILLER_ORDERS = 140

# Short names keep the data tables below one record to a line.
EN, ZH = "en", "zh"
REG, VIP = CustomerTier.REGULAR, CustomerTier.VIP
Status = OrderStatus
Pay = PaymentMethod
Cat = ItemCategory

# Customers whose orders are written by hand, and why someone would pick them.
DEMO_HIGHLIGHTS: Mapping[str, str] = MappingProxyType(
    {
        "C1001": "VIP · late delivery (promised 2 days ago) · massage booking in 47 h "
        "· black headphones and a size M T-shirt delivered 3 days ago, other colours and "
        "sizes in stock",
        "C1002": "delivered 7 days ago: kettle (the black one costs more: no exchange), "
        "strawberries (not returnable) and the Tom & Jerry mug with HTML in its name "
        "· an unpaid order",
        "C1003": "deliveries 8, 25 and 31 days ago: just past 7 days, inside 30, just past 30",
        "C1004": "VIP · hotpot booking in 12 h · digital goods, one activated "
        "· engraved necklace in the works",
        "C1005": "USD · parcel due in 3 days · one refunded and one cancelled order",
        "C1006": "four orders this week · blue and black Bluetooth Headphones, only blue in "
        "stock · cash on delivery",
        "C1007": "VIP · USD · yoga booking in 5 days · a returned order",
        "C1008": "nothing returnable: birthday cake delivered yesterday, custom photo mug",
        "C1009": "haircut booking in 49 h and a past one · a large multi-item order",
    }
)


@dataclass(frozen=True, slots=True)
class _Customer:
    id: str
    name: str
    phone: str
    email: str | None
    tier: CustomerTier = REG
    locale: str | None = EN

    @property
    def currency(self) -> str:
        """US numbers shop in dollars; everyone else in yuan."""
        return "USD" if self.phone.startswith("+1") else "CNY"


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    name: str
    zh: str
    category: ItemCategory
    cny: str
    usd: str
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()  # attribute -> the values on offer

    @property
    def returnable(self) -> bool:
        return self.category not in (Cat.FOOD_PERISHABLE, Cat.PERSONALIZED)


_CUSTOMERS: tuple[_Customer, ...] = (
    _Customer("C1001", "Alice Johnson", "+86 138 0000 1001", "alice.johnson@example.com", VIP),
    _Customer("C1002", "王芳", "+86 138 0000 1002", "wang.fang@example.com", REG, ZH),
    _Customer("C1003", "Michael Chen", "+86 138 0000 1003", "michael.chen@example.com"),
    _Customer("C1004", "李伟", "+86 138 0000 1004", "li.wei@example.com", VIP, ZH),
    _Customer("C1005", "Emily Davis", "+1 (202) 555-0105", "emily.davis@example.com"),
    _Customer("C1006", "张敏", "+86 138-0000-1006", None, REG, ZH),
    _Customer("C1007", "Daniel Martinez", "+1 202 555 0107", "daniel.m@example.com", VIP),
    _Customer("C1008", "刘洋", "+86 138 0000 1008", "liu.yang@example.com", REG, None),
    _Customer("C1009", "Sophia Anderson", "+86 138 0000 1009", "sophia.a@example.com"),
    _Customer("C1010", "陈静", "+86 138 0000 1010", "chen.jing@example.com", REG, ZH),
    _Customer("C1011", "James Wilson", "+1 202 555 0111", "james.wilson@example.com"),
    _Customer("C1012", "杨磊", "+86 138 0000 1012", "yang.lei@example.com", VIP, ZH),
    _Customer("C1013", "Sarah Miller", "+86 138 0000 1013", "sarah.miller@example.com"),
    _Customer("C1014", "赵丽", "+86 138 0000 1014", None, REG, ZH),
    _Customer("C1015", "David Brown", "+1 202 555 0115", "david.brown@example.com"),
    _Customer("C1016", "黄强", "+86 138 0000 1016", "huang.qiang@example.com", REG, ZH),
    _Customer("C1017", "Olivia Taylor", "+86 138 0000 1017", "olivia.t@example.com", VIP),
    _Customer("C1018", "周婷", "+86 138 0000 1018", "zhou.ting@example.com", REG, EN),
    _Customer("C1019", "Ryan Thompson", "+1 202 555 0119", "ryan.t@example.com"),
    _Customer("C1020", "吴杰", "+86 138 0000 1020", "wu.jie@example.com", REG, ZH),
    _Customer("C1021", "Grace Lee", "+86 138 0000 1021", "grace.lee@example.com", REG, EN),
    _Customer("C1022", "徐明", "+86 138 0000 1022", None, VIP, ZH),
    _Customer("C1023", "Ethan Walker", "+1 202 555 0123", "ethan.walker@example.com"),
    _Customer("C1024", "孙悦", "+86 138 0000 1024", "sun.yue@example.com", REG, ZH),
    _Customer("C1025", "Hannah Scott", "+86 138 0000 1025", "hannah.scott@example.com"),
    _Customer("C1026", "马超", "+86 138 0000 1026", "ma.chao@example.com", REG, ZH),
    _Customer("C1027", "Noah Robinson", "+1 202 555 0127", None),
    _Customer("C1028", "朱琳", "+86 138 0000 1028", "zhu.lin@example.com", REG, ZH),
    _Customer("C1029", "Chloe Adams", "+86 138 0000 1029", "chloe.adams@example.com", VIP),
    _Customer("C1030", "胡军", "+86 138 0000 1030", "hu.jun@example.com", REG, ZH),
    _Customer("C1031", "Lucas Wright", "+1 202 555 0131", "lucas.wright@example.com"),
    _Customer("C1032", "郭晓燕", "+86 138 0000 1032", "guo.xiaoyan@example.com", REG, ZH),
    _Customer("C1033", "Mia Turner", "+86 138 0000 1033", "mia.turner@example.com", REG, None),
    _Customer("C1034", "林涛", "+86 138 0000 1034", "lin.tao@example.com", REG, ZH),
    _Customer("C1035", "Benjamin Hall", "+1 202 555 0135", "ben.hall@example.com"),
    _Customer("C1036", "何雪", "+86 138 0000 1036", "he.xue@example.com", REG, ZH),
)

_COLORS = ("color", ("blue", "black", "white"))
_SIZES = ("size", ("S", "M", "L", "XL"))
# category -> (sku, English name, Chinese name, CNY price, USD price)
_CATALOG_ROWS: tuple[tuple[ItemCategory, tuple[tuple[str, str, str, str, str], ...]], ...] = (
    (Cat.ELECTRONICS, (
        ("BT-HP", "Bluetooth Headphones", "蓝牙耳机", "399.00", "59.99"),
        ("NC-EB", "Noise-Cancelling Earbuds", "降噪耳塞", "699.00", "99.00"),
        ("CH-65W", "USB-C Charger 65W", "USB-C 充电器 65W", "129.00", "19.99"),
        ("SW-GT4", "Smart Watch", "智能手表", "1299.00", "189.00"),
        ("PB-20K", "Power Bank 20000mAh", "移动电源 20000mAh", "159.00", "24.99"),
        ("MS-WL", "Wireless Mouse", "无线鼠标", "89.90", "14.99"),
    )),
    (Cat.APPAREL, (
        ("TS-COT", "Cotton T-Shirt", "纯棉T恤", "79.00", "12.00"),
        ("HD-COT", "Blue Cotton Hoodie", "蓝色棉质连帽衫", "229.00", "35.00"),
        ("RS-AIR", "Running Shoes", "跑步鞋", "459.00", "69.00"),
        ("WS-MER", "Wool Sweater", "羊毛衫", "399.00", "59.00"),
    )),
    (Cat.HOME, (
        ("EK-17", "Electric Kettle", "电热水壶", "199.00", "29.99"),
        ("FP-BLU", "Blue Cotton Frying Pan", "蓝色棉纹煎锅", "149.00", "22.00"),
        ("FP-NS", "Non-stick Frying Pan 28 cm", "不粘煎锅 28 厘米", "129.00", "19.00"),
        ("MUG-TJ", "<b>Tom & Jerry</b> Mug", "<b>猫和老鼠</b> 马克杯", "59.00", "9.50"),
        ("TW-BLU", "Blue Cotton Bath Towel", "蓝色纯棉浴巾", "59.00", "9.00"),
        ("CB-BAM", "Bamboo Cutting Board", "竹制砧板", "69.00", "11.00"),
    )),
    (Cat.BEAUTY, (("FC-HYD", "Hydrating Face Cream", "保湿面霜", "239.00", "36.00"),)),
    (Cat.BOOKS, (
        ("BOOK-3B", "The Three-Body Problem", "三体", "68.00", "12.99"),
        ("BOOK-PP", "The Pragmatic Programmer", "程序员修炼之道", "89.00", "39.99"),
    )),
    (Cat.FOOD_PERISHABLE, (
        ("FD-STRAW", "Fresh Strawberries 500 g", "新鲜草莓 500 克", "39.90", "6.99"),
        ("FD-CRAB", "Hairy Crab Gift Box", "阳澄湖大闸蟹礼盒", "588.00", "89.00"),
        ("FD-CAKE", "Birthday Cake", "生日蛋糕", "268.00", "39.00"),
    )),
    (Cat.PERSONALIZED, (
        ("PS-NECK", "Engraved Name Necklace", "刻字项链", "328.00", "49.00"),
        ("PS-MUG", "Custom Photo Mug", "定制照片马克杯", "88.00", "15.00"),
    )),
    (Cat.DIGITAL, (
        ("DG-EBOOK", "E-book: Learn Python", "电子书：学习 Python", "49.00", "9.99"),
        ("DG-STREAM", "Streaming Subscription 12 Months", "流媒体会员 12 个月", "248.00", "39.99"),
        ("DG-GIFT", "Game Gift Card", "游戏礼品卡", "100.00", "15.00"),
    )),
    (Cat.BOOKING, (
        ("SV-MASSAGE", "Deep Tissue Massage 90 min", "深层组织按摩 90 分钟", "398.00", "60.00"),
        ("SV-HOTPOT", "Hotpot Dinner for Two", "双人火锅晚餐", "298.00", "45.00"),
        ("SV-YOGA", "Yoga Class", "瑜伽课", "120.00", "18.00"),
        ("SV-HAIR", "Haircut & Styling", "剪发造型", "168.00", "25.00"),
    )),
    (Cat.OTHER, (("OT-WRAP", "Gift Wrapping", "礼品包装", "10.00", "2.00"),)),
)  # fmt: skip
_VARIANTS: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]] = MappingProxyType(
    {
        "BT-HP": (("color", ("blue", "black")),),
        "TS-COT": (_COLORS, _SIZES),
        "HD-COT": (("color", ("blue",)), _SIZES),
        "RS-AIR": (("color", ("black", "white")), ("size", ("39", "40", "41", "42", "43", "44"))),
        "WS-MER": (_COLORS, _SIZES),
        "EK-17": (("color", ("white",)),),
    }
)
_CATALOG: Mapping[str, _Product] = MappingProxyType(
    {
        sku: _Product(sku, name, zh, category, cny, usd, _VARIANTS.get(sku, ()))
        for category, rows in _CATALOG_ROWS
        for sku, name, zh, cny, usd in rows
    }
)
_PHYSICAL = tuple(
    sku for sku, p in _CATALOG.items() if p.category not in (Cat.DIGITAL, Cat.BOOKING)
)
_DIGITAL = tuple(sku for sku, p in _CATALOG.items() if p.category is Cat.DIGITAL)
_BOOKINGS = tuple(sku for sku, p in _CATALOG.items() if p.category is Cat.BOOKING)
_STATUS_WEIGHTS: Mapping[OrderStatus, int] = MappingProxyType(
    {
        Status.PENDING_PAYMENT: 8,
        Status.PAID: 10,
        Status.PROCESSING: 10,
        Status.SHIPPED: 14,
        Status.DELIVERED: 34,
        Status.CANCELLED: 10,
        Status.RETURNED: 6,
        Status.REFUNDED: 8,
    }
)
_PAYMENTS: Mapping[str, tuple[PaymentMethod, ...]] = MappingProxyType(
    {
        "CNY": (Pay.E_WALLET,) * 5 + (Pay.CARD,) * 2 + (Pay.CASH_ON_DELIVERY,) * 2
        + (Pay.BANK_TRANSFER, Pay.STORE_CREDIT),
        "USD": (Pay.CARD,) * 6 + (Pay.E_WALLET,) * 2 + (Pay.STORE_CREDIT,),
    }
)  # fmt: skip
# Units in stock of the products a customer may swap for another size or colour: every
# variant on offer has the first number, except those listed. Prices are the catalog's in
# yuan, the shop's own currency. Food, personalised, digital and booked goods are never
# exchanged, so they have no stock.
_STOCK_CURRENCY = "CNY"
_STOCK_LEVELS: Mapping[str, tuple[int, Mapping[str, int]]] = MappingProxyType(
    {
        "TS-COT": (10, {"TS-COT-BLUE-XL": 0, "TS-COT-WHITE-M": 2}),
        "HD-COT": (6, {"HD-COT-BLUE-S": 0}),
        "WS-MER": (4, {"WS-MER-BLACK-L": 0, "WS-MER-WHITE-XL": 0}),
        "RS-AIR": (3, {"RS-AIR-BLACK-43": 0, "RS-AIR-WHITE-40": 0}),
        "BT-HP": (0, {"BT-HP-BLUE": 5}),
        "EK-17": (8, {}),
    }
)
# Variants only the stockroom has, at their own price: the black kettle costs more than the
# white one every order holds, so it is never offered in exchange for it.
_STOCK_ONLY: tuple[tuple[str, Mapping[str, str], str, int], ...] = (
    ("EK-17", MappingProxyType({"color": "black"}), "239.00", 6),
)
_SHIPPING = MappingProxyType({"CNY": ("0", "0", "10.00", "12.00"), "USD": ("0", "5.99")})
_PAID_AFTER = timedelta(minutes=6)


def build_demo_dataset(now: datetime, seed: int = 7) -> ImportFile:
    """The demo shop as of `now` (aware): ≥30 customers and ≥150 orders in every status."""
    if now.tzinfo is None:
        raise ValueError("build_demo_dataset needs an aware datetime")
    builder = _Builder(now, random.Random(seed))
    orders = [*_highlighted_orders(builder), *_filler_orders(builder)]
    customers = [
        CustomerRecord(
            id=c.id, name=c.name, phone=c.phone, email=c.email, tier=c.tier, locale=c.locale
        )
        for c in _CUSTOMERS
    ]
    return ImportFile(customers=customers, orders=orders, stock=_stock())


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock
) -> ImportReport:
    """Load the demo set for the clock's "now" through the importer, like any other data."""
    dataset = build_demo_dataset(clock.now())
    source = ImportSource.from_import_file(dataset, DEMO_SOURCE_NAME)
    return await Importer(session_factory, clock).load(source)


class _Builder:
    """Turns "N days ago" and catalog keys into records, with prices in the right currency."""

    def __init__(self, now: datetime, rng: random.Random) -> None:
        self.now = now
        self.rng = rng

    def ago(self, *, days: float = 0, hours: float = 0, minutes: int = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def ahead(self, *, days: float = 0, hours: float = 0) -> datetime:
        return self.now + timedelta(days=days, hours=hours)

    def day(self, offset: int) -> date:
        """A calendar date `offset` days from today: whole days, whatever the time of day."""
        return self.now.date() + timedelta(days=offset)

    def item(
        self,
        sku: str,
        currency: str,
        quantity: int = 1,
        *,
        activated: bool = False,
        **chosen: str,
    ) -> OrderItemRecord:
        """A line for a catalog product; unnamed variant attributes are picked at random."""
        product = _CATALOG[sku]
        attributes = {
            name: chosen.get(name) or self.rng.choice(values) for name, values in product.variants
        }
        attributes.update({k: v for k, v in chosen.items() if k not in attributes})
        return OrderItemRecord(
            sku=_variant_sku(product, attributes),
            name=product.name,
            names={ZH: product.zh},
            attributes=attributes,
            category=product.category,
            quantity=quantity,
            unit_price=Decimal(product.usd if currency == "USD" else product.cny),
            returnable=product.returnable,
            activated=activated,
        )

    def order(
        self,
        number: str,
        customer: str,
        status: OrderStatus,
        items: Sequence[OrderItemRecord],
        *,
        placed: datetime,
        currency: str = "CNY",
        payment: PaymentMethod = Pay.E_WALLET,
        paid: bool = True,
        shipped: datetime | None = None,
        delivered: datetime | None = None,
        service: datetime | None = None,
        promised: date | None = None,
        shipping_fee: str = "0",
    ) -> OrderRecord:
        """An order whose payment time follows from its status and payment method."""
        if status is Status.PENDING_PAYMENT or not paid:
            paid_at = None
        elif payment is Pay.CASH_ON_DELIVERY:
            paid_at = delivered
        else:
            paid_at = placed + _PAID_AFTER
        return OrderRecord(
            number=number,
            customer_id=customer,
            status=status,
            currency=currency,
            payment_method=payment,
            shipping_fee=Decimal(shipping_fee),
            placed_at=placed,
            paid_at=paid_at,
            shipped_at=shipped,
            delivered_at=delivered,
            service_at=service,
            promised_delivery_date=promised,
            items=list(items),
        )


def _variant_sku(product: _Product, attributes: Mapping[str, str]) -> str:
    """`TS-COT` in blue, size M → `TS-COT-BLUE-M`: an order and the stock name it alike."""
    code = "-".join(attributes[name].upper() for name, _ in product.variants if name in attributes)
    return f"{product.sku}-{code}" if code else product.sku


def _stock() -> list[StockRecord]:
    """Every variant of the stocked products at the catalog price, then the stock-only ones."""
    records: list[StockRecord] = []
    for group, (units, exceptions) in _STOCK_LEVELS.items():
        product = _CATALOG[group]
        variants = {_variant_sku(product, v): v for v in _every_variant(product)}
        if unknown := exceptions.keys() - variants.keys():
            raise ValueError(f"{group} has no variant {', '.join(sorted(unknown))}")
        records += [
            _stock_record(product, attributes, product.cny, exceptions.get(sku, units))
            for sku, attributes in variants.items()
        ]
    records += [
        _stock_record(_CATALOG[group], attributes, price, units)
        for group, attributes, price, units in _STOCK_ONLY
    ]
    return records


def _every_variant(product: _Product) -> list[dict[str, str]]:
    """Each combination of the product's attribute values: every colour in every size."""
    names = [name for name, _ in product.variants]
    values = [values for _, values in product.variants]
    return [dict(zip(names, combination, strict=True)) for combination in cartesian(*values)]


def _stock_record(
    product: _Product, attributes: Mapping[str, str], price: str, available: int
) -> StockRecord:
    return StockRecord(
        sku=_variant_sku(product, attributes),
        group=product.sku,
        name=product.name,
        names={ZH: product.zh},
        attributes=dict(attributes),
        unit_price=Decimal(price),
        currency=_STOCK_CURRENCY,
        available=available,
    )


def _highlighted_orders(b: _Builder) -> list[OrderRecord]:
    """The hand-written cases behind `DEMO_HIGHLIGHTS`; they do not depend on the seed."""
    cny, usd = "CNY", "USD"
    item = b.item
    return [
        # C1001 Alice Johnson: late parcel, booking just inside 48 h, recent delivery.
        b.order("SO-1002345", "C1001", Status.SHIPPED,
                [item("BT-HP", cny, color="blue"), item("CH-65W", cny)],
                placed=b.ago(days=7), shipped=b.ago(days=6), promised=b.day(-2),
                payment=Pay.CARD, shipping_fee="12.00"),
        b.order("SO-1002346", "C1001", Status.PAID, [item("SV-MASSAGE", cny)],
                placed=b.ago(days=4), service=b.ahead(hours=47)),
        b.order("SO-1002347", "C1001", Status.DELIVERED,
                [item("BT-HP", cny, color="black"), item("TS-COT", cny, color="blue", size="M")],
                placed=b.ago(days=6), shipped=b.ago(days=5), delivered=b.ago(days=3, hours=-2)),
        # C1002 王芳: a multi-item delivery on the last day of a 7-day window; an unpaid order.
        b.order("SO-1002351", "C1002", Status.DELIVERED,
                [item("EK-17", cny), item("FD-STRAW", cny, 2), item("MUG-TJ", cny)],
                placed=b.ago(days=10), shipped=b.ago(days=9), delivered=b.ago(days=7, hours=-2),
                shipping_fee="10.00"),
        b.order("SO-1002352", "C1002", Status.PENDING_PAYMENT,
                [item("WS-MER", cny, color="white", size="M")], placed=b.ago(hours=2)),
        # C1003 Michael Chen: deliveries just past common windows.
        b.order("SO-1002361", "C1003", Status.DELIVERED,
                [item("RS-AIR", cny, color="black", size="42")],
                placed=b.ago(days=11), shipped=b.ago(days=10), delivered=b.ago(days=8, hours=-2)),
        b.order("SO-1002362", "C1003", Status.DELIVERED, [item("SW-GT4", cny)],
                placed=b.ago(days=28), shipped=b.ago(days=27), delivered=b.ago(days=25, hours=-2),
                payment=Pay.CARD),
        b.order("SO-1002363", "C1003", Status.DELIVERED, [item("FP-BLU", cny)],
                placed=b.ago(days=34), shipped=b.ago(days=33), delivered=b.ago(days=31, hours=-2)),
        # C1004 李伟: a booking 12 h away, digital goods, a personalised item being made.
        b.order("SO-1002371", "C1004", Status.PAID, [item("SV-HOTPOT", cny)],
                placed=b.ago(days=2), service=b.ahead(hours=12)),
        b.order("SO-1002372", "C1004", Status.DELIVERED,
                [item("DG-STREAM", cny, activated=True), item("DG-EBOOK", cny)],
                placed=b.ago(days=1), delivered=b.ago(days=1, minutes=-10)),
        b.order("SO-1002373", "C1004", Status.PROCESSING,
                [item("PS-NECK", cny, engraving="LI WEI")], placed=b.ago(days=1, hours=3),
                payment=Pay.CARD),
        # C1005 Emily Davis (USD): in transit, refunded, cancelled.
        b.order("SO-1002381", "C1005", Status.SHIPPED, [item("NC-EB", usd)],
                placed=b.ago(days=3), shipped=b.ago(days=2), promised=b.day(3),
                currency=usd, payment=Pay.CARD, shipping_fee="5.99"),
        b.order("SO-1002382", "C1005", Status.REFUNDED, [item("FC-HYD", usd, 2)],
                placed=b.ago(days=20), shipped=b.ago(days=19), delivered=b.ago(days=16),
                currency=usd, payment=Pay.CARD),
        b.order("SO-1002383", "C1005", Status.CANCELLED, [item("BOOK-PP", usd)],
                placed=b.ago(days=9), currency=usd, payment=Pay.E_WALLET),
        # C1006 张敏: four orders this week; near-identical headphones; cash on delivery.
        b.order("SO-1002391", "C1006", Status.PROCESSING, [item("BT-HP", cny, color="blue")],
                placed=b.ago(days=1), payment=Pay.CASH_ON_DELIVERY),
        b.order("SO-1002392", "C1006", Status.PAID, [item("BT-HP", cny, color="black")],
                placed=b.ago(days=3)),
        b.order("SO-1002393", "C1006", Status.SHIPPED, [item("EK-17", cny)],
                placed=b.ago(days=4), shipped=b.ago(days=2), promised=b.day(1),
                payment=Pay.CASH_ON_DELIVERY, shipping_fee="10.00"),
        b.order("SO-1002394", "C1006", Status.DELIVERED, [item("TW-BLU", cny, 2)],
                placed=b.ago(days=6), shipped=b.ago(days=5, hours=12), delivered=b.ago(days=5)),
        # C1007 Daniel Martinez (USD, VIP): a booking five days out and a returned order.
        b.order("SO-1002401", "C1007", Status.PAID, [item("SV-YOGA", usd, 4)],
                placed=b.ago(days=2), service=b.ahead(days=5), currency=usd, payment=Pay.CARD),
        b.order("SO-1002402", "C1007", Status.RETURNED,
                [item("RS-AIR", usd, color="white", size="44")],
                placed=b.ago(days=24), shipped=b.ago(days=23), delivered=b.ago(days=20),
                currency=usd, payment=Pay.CARD),
        # C1008 刘洋: nothing in these orders can be returned.
        b.order("SO-1002411", "C1008", Status.DELIVERED, [item("FD-CAKE", cny)],
                placed=b.ago(days=2), shipped=b.ago(days=1, hours=6), delivered=b.ago(days=1)),
        b.order("SO-1002412", "C1008", Status.DELIVERED,
                [item("PS-MUG", cny, photo="family-2026.jpg")],
                placed=b.ago(days=9), shipped=b.ago(days=6), delivered=b.ago(days=4)),
        # C1009 Sophia Anderson: bookings either side of "now", one big order.
        b.order("SO-1002421", "C1009", Status.PAID, [item("SV-HAIR", cny)],
                placed=b.ago(days=1), service=b.ahead(hours=49)),
        b.order("SO-1002422", "C1009", Status.DELIVERED, [item("SV-HAIR", cny)],
                placed=b.ago(days=12), delivered=b.ago(days=3), service=b.ago(days=3)),
        b.order("WX-20481", "C1009", Status.DELIVERED,
                [item("TS-COT", cny, 3, color="white", size="S"), item("HD-COT", cny, size="L"),
                 item("BOOK-3B", cny), item("CB-BAM", cny), item("FD-CRAB", cny),
                 item("OT-WRAP", cny)],
                placed=b.ago(days=15), shipped=b.ago(days=14), delivered=b.ago(days=12),
                payment=Pay.CASH_ON_DELIVERY),
    ]  # fmt: skip


def _filler_orders(b: _Builder) -> list[OrderRecord]:
    """Seeded everyday orders for the customers without a highlight."""
    pool = [c for c in _CUSTOMERS if c.id not in DEMO_HIGHLIGHTS]
    statuses = list(_STATUS_WEIGHTS)
    weights = list(_STATUS_WEIGHTS.values())
    orders = []
    for index in range(FILLER_ORDERS):
        customer = b.rng.choice(pool)
        status = b.rng.choices(statuses, weights)[0]
        kind = b.rng.choices(("physical", "digital", "booking"), (80, 10, 10))[0]
        number = _filler_number(index)
        if kind == "booking":
            orders.append(_filler_booking(b, number, customer, status))
        elif kind == "digital":
            orders.append(_filler_digital(b, number, customer, status))
        else:
            orders.append(_filler_physical(b, number, customer, status))
    return orders


def _filler_number(index: int) -> str:
    """Mostly "SO-" and seven digits, with the odd marketplace or till number mixed in."""
    if index % 11 == 5:
        return f"TB{300451120000 + index * 7919}"
    if index % 17 == 3:
        return f"POS-{index:04d}"
    return f"SO-{1003000 + index:07d}"


def _minutes(b: _Builder, low_days: float, high_days: float) -> timedelta:
    return timedelta(minutes=b.rng.randint(int(low_days * 1440), int(high_days * 1440)))


def _filler_physical(
    b: _Builder, number: str, customer: _Customer, status: OrderStatus
) -> OrderRecord:
    currency = customer.currency
    payment = b.rng.choice(_PAYMENTS[currency])
    cod_ok = status in (Status.PROCESSING, Status.SHIPPED, Status.DELIVERED, Status.RETURNED)
    if payment is Pay.CASH_ON_DELIVERY and not cod_ok:
        payment = Pay.E_WALLET
    skus = b.rng.sample(_PHYSICAL, b.rng.choices((1, 2, 3), (60, 28, 12))[0])
    items = [b.item(sku, currency, b.rng.choices((1, 2, 3), (75, 20, 5))[0]) for sku in skus]
    shipping_fee = b.rng.choice(_SHIPPING[currency])
    shipped = delivered = None
    promised = None
    if status in (Status.DELIVERED, Status.RETURNED) or (
        status is Status.REFUNDED and b.rng.random() < 0.5
    ):
        delivered = b.now - _minutes(b, 0.5, 60)
        shipped = delivered - _minutes(b, 1, 4)
        placed = shipped - _minutes(b, 0.2, 2)
    elif status is Status.SHIPPED:
        shipped = b.now - _minutes(b, 0.3, 6)
        placed = shipped - _minutes(b, 0.2, 2)
        promised = b.day(b.rng.randint(-3, 5))
    elif status in (Status.PENDING_PAYMENT, Status.PAID):
        placed = b.now - _minutes(b, 0.02, 1.5)
    elif status is Status.PROCESSING:
        placed = b.now - _minutes(b, 0.3, 3)
    else:  # cancelled, or refunded before it shipped
        placed = b.now - _minutes(b, 1, 45)
    paid = status is not Status.CANCELLED or b.rng.random() < 0.6
    return b.order(
        number,
        customer.id,
        status,
        items,
        placed=placed,
        currency=currency,
        payment=payment,
        paid=paid,
        shipped=shipped,
        delivered=delivered,
        promised=promised,
        shipping_fee=shipping_fee,
    )


def _filler_digital(
    b: _Builder, number: str, customer: _Customer, status: OrderStatus
) -> OrderRecord:
    """Digital goods are delivered the moment they are paid for."""
    currency = customer.currency
    if status not in (Status.PENDING_PAYMENT, Status.CANCELLED, Status.REFUNDED):
        status = Status.DELIVERED
    placed = b.now - _minutes(b, 0.1, 30)
    delivered = placed + _PAID_AFTER if status is Status.DELIVERED else None
    activated = status is Status.DELIVERED and b.rng.random() < 0.5
    items = [b.item(b.rng.choice(_DIGITAL), currency, activated=activated)]
    payment = Pay.CARD if currency == "USD" else Pay.E_WALLET
    paid = status is not Status.CANCELLED
    return b.order(
        number,
        customer.id,
        status,
        items,
        placed=placed,
        currency=currency,
        payment=payment,
        paid=paid,
        delivered=delivered,
    )


def _filler_booking(
    b: _Builder, number: str, customer: _Customer, status: OrderStatus
) -> OrderRecord:
    """A booked service: upcoming while paid, in the past once it has been delivered."""
    currency = customer.currency
    if status in (Status.PROCESSING, Status.SHIPPED, Status.RETURNED):
        status = Status.PAID
    items = [b.item(b.rng.choice(_BOOKINGS), currency, b.rng.choice((1, 1, 2)))]
    delivered = None
    if status is Status.DELIVERED:
        service = delivered = b.now - _minutes(b, 0.5, 30)
        placed = service - _minutes(b, 1, 14)
    else:
        service = b.now + _minutes(b, 0.1, 20)
        placed = b.now - _minutes(b, 0.05, 10)
    payment = Pay.CARD if currency == "USD" else Pay.E_WALLET
    return b.order(
        number,
        customer.id,
        status,
        items,
        placed=placed,
        currency=currency,
        payment=payment,
        paid=status is not Status.CANCELLED,
        delivered=delivered,
        service=service,
    )


# -- a demo history: past conversations, so the report and the dashboard have figures ------

DEMO_HISTORY_USER_BASE = 9_100_000_000
"""Telegram ids of the demo history's accounts (not linked: the shell links its own)."""
_HISTORY_SEED = 13
DEMO_AGENT_GROUP = -1_009_100_000_000
"""The agents' group the demo history's cases were in (no real group has this id)."""
DEMO_AGENTS: tuple[tuple[int, str], ...] = (
    (9_200_000_001, "Lina Zhou"),
    (9_200_000_002, "Tom Becker"),
    (9_200_000_003, "王磊"),
)
"""The demo history's agents: Telegram ids no real account has, and their names."""
# How long demo customers waited for an agent's first message, in minutes.
_REPLY_MINUTES = (2, 4, 6, 9, 15, 25, 40, 75, 180)
_APPROVAL_LIMIT = Decimal("500.00")  # the sample policy's [approval] auto_approve_up_to
# How long demo refunds took from request to money back, by payment method.
_REFUND_SPEEDS: Mapping[PaymentMethod, tuple[timedelta, ...]] = MappingProxyType(
    {
        Pay.CARD: (timedelta(days=2), timedelta(days=3, hours=5), timedelta(days=6)),
        Pay.E_WALLET: (timedelta(hours=3), timedelta(hours=20), timedelta(days=1, hours=4)),
        Pay.BANK_TRANSFER: (timedelta(days=4), timedelta(days=9)),
        Pay.STORE_CREDIT: (timedelta(0),),
    }
)
_WORDS: Mapping[ReasonCode, str] = MappingProxyType(
    {
        ReasonCode.CHANGED_MIND: "I changed my mind",
        ReasonCode.MISTAKE: "ordered it twice by mistake",
        ReasonCode.FOUND_CHEAPER: "found it cheaper elsewhere",
        ReasonCode.LATE_DELIVERY: "it still has not arrived",
        ReasonCode.WRONG_ITEM: "wrong size",
        ReasonCode.DEFECTIVE: "it arrived broken",
    }
)
_COMMENTS = (
    "Quick and easy, thank you",
    "Money came back faster than I expected",
    "Took too long to get an answer",
    "很方便，谢谢",
    "The voucher was a nice touch",
)


async def seed_demo_history(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Past conversations about the demo shop's own orders, consistent with their status:
    cancellations and returns with refunds paid at several speeds, orders kept by an offer,
    refusals, abandoned talks, agents' cases (approvals, denials, answers, closed talks
    and their surveys, by three demo agents) and survey answers. Returns the cases written; a
    database that has any support case already is left alone (so seeding twice is safe)."""
    now = clock.now()
    async with session_factory() as session, session.begin():
        if await session.scalar(select(func.count()).select_from(SupportCase)):
            return 0
        for agent_id, name in DEMO_AGENTS:
            if await session.get(AgentProfile, agent_id) is None:
                session.add(AgentProfile(agent_id=agent_id, name=name, alias=None, updated_at=now))
        writer = _HistoryWriter(session, now, random.Random(_HISTORY_SEED))
        orders = (
            await session.scalars(
                select(Order)
                .join(Customer)
                .where(Customer.external_id.not_in(DEMO_HIGHLIGHTS), Order.placed_at < now)
                .order_by(Order.id)
            )
        ).all()
        for order in orders:
            await writer.story(order)
        return writer.cases


class _HistoryWriter:
    """Writes rows the way the services do (see each service named below)."""

    def __init__(self, session: AsyncSession, now: datetime, rng: random.Random) -> None:
        self.session = session
        self.now = now
        self.rng = rng
        self.cases = 0
        self._people: dict[int, tuple[int, int]] = {}  # customer id -> (user id, conversation)
        self._vouchers = 0
        self._topics: dict[int, int] = {}  # chat id -> its agents' topic
        self._requests: dict[int, list[datetime]] = {}  # customer id -> their requests
        self._messages = 0

    async def story(self, order: Order) -> None:
        """What happened to this order, given the status the shop reports for it."""
        roll = self.rng.random()
        if order.status in (Status.CANCELLED, Status.REFUNDED) and order.paid_at and roll < 0.8:
            await self._cancelled(order)
        elif order.status is Status.DELIVERED and roll < 0.45:
            await self._delivered(order, self.rng.random())
        elif order.status is Status.SHIPPED and roll < 0.4:
            await self._kept(order, OfferType.COMPENSATION_VOUCHER, ReasonCode.LATE_DELIVERY)
        elif order.status in (Status.PAID, Status.PROCESSING) and roll < 0.25:
            await self._abandoned(order)
        elif order.status in (Status.PAID, Status.PROCESSING) and roll < 0.7:
            await self._denied(order)

    async def _person(self, customer_id: int, at: datetime) -> tuple[int, int]:
        if customer_id not in self._people:
            user_id = DEMO_HISTORY_USER_BASE + customer_id
            self.session.add(TelegramUser(id=user_id, first_name="Demo", language_code="en"))
            await self.session.flush()
            conversation = Conversation(
                chat_id=user_id,
                telegram_user_id=user_id,
                customer_id=customer_id,
                status=ConversationStatus.CLOSED,
                started_at=at,
                last_activity_at=at,
                closed_at=at,
            )
            self.session.add(conversation)
            await self.session.flush()
            self._people[customer_id] = (user_id, conversation.id)
        return self._people[customer_id]

    def _moment(self, order: Order) -> datetime | None:
        """When the customer wrote: after the order's latest event, before now."""
        after = order.delivered_at or order.shipped_at or order.paid_at or order.placed_at
        if after >= self.now - timedelta(hours=1):
            return None
        span = min(self.now - after, timedelta(days=40))
        return after + span * self.rng.uniform(0.05, 0.95)

    async def _case(
        self,
        order: Order,
        at: datetime,
        status: CaseStatus,
        reason: ReasonCode,
        decision: dict[str, object] | None,
    ) -> SupportCase:
        """`CaseService.start` and the steps up to the decision, with the customer's words."""
        user_id, conversation_id = await self._person(order.customer_id, at)
        case = SupportCase(
            telegram_user_id=user_id,
            chat_id=user_id,
            conversation_id=conversation_id,
            customer_id=order.customer_id,
            order_id=order.id,
            status=status,
            reason_code=reason,
            decision=decision,
            created_at=at,
            updated_at=at + timedelta(minutes=3),
            closed_at=None if status is CaseStatus.OPEN else at + timedelta(minutes=3),
        )
        self.session.add(case)
        self.session.add_all(
            TranscriptEntry(
                conversation_id=conversation_id,
                direction=Direction.IN,
                kind="command" if text.startswith("/") else "text",
                text=text,
                created_at=at + timedelta(seconds=20 * index),
            )
            for index, text in enumerate(
                (f"/cancel_order {order.number}", _WORDS.get(reason, "other reason"))
            )
        )
        await self.session.flush()
        self.cases += 1
        return case

    async def _frequent(self, order: Order, at: datetime) -> bool:
        """The policy's `[approval] frequent_requests`: this customer's third request within
        30 days (counting those written so far) needs an agent, unless they are a VIP."""
        customer = await self.session.get(Customer, order.customer_id)
        if customer is None or customer.tier is VIP:
            return False
        earlier = self._requests.setdefault(order.customer_id, [])
        frequent = sum(at - timedelta(days=30) < t <= at for t in earlier) >= 2
        earlier.append(at)
        return frequent

    def _decision(self, order: Order, *, eligible: bool, rule: str) -> dict[str, object]:
        """The stored part of `Decision.to_json` the figures and the timeline read."""
        paid = order.items_total + order.shipping_fee if order.paid_at else Decimal(0)
        bonus = (paid / 10).quantize(Decimal("0.01"))
        return {
            "eligible": eligible,
            "rule": rule,
            "kind": "cancel" if eligible else None,
            "refund_amount": f"{paid:.2f}" if eligible else "0.00",
            "currency": order.currency,
            "approval": "automatic" if paid <= _APPROVAL_LIMIT else "agent",
            "refund_methods": [
                {"method": order.payment_method.value, "amount": f"{paid:.2f}", "bonus": "0.00"},
                {"method": "store_credit", "amount": f"{paid + bonus:.2f}", "bonus": f"{bonus}"},
            ]
            if eligible
            else [],
            "offers": [],
        }

    async def _denied(self, order: Order) -> None:
        """A big order the customer wanted cancelled: above the approval limit, so an agent
        decided, and declined (the order is still paid). Other orders have no such story."""
        customer = await self.session.get(Customer, order.customer_id)
        paid = order.items_total + order.shipping_fee
        if customer is not None and customer.tier is not VIP and paid > _APPROVAL_LIMIT:
            await self._cancelled(order, deny=True)

    async def _cancelled(self, order: Order, *, deny: bool = False) -> None:
        """A confirmed cancellation (`CancellationService.confirm`) and its refund's history
        (`RefundLedger`, then the shop's events), a survey once it ended. Above the approval
        limit an agent decides first; `deny`: they declined it."""
        at = self._moment(order)
        if at is None:
            return
        reason = self.rng.choice(
            (ReasonCode.CHANGED_MIND, ReasonCode.MISTAKE, ReasonCode.FOUND_CHEAPER)
        )
        decision = self._decision(order, eligible=True, rule="before_shipping")
        if decision["approval"] == "automatic" and await self._frequent(order, at):
            decision["approval"] = "agent"
        case = await self._case(order, at, CaseStatus.CONFIRMED, reason, decision)
        amount = Decimal(str(decision["refund_amount"]))
        credit = self.rng.random() < 0.15 and not deny
        method = Pay.STORE_CREDIT if credit else order.payment_method
        if method is Pay.CASH_ON_DELIVERY:
            method = Pay.BANK_TRANSFER
        if credit:
            amount += Decimal(str(decision["refund_methods"][1]["bonus"]))  # type: ignore[index]
            self.session.add(self._offer(case, order, OfferType.STORE_CREDIT, amount, True, at))
        elif self.rng.random() < 0.5:
            self.session.add(self._offer(case, order, OfferType.STORE_CREDIT, amount, False, at))
        review = decision["approval"] == "agent"
        agent = self.rng.choice(DEMO_AGENTS)[0] if review else None
        denied = review and deny
        decided = at
        steps = [(RefundStatus.PENDING_REVIEW if review else RefundStatus.APPROVED, at, "bot")]
        if review:
            decided = min(at + timedelta(hours=self.rng.randint(1, 30)), at + (self.now - at) / 2)
            verdict = RefundStatus.REJECTED if denied else RefundStatus.APPROVED
            steps.append((verdict, decided, f"agent:{agent}"))
        took = self.rng.choice(_REFUND_SPEEDS[method])
        fate = self.rng.random()
        if denied:
            pass
        elif decided + took < self.now and fate < 0.85:
            if took > timedelta(hours=1):
                steps.append((RefundStatus.PROCESSING, decided + took / 2, "merchant"))
            steps.append((RefundStatus.REFUNDED, decided + took, "bot" if credit else "merchant"))
        elif fate < 0.93 and decided + timedelta(days=1) < self.now:
            steps.append((RefundStatus.FAILED, decided + timedelta(days=1), "merchant"))
        ended = steps[-1][0] in (RefundStatus.REFUNDED, RefundStatus.REJECTED)
        request = new_request(
            order,
            case=case,
            kind=RequestKind.CANCEL,
            status=RequestStatus.PENDING_REVIEW if review else RequestStatus.APPROVED,
            lines=whole_order(order),
            refund_amount=Decimal(str(decision["refund_amount"])),
            reason_code=reason,
            rule="before_shipping",
            decision=decision,
            now=at,
        )
        if denied:
            move_request(request, RequestStatus.DENIED, decided)
        else:
            if review:
                move_request(request, RequestStatus.APPROVED, decided)
            if ended:
                move_request(request, RequestStatus.COMPLETED, steps[-1][1])
        request.updated_at = steps[-1][1]
        self.session.add(request)
        await self.session.flush()
        refund = self._refund(order, amount, method, steps, request_id=request.id)
        self.session.add(refund)
        if agent is not None:
            ticket = self._ticket(case, TicketReason.NEEDS_APPROVAL, at, closed_at=decided)
            self.session.add(ticket)
            await self.session.flush()
            kind = AgentActionKind.DENY if denied else AgentActionKind.APPROVE
            await self._handed(ticket, agent, decided, decision=(kind, refund))
        if ended:
            await self._survey(order, request, steps[-1][1])

    async def _delivered(self, order: Order, roll: float) -> None:
        if roll < 0.35:
            await self._kept(order, OfferType.PARTIAL_REFUND, ReasonCode.DEFECTIVE)
        elif roll < 0.55:
            await self._kept(order, OfferType.EXCHANGE, ReasonCode.WRONG_ITEM, take=False)
        elif roll < 0.8:
            await self._refused(order)
        else:
            await self._abandoned(order)

    async def _kept(
        self, order: Order, kind: OfferType, reason: ReasonCode, *, take: bool = True
    ) -> None:
        """An alternative accepted (`AlternativesService.accept`): the order is kept. An
        exchange the customer did not take ends in an abandoned talk instead."""
        at = self._moment(order)
        if at is None or not order.paid_at:
            return
        decision = self._decision(order, eligible=True, rule="merchant_fault")
        status = CaseStatus.SAVED if take else CaseStatus.ABANDONED
        case = await self._case(order, at, status, reason, decision)
        total = order.items_total
        value = {
            OfferType.PARTIAL_REFUND: (total * Decimal("0.2")).quantize(Decimal("0.01")),
            OfferType.COMPENSATION_VOUCHER: Decimal("20.00" if order.currency == "CNY" else "5.00"),
        }.get(kind, total)
        offer = self._offer(case, order, kind, value, take, at)
        self.session.add(offer)
        await self.session.flush()
        if not take:
            return
        if kind is OfferType.PARTIAL_REFUND:
            took = self.rng.choice(_REFUND_SPEEDS[Pay.E_WALLET])
            steps = [(RefundStatus.APPROVED, at, "bot")]
            if at + took < self.now:
                steps.append((RefundStatus.REFUNDED, at + took, "merchant"))
            self.session.add(
                self._refund(
                    order,
                    value,
                    order.payment_method
                    if order.payment_method is not Pay.CASH_ON_DELIVERY
                    else Pay.BANK_TRANSFER,
                    steps,
                    offer_id=offer.id,
                )
            )
        elif kind is OfferType.COMPENSATION_VOUCHER:
            self._vouchers += 1
            self.session.add(
                Voucher(
                    code=f"VC-DEMO-{self._vouchers:04d}",
                    customer_id=order.customer_id,
                    kind=VoucherKind.COMPENSATION,
                    amount=value,
                    currency=order.currency,
                    offer_id=offer.id,
                    created_at=at,
                )
            )

    async def _refused(self, order: Order) -> None:
        """The policy said no (e.g. past the window); the customer asked for a person."""
        at = self._moment(order)
        if at is None:
            return
        rule = self.rng.choice(("delivered_no_fault_opened", "non_returnable", "no_rule"))
        decision = self._decision(order, eligible=False, rule=rule)
        case = await self._case(order, at, CaseStatus.ABANDONED, ReasonCode.CHANGED_MIND, decision)
        if self.rng.random() < 0.7:
            await self._talk(case, TicketReason.NOT_ELIGIBLE, at)

    async def _abandoned(self, order: Order) -> None:
        at = self._moment(order)
        if at is not None:
            case = await self._case(order, at, CaseStatus.ABANDONED, ReasonCode.CHANGED_MIND, None)
            if self.rng.random() < 0.4:
                await self._talk(case, TicketReason.CUSTOMER_ASKED, at)

    def _offer(
        self,
        case: SupportCase,
        order: Order,
        kind: OfferType,
        value: Decimal,
        taken: bool,
        at: datetime,
    ) -> Offer:
        return Offer(
            case_id=case.id,
            customer_id=order.customer_id,
            order_id=order.id,
            type=kind,
            value=value,
            currency=order.currency,
            params={},
            status=OfferStatus.ACCEPTED if taken else OfferStatus.DECLINED,
            shown_at=at + timedelta(minutes=1),
            answered_at=at + timedelta(minutes=2),
        )

    def _refund(
        self,
        order: Order,
        amount: Decimal,
        method: PaymentMethod,
        steps: list[tuple[RefundStatus, datetime, str]],
        *,
        request_id: int | None = None,
        offer_id: int | None = None,
    ) -> Refund:
        refund = Refund(
            order_id=order.id,
            customer_id=order.customer_id,
            request_id=request_id,
            offer_id=offer_id,
            amount=amount,
            currency=order.currency,
            method=method,
            status=steps[-1][0],
            created_at=steps[0][1],
            updated_at=steps[-1][1],
        )
        previous: RefundStatus | None = None
        for status, at, actor in steps:
            refund.events.append(
                RefundEvent(
                    from_status=previous,
                    to_status=status,
                    actor=actor,
                    occurred_at=at,
                    recorded_at=at,
                )
            )
            previous = status
        return refund

    def _ticket(
        self, case: SupportCase, reason: TicketReason, at: datetime, *, closed_at: datetime
    ) -> Ticket:
        return Ticket(
            telegram_user_id=case.telegram_user_id,
            chat_id=case.chat_id,
            conversation_id=case.conversation_id,
            customer_id=case.customer_id,
            case_id=case.id,
            reason=reason,
            status=TicketStatus.CLOSED,
            created_at=at + timedelta(minutes=2),
            closed_at=closed_at,
        )

    async def _talk(self, case: SupportCase, reason: TicketReason, at: datetime) -> None:
        """The customer wanted a person (`HandoffService`): an agent answered after a while
        (`AgentCases.relay_to_customer`), closed the case and the customer was asked how
        it went (`AgentCases.close`). Too recent a talk is left out: it would be open."""
        if at + timedelta(hours=6) >= self.now:
            return
        replied = at + timedelta(minutes=self.rng.choice(_REPLY_MINUTES))
        closed = replied + timedelta(minutes=self.rng.randint(10, 60))
        ticket = self._ticket(case, reason, at, closed_at=closed)
        self.session.add(ticket)
        await self.session.flush()
        agent = self.rng.choice(DEMO_AGENTS)[0]
        await self._handed(ticket, agent, replied, closed=closed)
        if self.rng.random() < 0.7:
            self.session.add(
                Survey(
                    subject_key=ticket_subject(ticket.id),
                    customer_id=case.customer_id,
                    chat_id=case.chat_id,
                    locale="en",
                    rating=self.rng.choices((5, 4, 3, 2, 1), (50, 25, 10, 8, 7))[0],
                    asked_at=closed,
                    answered_at=closed + timedelta(minutes=15),
                )
            )

    async def _handed(
        self,
        ticket: Ticket,
        agent: int,
        acted: datetime,
        *,
        decision: tuple[AgentActionKind, Refund] | None = None,
        closed: datetime | None = None,
    ) -> None:
        """The ticket as the agents' group held it (`Board.open_case`), closed now: the
        agent's message to the customer, or their decision on the refund, at `acted`."""
        topic_id = self._topics.get(ticket.chat_id)
        if topic_id is None:
            topic = AgentTopic(
                group_chat_id=DEMO_AGENT_GROUP,
                chat_id=ticket.chat_id,
                customer_id=ticket.customer_id,
                name="",
                created_at=ticket.created_at,
                updated_at=ticket.created_at,
            )
            self.session.add(topic)
            await self.session.flush()
            topic_id = self._topics[ticket.chat_id] = topic.id
        ended = closed or acted
        handoff = Handoff(
            ticket_id=ticket.id,
            topic_id=topic_id,
            state=HandoffState.CLOSED,
            taken_by=agent,
            taken_at=acted,
            created_at=ticket.created_at,
            updated_at=ended,
            closed_at=ended,
        )
        self.session.add(handoff)
        await self.session.flush()
        if decision is not None:
            kind, refund = decision
            self.session.add(
                AgentAction(
                    key=f"{kind.value}:{refund.id}",
                    ticket_id=ticket.id,
                    agent_id=agent,
                    action=kind,
                    refund_id=refund.id,
                    amount=refund.amount,
                    currency=refund.currency,
                    note="already used" if kind is AgentActionKind.DENY else None,
                    created_at=acted,
                )
            )
            return
        self._messages += 1
        self.session.add_all(
            (
                RelayedMessage(
                    ticket_id=ticket.id,
                    direction=RelayDirection.TO_CUSTOMER,
                    agent_id=agent,
                    source_chat_id=DEMO_AGENT_GROUP,
                    source_message_id=self._messages,
                    copy_chat_id=ticket.chat_id,
                    kind="text",
                    created_at=acted,
                    copied_at=acted,
                ),
                AgentAction(
                    key=f"take:{handoff.id}",
                    ticket_id=ticket.id,
                    agent_id=agent,
                    action=AgentActionKind.TAKE,
                    created_at=acted,
                ),
                AgentAction(
                    key=f"close:{handoff.id}",
                    ticket_id=ticket.id,
                    agent_id=agent,
                    action=AgentActionKind.CLOSE,
                    created_at=ended,
                ),
            )
        )

    async def _survey(self, order: Order, request: CancellationRequest, ended: datetime) -> None:
        """`SurveyService.ask_about_request`, answered by most customers."""
        user_id, _ = await self._person(order.customer_id, ended)
        answered = self.rng.random() < 0.7 and ended + timedelta(hours=1) < self.now
        rating = self.rng.choices((5, 4, 3, 2, 1), (45, 25, 12, 10, 8))[0] if answered else None
        comment = self.rng.choice(_COMMENTS) if answered and self.rng.random() < 0.4 else None
        self.session.add(
            Survey(
                subject_key=f"request:{request.id}",
                customer_id=order.customer_id,
                chat_id=user_id,
                locale="en",
                rating=rating,
                comment=comment,
                asked_at=ended,
                answered_at=ended + timedelta(minutes=30) if answered else None,
                commented_at=ended + timedelta(minutes=32) if comment else None,
            )
        )
