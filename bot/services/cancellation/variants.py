"""Variants in the customer's words: which size or colour they ask for, and how a variant's
attributes are shown in their language. The vocabulary is data (`bot/data/variants.toml`).

"Too small, need an L" asks for L; "我想要蓝色的" for blue; "too tight" for the next size
up. `read_wish` reads that from the words alone; `closest` then picks, among the variants
in stock, the ones that fit the wish and otherwise change as little as possible (an L in
the same colour, not an L in another one).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final, Protocol, TypeVar

from bot.services.cancellation.matching import NO_SPACE_SCRIPT
from storage.enums import ReasonCode

DEFAULT_VARIANTS_FILE: Final = Path(__file__).resolve().parents[2] / "data" / "variants.toml"
SIZE: Final = "size"
SEPARATOR: Final = " / "
"""Between the values of one variant's attributes in an offer ("blue / L")."""

V = TypeVar("V", bound="Variant")

_UNIT: Final = re.compile(rf"[{NO_SPACE_SCRIPT}]|[^\W_{NO_SPACE_SCRIPT}]+")


def _units(text: str) -> list[str]:
    """Latin words and single CJK characters, as written (NFKC)."""
    return _UNIT.findall(unicodedata.normalize("NFKC", text))


def _key(units: Sequence[str]) -> tuple[str, ...]:
    return tuple(unit.casefold() for unit in units)


@dataclass(frozen=True, slots=True)
class Wish:
    """What the customer's words ask of a variant: values the vocabulary knows (case-folded),
    a step on the size ladder (+1 bigger, -1 smaller, 0 neither), and the other words, which
    count only where a variant in stock has one as a value (a shoe size, "42")."""

    values: frozenset[str] = frozenset()
    size_step: int = 0
    other_words: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        """True when the words name a size or colour, or ask for a bigger or smaller size."""
        return bool(self.values) or self.size_step != 0

    def names(self, value: str) -> bool:
        folded = value.casefold()
        return folded in self.values or folded in self.other_words


class Variant(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def attributes(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class VariantWords:
    """The vocabulary of `variants.toml`: labels per locale and the words for each value."""

    labels: Mapping[str, Mapping[str, str]]  # value (case-folded) -> locale -> label
    words: Mapping[tuple[str, ...], str]  # the units of a phrase (case-folded) -> value
    capital_letters: frozenset[str]  # one-letter phrases, which count only as capitals
    ladder: tuple[str, ...]  # sizes from small to large, case-folded
    bigger: frozenset[tuple[str, ...]] = field(default_factory=frozenset)
    smaller: frozenset[tuple[str, ...]] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: Path = DEFAULT_VARIANTS_FILE) -> VariantWords:
        with path.open("rb") as file:
            data = tomllib.load(file)
        labels: dict[str, dict[str, str]] = {}
        words: dict[tuple[str, ...], str] = {}
        for value, entry in data.get("values", {}).items():
            folded = value.casefold()
            labels[folded] = {"en": entry["en"], "zh": entry["zh"]}
            for phrase in (value, *entry.get("words", ())):
                units = _key(_units(phrase))
                if words.setdefault(units, folded) != folded:
                    raise ValueError(f"{phrase!r} names both {words[units]!r} and {value!r}")
        sizes = data.get("sizes", {})
        return cls(
            labels=labels,
            words=words,
            capital_letters=frozenset(k[0] for k in words if len(k) == 1 and _one_letter(k[0])),
            ladder=tuple(size.casefold() for size in sizes.get("ladder", ())),
            bigger=frozenset(_key(_units(p)) for p in sizes.get("bigger", ())),
            smaller=frozenset(_key(_units(p)) for p in sizes.get("smaller", ())),
        )

    def label(self, value: str, locale: str) -> str:
        """The value in the reader's language; as the merchant wrote it when not listed."""
        return self.labels.get(value.casefold(), {}).get(locale, value)

    def show(self, attributes: str | Mapping[str, str], locale: str) -> str:
        """A variant's values ("blue / L", or its attributes) in the reader's language."""
        values = (
            [value for _, value in sorted(attributes.items())]
            if isinstance(attributes, Mapping)
            else [value for value in attributes.split(SEPARATOR) if value]
        )
        return SEPARATOR.join(self.label(value, locale) for value in values)

    def read_wish(self, text: str) -> Wish:
        """The values named in `text` and the size step it asks for; longer phrases first,
        so "加大号" is XL and not also L ("大号")."""
        units = _units(text)
        folded = _key(units)
        taken = [False] * len(units)
        values: set[str] = set()
        steps = 0
        longest = max((len(k) for k in (*self.words, *self.bigger, *self.smaller)), default=1)
        for size in range(longest, 0, -1):
            for start in range(len(units) - size + 1):
                stretch = folded[start : start + size]
                if any(taken[start : start + size]):
                    continue
                found = self._phrase(stretch, units[start : start + size])
                if found is None:
                    continue
                taken[start : start + size] = [True] * size
                if found == "+":
                    steps = max(steps, 1)
                elif found == "-":
                    steps = min(steps, -1) if steps <= 0 else 0
                else:
                    values.add(found)
        # Anything else written may be a value the vocabulary does not list (a shoe size,
        # "42"); it counts only if a variant in stock has it (see `closest`).
        other = {
            unit.casefold()
            for unit, used in zip(units, taken, strict=True)
            if not used and not (_one_letter(unit) and not unit.isupper())
        }
        return Wish(frozenset(values), steps, frozenset(other - values))

    def _phrase(self, stretch: tuple[str, ...], written: Sequence[str]) -> str | None:
        """A value, "+" (bigger), "-" (smaller), or None."""
        if stretch in self.bigger:
            return "+"
        if stretch in self.smaller:
            return "-"
        value = self.words.get(stretch)
        if value is None:
            return None
        if len(stretch) == 1 and stretch[0] in self.capital_letters and not written[0].isupper():
            return None  # "i'm" is not size M
        return value

    def closest(self, current: Mapping[str, str], candidates: Iterable[V], wish: Wish) -> list[V]:
        """The candidates that fit `wish` best, then changing fewest of `current`'s other
        attributes; all of them, closest first, when the wish names nothing in stock."""
        pool = list(candidates)
        wanted = self._wanted(current, pool, wish)
        fitting = [
            variant
            for variant in pool
            if all(variant.attributes.get(name, "").casefold() == v for name, v in wanted.items())
        ]
        if not wanted or not fitting:
            return sorted(pool, key=lambda v: (-_shared(current, v.attributes), v.sku))
        best = max(_shared(current, v.attributes) for v in fitting)
        return sorted(
            (v for v in fitting if _shared(current, v.attributes) == best), key=lambda v: v.sku
        )

    def _wanted(
        self, current: Mapping[str, str], pool: Sequence[Variant], wish: Wish
    ) -> dict[str, str]:
        """attribute -> value (case-folded) the wish asks for, among values variants have."""
        wanted: dict[str, str] = {}
        for variant in pool:
            for name, value in variant.attributes.items():
                folded = value.casefold()
                if wish.names(folded) and current.get(name, "").casefold() != folded:
                    wanted.setdefault(name, folded)
        if wish.size_step and SIZE not in wanted and SIZE in current:
            step = self._next_size(current[SIZE], wish.size_step, pool)
            if step is not None:
                wanted[SIZE] = step
        return wanted

    def _next_size(self, size: str, step: int, pool: Sequence[Variant]) -> str | None:
        """The nearest size in the step's direction that a variant in stock has."""
        have = {v.attributes[SIZE].casefold() for v in pool if SIZE in v.attributes}
        order = _size_order(size.casefold(), have, self.ladder)
        if order is None:
            return None
        sizes, index = order
        ahead = sizes[index + 1 :] if step > 0 else list(reversed(sizes[:index]))
        return next((s for s in ahead if s in have), None)


def _size_order(size: str, have: set[str], ladder: Sequence[str]) -> tuple[list[str], int] | None:
    """The sizes in order and where `size` is among them: by number, else by the ladder."""
    every = have | {size}
    if all(_number(s) is not None for s in every):
        ordered = sorted(every, key=lambda s: _number(s) or 0)
    elif every <= set(ladder):
        ordered = [s for s in ladder if s in every]
    else:
        return None
    return ordered, ordered.index(size)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _one_letter(unit: str) -> bool:
    return len(unit) == 1 and unit.isascii() and unit.isalpha()


def _shared(current: Mapping[str, str], attributes: Mapping[str, str]) -> int:
    return sum(1 for name, value in attributes.items() if current.get(name) == value)


def reason_for_wish(text: str, words: VariantWords | None = None) -> ReasonCode | None:
    """ "我想要蓝色的", "I'd like it in black": words that name another size or colour and no
    reason are a change of mind (the shop did nothing wrong); the wish then picks the
    variant an exchange offers."""
    return ReasonCode.CHANGED_MIND if (words or default_variant_words()).read_wish(text) else None


@cache
def default_variant_words() -> VariantWords:
    """The shipped vocabulary, read once: it is data that comes with the code."""
    return VariantWords.load()
