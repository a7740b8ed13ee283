"""Which of a customer's own orders a message means: by its number or by what was bought.

The caller passes only the customer's orders, so a match never involves anyone
else's. A typed number that is merely close to one of them may still be another
customer's real number, which is why fuzzy matches are graded below EXACT and the
dialog confirms every match that is not EXACT before acting on it.

All scores are on rapidfuzz's 0-100 scale, whether a candidate was found by
number, by description or by date, so one pair of thresholds decides the outcome.
"""

from __future__ import annotations

import heapq
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from storage.repositories.orders import OrderDescription, OrderForMatching, OrderNumbers

if TYPE_CHECKING:
    from storage.models import Order

DEFAULT_MATCHING_FILE: Final = Path(__file__).resolve().parents[2] / "data" / "matching.toml"

# Kana and Han: scripts written without spaces between words, compared by character.
NO_SPACE_SCRIPT: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

EXACT_NUMBER_SCORE: Final = 100.0
# One digit missing, one extra or two adjacent ones swapped: the usual slips of
# typing a number the customer is reading off a receipt.
TYPO_NUMBER_SCORE: Final = 90.0
# One character replaced by another. Shops number orders in sequence, so two real
# numbers (often the same customer's) typically differ in exactly this way: it is
# weak evidence, kept below CONFIDENT_SCORE so that it is only ever offered.
NEAR_NUMBER_SCORE: Final = 60.0
# A message that only says when ("the one from yesterday") lists that period's
# orders to pick from, never a single confident one.
PLACED_AT_ONLY_SCORE: Final = 60.0

# CONFIDENT needs both a high score and a clear lead over the runner-up.
# 80 is where what the customer wrote is, but for a typo, contained in a name or a
# name in it ("the mug", "my new electric kettle", "黑色耳机" 86). Partial overlaps
# score 60-79 and do not rank by relevance: "blue kettle" against "Electric Kettle"
# scores 71, "blue cotton hoodie" against "Blue Cotton Frying Pan" 76; they are
# offered, never chosen. A 15-point lead separates "the blue headphones" (100) from
# the black pair (80) but not two orders of one product, which stay AMBIGUOUS.
CONFIDENT_SCORE: Final = 80.0
CONFIDENT_MARGIN: Final = 15.0
# Below this a candidate is not worth offering: unrelated names reach the 50s on
# shared letters alone ("the bluetooth" against "Blue Cotton Bath Towel" scores 59).
CANDIDATE_FLOOR: Final = 60.0
# An AMBIGUOUS answer lists the candidates this close to the best one, at most so many.
AMBIGUITY_WINDOW: Final = 25.0
MAX_AMBIGUOUS: Final = 5
# `_decide` looks at no more of the ranked candidates than these: the first
# MAX_AMBIGUOUS, and one more to tell one exact number from several.
DECIDED_FROM: Final = MAX_AMBIGUOUS + 1
# An order with attributes recorded, none of which the customer named when they
# named some ("the black headphones"), drops this far: enough to set apart two
# orders of one product in different colours.
ATTRIBUTE_PENALTY: Final = CONFIDENT_MARGIN
# An order outside the period the customer named ("from last week") drops this far,
# enough to break a tie between two otherwise equal descriptions.
TIME_PENALTY: Final = CONFIDENT_MARGIN

# A description word this long that is one edit (OSA) from a word of the customer's
# item names is read as that word ("headphnes", "kettel"); shorter words are too
# often other real words one letter apart.
MIN_TYPO_WORD_LENGTH: Final = 5

# Fewer digits (look-alikes included) than this is a quantity, a size or a year,
# not an order number.
MIN_NUMBER_DIGITS: Final = 5
# One edit in a shorter number is too large a share of it to call a typo.
MIN_FUZZY_NUMBER_LENGTH: Final = 6

_LEADING_LABELS: Final = re.compile(r"^[^A-Z0-9]*(?:(?:ORDER|NUMBER|NO)(?![A-Z0-9])[^A-Z0-9]*)*")
_GLUED_LABEL: Final = re.compile(r"^(?:ORDER|NUMBER|NO)+(?=[0-9]|$)")
_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]")
_FIRST_DIGIT: Final = re.compile(r"[0-9]")
DIGIT_LOOKALIKES: Final = str.maketrans("OIL", "011")
"""Letters read as digits where a digit is expected (`read_lookalikes` applies it)."""
_ASCII_UPPER: Final = string.ascii_uppercase
# How most shops store a number: capital letters, at most one separator, digits. Such a
# number normalises to its letters and digits, unless the letters are only labels
# ("NO-1002345", which `normalize_order_number` reads as 1002345).
_PLAIN_STORED_NUMBER: Final = re.compile(r"([A-Z]*)[-#/._ ]?([0-9]+)")
_PLAIN_STORED_LINES: Final = re.compile(r"^([A-Z]*)[-#/._ ]?([0-9]+)$", re.MULTILINE)
_ONLY_LABELS: Final = re.compile(r"(?:ORDER|NUMBER|NO)+")

# Something typed as an order number: runs of digits and digit look-alikes split by
# spaces or the usual separators, and the word just before them, which may be a
# prefix such as "SO" (or just a word: both readings are tried). Words are taken
# whole: the "l" of "cancel10O2345" is not a digit, "ORD1" is not "O" then "RD1".
_NUMBER_GROUP: Final = r"[0-9OIL]+(?![A-Z0-9])"
_NUMBER_SEPARATOR: Final = r"[\s#\-_./]"
_NUMBER_SPAN: Final = re.compile(
    rf"(?<![A-Z0-9])(?P<prefix>[A-Z]*){_NUMBER_SEPARATOR}*"
    rf"(?P<groups>{_NUMBER_GROUP}(?:{_NUMBER_SEPARATOR}+{_NUMBER_GROUP})*)",
    re.IGNORECASE,
)
_NUMBER_GROUPS: Final = re.compile(_NUMBER_GROUP, re.IGNORECASE)

_TOKEN: Final = re.compile(rf"[{NO_SPACE_SCRIPT}]+|[^\W_{NO_SPACE_SCRIPT}]+")
_NO_SPACE_TOKEN: Final = re.compile(rf"[{NO_SPACE_SCRIPT}]+")
_NEVER: Final = re.compile(r"(?!)")
DESCRIBED_LIMIT: Final = 20_000
"""Product descriptions (and attribute sets) a vocabulary remembers (see
`MatchingVocabulary.describe`)."""
_NO_TERMS: Final[frozenset[str]] = frozenset()


def read_lookalikes(text: str) -> str:
    """`text` with O read as 0 and I or L as 1 (`DIGIT_LOOKALIKES`): three replaces cost
    a tenth of a table-driven `str.translate`, and this runs for every stored number."""
    return text.replace("O", "0").replace("I", "1").replace("L", "1")


def normalize_order_number(text: str) -> str:
    """The canonical form of an order number, for comparing typed text with stored numbers.

    Upper case, without labels ("No.", "Order", "订单号") or separators. Letters before
    the first digit are a prefix and stay letters ("SO"); after it a digit is expected,
    so O reads as 0 and I or L as 1. Both sides of a comparison go through this.
    """
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = _LEADING_LABELS.sub("", text.upper())
    compact = _GLUED_LABEL.sub("", _NOT_ALNUM.sub("", text))
    first_digit = _FIRST_DIGIT.search(compact)
    if first_digit is None:
        return compact
    cut = first_digit.start()
    return compact[:cut] + read_lookalikes(compact[cut:])


class MatchKind(StrEnum):
    EXACT = "exact"  # the customer typed this order's number
    CONFIDENT = "confident"  # one order clearly fits; confirm it with the customer
    AMBIGUOUS = "ambiguous"  # let the customer choose among `best`
    NONE = "none"  # nothing fits


class MatchBasis(StrEnum):
    """What a candidate's score rests on, for the dialog's wording and for logs."""

    NUMBER = "number"
    DESCRIPTION = "description"
    PLACED_AT = "placed_at"


OrderCandidate = OrderForMatching
"""One of the customer's orders, as the matcher needs it (read by `OrderRepository`)."""


def candidate_of(order: Order) -> OrderCandidate:
    """From a stored order whose items are loaded."""
    return OrderCandidate(
        order_id=order.id,
        number=order.number,
        names=tuple(n for item in order.items for n in (item.name, *item.names.values())),
        attributes=tuple(v for item in order.items for v in item.attributes.values()),
        placed_at=order.placed_at,
    )


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    candidate: OrderCandidate
    score: float
    basis: MatchBasis


@dataclass(frozen=True, slots=True)
class OrderMatch:
    kind: MatchKind
    best: tuple[ScoredCandidate, ...]  # best first; one for EXACT and CONFIDENT

    @property
    def order_id(self) -> int | None:
        """The single order meant, when there is one."""
        if self.kind in (MatchKind.EXACT, MatchKind.CONFIDENT):
            return self.best[0].candidate.order_id
        return None


@dataclass(frozen=True, slots=True)
class TimeHint:
    """Phrases naming a period, and that period as days before now: (newest, oldest)."""

    phrases: tuple[str, ...]
    days: tuple[float, float]

    def __post_init__(self) -> None:
        if not 0 <= self.days[0] <= self.days[1]:
            raise ValueError(f"days must be (newest, oldest), both >= 0: {self.days}")

    def covers(self, placed_at: datetime, now: datetime) -> bool:
        age = (now - placed_at) / timedelta(days=1)
        return self.days[0] <= age <= self.days[1]


@dataclass(frozen=True, slots=True)
class Terms:
    """What a name or a description is compared by: Latin words joined by spaces (in a
    crude singular) and the 1- and 2-grams of its CJK runs."""

    words: str
    grams: frozenset[str]
    cjk_share: float  # of the characters, the share in CJK: how to weigh the two scores

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.grams


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A customer's message taken apart: typed numbers, a description and a period."""

    description: Terms
    numbers: tuple[str, ...]  # typed order numbers, canonical and look-alikes folded
    time_hint: TimeHint | None


def _tokens(text: str) -> list[str]:
    """Runs of CJK characters and Latin/digit words, case-folded, punctuation dropped."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _is_no_space(token: str) -> bool:
    return _NO_SPACE_TOKEN.fullmatch(token) is not None


def _grams(pieces: Iterable[str]) -> frozenset[str]:
    """Characters and adjacent character pairs: pairs reward the right word, single
    characters still credit words typed in another order or with one character off."""
    return frozenset(
        gram
        for piece in pieces
        for gram in (*piece, *(piece[i : i + 2] for i in range(len(piece) - 1)))
    )


def _number_key(canonical: str) -> str:
    """The canonical number with every look-alike read as a digit, prefix included, so
    that "SOl002345" (l for 1 right after the prefix) meets "SO-1002345"."""
    return read_lookalikes(canonical)


def _stored_number_forms(number: str) -> tuple[str, str, str]:
    """A stored number's key (`_number_key`), its body (the key without the letter prefix:
    customers often leave "SO-" out) and that prefix: an index of 2,000 orders computes
    these 2,000 times. A number in the usual shape ("SO-1002345") is read by one pattern
    and its prefix's key looked up (a shop has a few prefixes), any other goes through
    `normalize_order_number`; both give the same forms."""
    plain = _PLAIN_STORED_NUMBER.fullmatch(number)
    if plain is not None:
        prefix, body = plain.groups()
        prefix_key = _prefix_key(prefix)
        if prefix_key is not None:
            return prefix_key + body, body, prefix
    canonical = normalize_order_number(number)
    # Canonical is A-Z0-9 with look-alikes already read from the first digit on, so
    # what follows the leading letters is a key as it stands.
    body = canonical.lstrip(_ASCII_UPPER)
    prefix = canonical[: len(canonical) - len(body)]
    return read_lookalikes(prefix) + body, body, prefix


def _number_forms(numbers: Sequence[str]) -> tuple[list[str], list[str], frozenset[str]]:
    """`_stored_number_forms` of many numbers, as columns: their keys, their bodies and
    the set of their prefixes. When every number is in the usual shape, one pattern reads
    them all in one pass over the numbers joined a line each (half the time of a match
    per number at 2,000 orders); otherwise each is read on its own."""
    joined = "\n".join(numbers)
    plain = _PLAIN_STORED_LINES.findall(joined) if joined.count("\n") == len(numbers) - 1 else []
    keys = {prefix: _prefix_key(prefix) for prefix in {prefix for prefix, _ in plain}}
    if len(plain) == len(numbers) and None not in keys.values():
        return (
            [keys[prefix] + body for prefix, body in plain],
            [body for _, body in plain],
            frozenset(prefix for prefix in keys if prefix),
        )
    forms = [_stored_number_forms(number) for number in numbers]
    return (
        [whole for whole, _, _ in forms],
        [body for _, body, _ in forms],
        frozenset(prefix for _, _, prefix in forms if prefix),
    )


@lru_cache(maxsize=1024)
def _prefix_key(prefix: str) -> str | None:
    """The key of a plain number's letter prefix, or None when its letters are only
    labels ("NO-123", "ORDER 123"), which `normalize_order_number` drops."""
    return None if _ONLY_LABELS.fullmatch(prefix) is not None else read_lookalikes(prefix)


def _heads(word: str, prefixes: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """The ways the word before a number may split into a prefix and leading digits.

    The word as typed is one. Look-alike letters run straight after a known prefix
    ("SOooo0O0" for "SO-0000000") are another: read against each prefix letter by
    letter, what follows it, if only look-alikes, is the number's first group.
    """
    yield word, []
    for prefix in prefixes:
        rest = word[len(prefix) :]
        if rest and word[: len(prefix)].upper() == prefix and rest.upper().strip("OIL") == "":
            yield word[: len(prefix)], [rest]


def _typed_numbers(
    text: str, prefixes: Iterable[str] = ()
) -> Iterator[tuple[re.Match[str], tuple[str, ...]]]:
    """Each span of `text` that looks like an order number, with the keys it may be.

    Spaces may split a number ("SO 100 2345") or separate it from the next word
    ("1002345 2 items"), so every run of consecutive groups long enough to be a
    number is a reading, with and without the word before it (a prefix, or just a
    word: "bank 20000mAh"). Spans with no such run ("I", "oil") are not numbers,
    unless a known prefix (see `_heads`) vouches for look-alikes alone ("SOoooOooo").
    """
    for span in _NUMBER_SPAN.finditer(text):
        readings: list[str] = []
        for head, glued in _heads(span["prefix"], prefixes):
            groups = glued + _NUMBER_GROUPS.findall(span["groups"])
            for first in range(len(groups)):
                for last in range(first + 1, len(groups) + 1):
                    digits = "".join(groups[first:last])
                    prefixed = first == 0 and bool(head)
                    if len(digits) < MIN_NUMBER_DIGITS:
                        continue
                    if any(c.isdigit() for c in digits):
                        readings.append(digits)
                    elif not (prefixed and glued):
                        continue
                    if prefixed:
                        readings.append(head + digits)
        if readings:
            keys = (_number_key(normalize_order_number(r)) for r in readings)
            yield span, tuple(dict.fromkeys(keys))


def _grade_number(typed: str, key: str, distance: int) -> float:
    if distance == 0:
        return EXACT_NUMBER_SCORE
    if min(len(typed), len(key)) < MIN_FUZZY_NUMBER_LENGTH:
        return 0.0
    substituted = len(typed) == len(key) and Levenshtein.distance(typed, key) == 1
    return NEAR_NUMBER_SCORE if substituted else TYPO_NUMBER_SCORE


class MatchingVocabulary:
    """The words around descriptions, the time phrases and the attribute aliases of
    `bot/data/matching.toml`. Load it once when the app starts and share it."""

    __slots__ = (
        "_aliases",
        "_attribute_sets",
        "_cjk_stop",
        "_described",
        "_groups",
        "_hint_by_phrase",
        "_hints",
        "_latin_stop",
    )

    def __init__(
        self,
        *,
        stop_words: Iterable[str],
        time_hints: Iterable[TimeHint] = (),
        alias_groups: Iterable[Iterable[str]] = (),
    ) -> None:
        latin: set[str] = set()
        cjk: set[str] = set()
        for word in stop_words:
            tokens = _tokens(word)
            if len(tokens) != 1:
                raise ValueError(f"a stop word must be one word: {word!r}")
            (cjk if _is_no_space(tokens[0]) else latin).add(tokens[0])
        self._latin_stop = frozenset(latin)
        self._cjk_stop = _alternation(cjk)

        hint_by_phrase: dict[str, TimeHint] = {}
        for hint in time_hints:
            for phrase in hint.phrases:
                key = " ".join(_tokens(phrase))
                if key in hint_by_phrase:
                    raise ValueError(f"time phrase {phrase!r} is listed twice")
                hint_by_phrase[key] = hint
        self._hint_by_phrase = MappingProxyType(hint_by_phrase)
        self._hints = _alternation(hint_by_phrase, whole_words=True)

        aliases: dict[str, frozenset[str]] = {}
        groups: dict[str, tuple[str, ...]] = {}
        for group in alias_groups:
            members = frozenset(" ".join(_tokens(word)) for word in group)
            for member in members:
                aliases[member] = aliases.get(member, frozenset()) | members
                groups.setdefault(member, tuple(group))
        self._aliases: Mapping[str, frozenset[str]] = MappingProxyType(aliases)
        self._described: dict[tuple[str, tuple[str, ...]], Terms] = {}
        self._attribute_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self._groups: Mapping[str, tuple[str, ...]] = MappingProxyType(groups)

    @classmethod
    def load(cls, path: Path = DEFAULT_MATCHING_FILE) -> MatchingVocabulary:
        with path.open("rb") as file:
            raw: dict[str, Any] = tomllib.load(file)
        stop = raw.get("stop_words", {})
        return cls(
            stop_words=[*stop.get("en", []), *stop.get("zh", [])],
            time_hints=[
                TimeHint(tuple(hint["phrases"]), (float(hint["days"][0]), float(hint["days"][1])))
                for hint in raw.get("time_hints", [])
            ],
            alias_groups=raw.get("attribute_aliases", {}).get("groups", []),
        )

    def attribute_in(self, value: str, locale: str) -> str:
        """An attribute value as a reader of `locale` writes it: "blue" is "蓝色" in zh
        (the aliases of matching.toml); a value with no alias stays as the shop wrote it."""
        chinese = locale == "zh"
        if any(_is_no_space(token) for token in _tokens(value)) == chinese:
            return value
        for alias in self._groups.get(" ".join(_tokens(value)), ()):
            if any(_is_no_space(token) for token in _tokens(alias)) == chinese:
                return alias
        return value

    def attribute_terms(self, attributes: Iterable[str]) -> frozenset[str]:
        """Attribute values and their aliases, as the words and CJK runs a query may name.

        Remembered like descriptions (`describe`): most orders repeat a few attribute sets."""
        key = tuple(attributes)
        if not key:
            return _NO_TERMS
        known = self._attribute_sets.get(key)
        if known is None:
            if len(self._attribute_sets) >= DESCRIBED_LIMIT:
                self._attribute_sets.clear()
            known = frozenset(map(_singular, self._attribute_tokens(key)))
            self._attribute_sets[key] = known
        return known

    def describe(self, name: str, attributes: Iterable[str]) -> Terms:
        """A product name with the order's attribute values and their aliases, in the
        name's own scripts only: "blue" alone must not stand for the name "蓝牙耳机".

        Remembered (a bounded table): a customer's orders repeat the shop's products,
        and describing them is most of what indexing 2,000 orders costs."""
        key = (name, tuple(attributes))
        known = self._described.get(key)
        if known is None:
            if len(self._described) >= DESCRIBED_LIMIT:
                self._described.clear()
            known = self._described[key] = self._describe(name, key[1])
        return known

    def _describe(self, name: str, attributes: Iterable[str]) -> Terms:
        tokens = _tokens(name)
        scripts = {_is_no_space(token) for token in tokens}
        tokens += [t for t in self._attribute_tokens(attributes) if _is_no_space(t) in scripts]
        return _text(tokens)

    def _attribute_tokens(self, attributes: Iterable[str]) -> list[str]:
        tokens: list[str] = []
        for value in attributes:
            key = " ".join(_tokens(value))
            for alias in self._aliases.get(key, (key,)):
                tokens.extend(alias.split())
        return tokens

    def parse(self, text: str, *, prefixes: Iterable[str] = ()) -> ParsedMessage:
        """The order numbers, the period and, without filler words, the description in
        a message; the numbers and the period are cut out of the description.
        `prefixes` are the shop's known letter prefixes, upper case (see `_heads`)."""
        text = unicodedata.normalize("NFKC", text)
        numbers: list[str] = []
        rest: list[str] = []
        position = 0
        for span, keys in _typed_numbers(text, prefixes):
            numbers.extend(keys)
            rest.append(text[position : span.start("groups")])
            position = span.end()
        rest.append(text[position:])

        words = " ".join(_tokens(" ".join(rest)))
        hint = None
        if found := self._hints.search(words):
            hint = self._hint_by_phrase[found.group()]
            words = self._hints.sub(" ", words)
        content: list[str] = []
        for token in words.split():
            if _is_no_space(token):
                content.extend(piece for piece in self._cjk_stop.split(token) if piece)
            elif len(token) > 1 and token not in self._latin_stop:
                content.append(token)
        return ParsedMessage(_text(content), tuple(dict.fromkeys(numbers)), hint)


def _alternation(phrases: Iterable[str], *, whole_words: bool = False) -> re.Pattern[str]:
    """One pattern finding any of `phrases`, the longest first; Latin ones as whole words."""
    ordered = sorted(phrases, key=len, reverse=True)
    if not ordered:
        return _NEVER
    parts = (
        re.escape(p) if _is_no_space(p) or not whole_words else rf"(?<!\w){re.escape(p)}(?!\w)"
        for p in ordered
    )
    return re.compile("|".join(parts))


def _singular(word: str) -> str:
    """A crude English singular, applied to names and queries alike so that "mugs"
    meets "Mug" and "headphone" meets "Headphones"; a wrong cut is harmless when
    both sides get the same one."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith("ss"):
        return word
    return word[:-3] + "y" if word.endswith("ies") else word[:-1]


def _text(tokens: Iterable[str]) -> Terms:
    latin: list[str] = []
    cjk: list[str] = []
    for token in tokens:
        if _is_no_space(token):
            cjk.append(token)
        else:
            latin.append(_singular(token))
    words = " ".join(latin)
    cjk_chars = sum(map(len, cjk))
    total = cjk_chars + len(words.replace(" ", ""))
    return Terms(words, _grams(cjk), cjk_chars / total if total else 0.0)


@cache
def default_vocabulary() -> MatchingVocabulary:
    """The packaged vocabulary, read once."""
    return MatchingVocabulary.load()


class CandidateIndex:
    """One customer's orders in the forms the matcher compares.

    Build it once per conversation step (or let `match_order` build one per call):
    number keys and descriptions are computed here once, so matching a message is
    one rapidfuzz pass over them.

    Built from `OrderNumbers` (`numbers_only`), it holds the orders' numbers and dates
    and not yet what their items are called: a typed number or a period needs nothing
    more, and thousands of orders are indexed in a fraction of the time. A message that
    describes an order (`needs_descriptions`) waits for `describe`, which adds the
    items' names and attributes once for every later match. The orders are held as
    columns; a candidate is made only for an order that scores.
    """

    __slots__ = (
        "_attribute_terms",
        "_attributes",
        "_bodies",
        "_described",
        "_description_owner",
        "_description_words",
        "_descriptions",
        "_ids",
        "_known_words",
        "_names",
        "_numbers",
        "_placed_at",
        "_prefixes",
        "_vocabulary",
        "_wholes",
    )

    def __init__(
        self, candidates: Sequence[OrderCandidate], vocabulary: MatchingVocabulary | None = None
    ) -> None:
        self._index_numbers(
            OrderNumbers(
                [c.order_id for c in candidates],
                [c.number for c in candidates],
                [c.placed_at for c in candidates],
            ),
            vocabulary,
        )
        self.describe({c.order_id: OrderDescription(c.names, c.attributes) for c in candidates})

    @classmethod
    def numbers_only(
        cls, orders: OrderNumbers, vocabulary: MatchingVocabulary | None = None
    ) -> CandidateIndex:
        """The orders' numbers and dates, without descriptions until `describe`."""
        index = cls.__new__(cls)
        index._index_numbers(orders, vocabulary)
        return index

    def _index_numbers(self, orders: OrderNumbers, vocabulary: MatchingVocabulary | None) -> None:
        self._vocabulary = vocabulary or default_vocabulary()
        self._ids, self._numbers, self._placed_at = orders
        self._wholes, self._bodies, self._prefixes = _number_forms(self._numbers)
        self._described = False
        self._names: list[tuple[str, ...]] = [()] * len(self._ids)
        self._attributes: list[tuple[str, ...]] = [()] * len(self._ids)
        self._description_owner: list[int] = []
        self._descriptions: list[Terms] = []
        self._description_words: list[str] = []
        self._attribute_terms: list[frozenset[str]] = []
        self._known_words: list[str] = []

    def __len__(self) -> int:
        """How many orders it holds (what a cache of indexes counts against its budget)."""
        return len(self._ids)

    def parse(self, text: str) -> ParsedMessage:
        """`text` taken apart, with these orders' number prefixes known."""
        return self._vocabulary.parse(text, prefixes=self._prefixes)

    def needs_descriptions(self, message: ParsedMessage) -> bool:
        """Whether matching `message` needs the names and attributes not read yet."""
        return not self._described and not message.description.is_empty

    def describe(self, descriptions: Mapping[int, OrderDescription]) -> None:
        """Adds the orders' item names and attributes, by order id (an order missing
        from `descriptions` has no items); the numbers stay as indexed."""
        missing = OrderDescription((), ())
        found = [descriptions.get(order_id, missing) for order_id in self._ids]
        self._names = [names for names, _ in found]
        self._attributes = [attributes for _, attributes in found]
        owned = [
            (position, self._vocabulary.describe(name, attributes))
            for position, (names, attributes) in enumerate(found)
            for name in names
        ]
        self._description_owner = [position for position, _ in owned]
        self._descriptions = [description for _, description in owned]
        self._description_words = [description.words for description in self._descriptions]
        self._attribute_terms = [self._vocabulary.attribute_terms(a) for a in self._attributes]
        self._known_words = sorted({w for words in self._description_words for w in words.split()})
        self._described = True

    def _candidate(self, position: int) -> OrderCandidate:
        return OrderCandidate(
            self._ids[position],
            self._numbers[position],
            self._names[position],
            self._attributes[position],
            self._placed_at[position],
        )

    def match(self, text: str, *, now: datetime | None = None) -> OrderMatch:
        """The order(s) `text` means. With `now` (aware, like `placed_at`), a period
        the message names ("from last week", "上周") counts too."""
        return self.match_message(self.parse(text), now=now)

    def match_message(self, message: ParsedMessage, *, now: datetime | None = None) -> OrderMatch:
        """`match` for a message already parsed by `parse`."""
        if self.needs_descriptions(message):
            raise LookupError("the message describes an order: call describe() first")
        scored: dict[int, tuple[float, MatchBasis]] = {}
        for position, score in self._number_scores(message.numbers).items():
            _keep(scored, position, score, MatchBasis.NUMBER)
        basis, scores = self._other_scores(message, now)
        for position, score in scores.items():
            _keep(scored, position, score, basis)
        # `_decide` reads only the best few (exact numbers score highest, so they lead):
        # candidates are made for those alone, not for every order a description fits.
        best = heapq.nsmallest(DECIDED_FROM, scored, key=lambda p: self._rank(p, *scored[p]))
        return _decide([ScoredCandidate(self._candidate(p), *scored[p]) for p in best])

    def _rank(
        self, position: int, score: float, basis: MatchBasis
    ) -> tuple[float, bool, float, int]:
        """Best score first; on a tie an exact number (which `_decide` must see however
        many descriptions score as high), then the newer order, the one a customer most
        likely means, then the lower id (so the answer never depends on the orders' order)."""
        exact = basis is MatchBasis.NUMBER and score >= EXACT_NUMBER_SCORE
        return (-score, not exact, -self._placed_at[position].timestamp(), self._ids[position])

    def _number_scores(self, typed_numbers: Iterable[str]) -> dict[int, float]:
        """Each candidate's best grade against any typed number, by OSA distance (a swap
        of adjacent characters is one edit) to its whole number and to its body."""
        scores: dict[int, float] = {}
        for typed in typed_numbers:
            for keys in (self._wholes, self._bodies):
                for key, distance, position in process.extract(
                    typed, keys, scorer=OSA.distance, score_cutoff=1, limit=None
                ):
                    grade = _grade_number(typed, key, int(distance))
                    scores[position] = max(grade, scores.get(position, 0.0))
        return scores

    def _other_scores(
        self, message: ParsedMessage, now: datetime | None
    ) -> tuple[MatchBasis, dict[int, float]]:
        """Scores by description, moved by the period the customer named, if any.

        A period that holds none of the orders is ignored rather than held against all.
        """
        scores = self._prefer_named_attributes(
            message.description, self._description_scores(message.description)
        )
        hint = message.time_hint
        if hint is None or now is None:
            return MatchBasis.DESCRIPTION, scores
        inside = {
            position
            for position, placed_at in enumerate(self._placed_at)
            if hint.covers(placed_at, now)
        }
        if not inside:
            return MatchBasis.DESCRIPTION, scores
        if message.description.is_empty:
            return MatchBasis.PLACED_AT, dict.fromkeys(inside, PLACED_AT_ONLY_SCORE)
        return MatchBasis.DESCRIPTION, {
            position: score if position in inside else score - TIME_PENALTY
            for position, score in scores.items()
        }

    def _prefer_named_attributes(self, query: Terms, scores: dict[int, float]) -> dict[int, float]:
        """Scores with ATTRIBUTE_PENALTY off orders whose recorded attributes miss every
        one the customer named. Orders with none recorded keep theirs: "the blue kettle"
        may be blue although the shop never said so."""
        if not scores:
            return scores
        words = set(query.words.split())
        named = {
            term
            for terms in self._attribute_terms
            for term in terms
            if term in words or (_is_no_space(term) and _grams([term]) <= query.grams)
        }
        if not named:
            return scores
        return {
            position: score - ATTRIBUTE_PENALTY
            if self._attribute_terms[position] and not named & self._attribute_terms[position]
            else score
            for position, score in scores.items()
        }

    def _description_scores(self, query: Terms) -> dict[int, float]:
        """Each candidate's best score over its names: token_set_ratio on Latin words
        (order-free; a description whose words are all in the name scores 100) and, for
        CJK, the share of the query's 1- and 2-grams found in the name."""
        by_description: dict[int, float] = {}
        if query.words:
            # Without CJK to add, a name below the floor on its words stays below it.
            cutoff = 0.0 if query.grams else CANDIDATE_FLOOR
            for _, score, index in process.extract(
                self._spelled(query.words),
                self._description_words,
                scorer=fuzz.token_set_ratio,
                limit=None,
                score_cutoff=cutoff,
            ):
                by_description[index] = (1.0 - query.cjk_share) * score
        if query.grams:
            for index, description in enumerate(self._descriptions):
                if found := len(query.grams & description.grams):
                    share = query.cjk_share * 100.0 * found / len(query.grams)
                    by_description[index] = by_description.get(index, 0.0) + share
        scores: dict[int, float] = {}
        for index, score in by_description.items():
            owner = self._description_owner[index]
            scores[owner] = max(score, scores.get(owner, 0.0))
        return scores

    def _spelled(self, words: str) -> str:
        """`words` with each typo of an item-name word replaced by that word, so that
        token_set_ratio counts it as shared rather than as a different word."""
        spelled: list[str] = []
        for word in words.split():
            if len(word) >= MIN_TYPO_WORD_LENGTH:
                known = process.extractOne(
                    word, self._known_words, scorer=OSA.distance, score_cutoff=1
                )
                word = known[0] if known is not None else word
            spelled.append(word)
        return " ".join(spelled)


def _keep(
    scored: dict[int, tuple[float, MatchBasis]], position: int, score: float, basis: MatchBasis
) -> None:
    """Records `score` if it reaches the floor and beats what the order already has."""
    held = scored.get(position)
    if score >= CANDIDATE_FLOOR and (held is None or score > held[0]):
        scored[position] = (score, basis)


def _decide(ranked: Sequence[ScoredCandidate]) -> OrderMatch:
    """The verdict on candidates ranked best first (the best `DECIDED_FROM` are enough):
    a typed number settles it when it is exactly one order's; otherwise the thresholds
    above decide."""
    exact = [s for s in ranked if s.basis is MatchBasis.NUMBER and s.score >= EXACT_NUMBER_SCORE]
    if len(exact) == 1:
        return OrderMatch(MatchKind.EXACT, (exact[0],))
    if exact:
        return OrderMatch(MatchKind.AMBIGUOUS, tuple(exact[:MAX_AMBIGUOUS]))
    if not ranked:
        return OrderMatch(MatchKind.NONE, ())
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= CONFIDENT_SCORE and best.score - runner_up >= CONFIDENT_MARGIN:
        return OrderMatch(MatchKind.CONFIDENT, (best,))
    close = [s for s in ranked if s.score >= best.score - AMBIGUITY_WINDOW]
    return OrderMatch(MatchKind.AMBIGUOUS, tuple(close[:MAX_AMBIGUOUS]))


def match_order(
    text: str,
    candidates: Sequence[OrderCandidate],
    *,
    vocabulary: MatchingVocabulary | None = None,
    now: datetime | None = None,
) -> OrderMatch:
    """Which of `candidates` (the customer's own orders, and only theirs) `text` means."""
    return CandidateIndex(candidates, vocabulary).match(text, now=now)
