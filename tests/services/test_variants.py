"""The variant a customer's words ask for, and how variants are shown (bot/data/variants.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.services.cancellation.variants import Wish, default_variant_words, reason_for_wish
from storage.enums import ReasonCode

WORDS = default_variant_words()


@dataclass(frozen=True)
class V:
    sku: str
    attributes: dict[str, str] = field(default_factory=dict)


TEES = [
    V(f"TS-{colour.upper()}-{size}", {"color": colour, "size": size})
    for colour in ("blue", "white", "black")
    for size in ("S", "L", "XL")
]
BLUE_M = {"color": "blue", "size": "M"}


def chosen(text: str, current: dict[str, str] = BLUE_M, stock: list[V] = TEES) -> list[str]:
    return [v.sku for v in WORDS.closest(current, stock, WORDS.read_wish(text))]


@pytest.mark.parametrize(
    ("text", "skus"),
    [
        ("too small, need an L", ["TS-BLUE-L"]),  # the size named, the colour kept
        ("太小了，要L码", ["TS-BLUE-L"]),
        ("need an XL", ["TS-BLUE-XL"]),
        ("加大号", ["TS-BLUE-XL"]),  # 加大号 is XL, not also 大号 (L)
        ("too tight", ["TS-BLUE-L"]),  # the next size up that is in stock
        ("偏大", ["TS-BLUE-S"]),  # the next size down
        # A colour alone, and their size M is not in white: every white size ties.
        ("I'd like it in white", ["TS-WHITE-L", "TS-WHITE-S", "TS-WHITE-XL"]),
        ("我想要白色的，L码", ["TS-WHITE-L"]),
        ("black, size L please", ["TS-BLACK-L"]),
    ],
)
def test_the_words_pick_the_variant(text: str, skus: list[str]) -> None:
    assert chosen(text) == skus


def test_a_colour_keeps_the_size_when_that_size_is_in_stock() -> None:
    stock = [V("TS-WHITE-M", {"color": "white", "size": "M"}), *TEES]
    assert chosen("我想要白色的", stock=stock) == ["TS-WHITE-M"]
    assert chosen("I want it in white", stock=stock) == ["TS-WHITE-M"]


def test_a_wish_for_what_is_not_in_stock_leaves_every_variant_to_pick_closest_first() -> None:
    stock = [
        V("TS-BLUE-L", {"color": "blue", "size": "L"}),
        V("TS-RED-S", {"color": "red", "size": "S"}),
    ]
    assert chosen("need an XL", stock=stock) == ["TS-BLUE-L", "TS-RED-S"]


def test_numeric_sizes_go_by_number_and_are_found_as_written() -> None:
    shoes = [V(f"RS-{n}", {"size": str(n)}) for n in (40, 41, 43, 44)]
    assert chosen("too small", {"size": "42"}, shoes) == ["RS-43"]
    assert chosen("too big", {"size": "42"}, shoes) == ["RS-41"]
    assert chosen("换44码", {"size": "42"}, shoes) == ["RS-44"]


@pytest.mark.parametrize(
    "text",
    ["I'm not happy with it", "my bluetooth headphones", "蓝牙耳机不想要了", "it was small talk"],
)
def test_words_that_name_no_variant_are_no_wish(text: str) -> None:
    """ "I'm" is not size M, "蓝牙" (Bluetooth) is not blue, "small" alone is no size."""
    assert not WORDS.read_wish(text)
    assert reason_for_wish(text) is None


@pytest.mark.parametrize("text", ["我想要蓝色的", "I'd like it in black", "can I get an L"])
def test_naming_a_variant_without_a_reason_is_a_change_of_mind(text: str) -> None:
    assert reason_for_wish(text) is ReasonCode.CHANGED_MIND


def test_values_are_shown_in_the_readers_language() -> None:
    assert WORDS.show("blue / L", "zh") == "蓝色 / L码"
    assert WORDS.show({"size": "M", "color": "black"}, "zh") == "黑色 / M码"
    assert WORDS.show("blue / L", "en") == "blue / L"
    assert WORDS.show("Navy Teal / 42", "zh") == "Navy Teal / 42"  # unknown: as written


def test_every_value_has_an_english_and_a_chinese_label() -> None:
    for value, labels in WORDS.labels.items():
        assert set(labels) == {"en", "zh"}, value
        assert all(labels.values()), value


def test_no_wish_is_falsy() -> None:
    assert not Wish()
    assert Wish(size_step=1)
