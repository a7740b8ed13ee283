"""What a free-text message says: why the customer cancels, that they want to cancel
(and what), that they ask about something under way, that they want a person, or
small talk. The phrases live in data files, not here.

Phrases are compared on units: Latin words and single CJK characters. A phrase
matches a stretch of whole units, so "late" is not found in "plate", while "坏了"
is found in "耳机坏了" although Chinese has no spaces.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, NamedTuple

from rapidfuzz import fuzz, process

from bot.services.cancellation.matching import NO_SPACE_SCRIPT
from storage.enums import ReasonCode

DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data"
DEFAULT_REASONS_FILE: Final = DATA_DIR / "reasons.toml"
DEFAULT_CANCEL_PHRASES_FILE: Final = DATA_DIR / "cancel_phrases.toml"
DEFAULT_SMALLTALK_FILE: Final = DATA_DIR / "smalltalk.toml"

# A phrase is found where a stretch of the message scores this much with fuzz.ratio
# (100 = verbatim). It forgives one dropped or doubled letter from 6 letters up
# ("brokn" 91, "damagedd" 93) and one wrong or swapped letter from 7 up, but not
# in 6 ("cancer" is 83 from "cancel"): common misspellings of short words belong
# in the data files.
PHRASE_CUTOFF: Final = 85.0
# Lighter phrases (a letter weighs 1, a CJK character 2) must appear verbatim: one
# changed letter makes another word of them, "late" "lane", "坏了" "好了".
MIN_FUZZY_WEIGHT: Final = 6

_UNIT: Final = re.compile(rf"[{NO_SPACE_SCRIPT}]|[^\W_{NO_SPACE_SCRIPT}]+")
_CJK_UNIT: Final = re.compile(rf"[{NO_SPACE_SCRIPT}]")


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str  # case-folded
    start: int
    end: int


def _units(text: str) -> tuple[_Unit, ...]:
    """The words and CJK characters of `text` (already NFKC), with their places in it."""
    return tuple(_Unit(m.group().casefold(), m.start(), m.end()) for m in _UNIT.finditer(text))


def _is_cjk(unit: str) -> bool:
    return _CJK_UNIT.fullmatch(unit) is not None


def _join(units: Sequence[str]) -> str:
    """Units as one string: CJK characters run together, other units space-separated."""
    parts: list[str] = []
    for index, unit in enumerate(units):
        if index and not (_is_cjk(units[index - 1]) and _is_cjk(unit)):
            parts.append(" ")
        parts.append(unit)
    return "".join(parts)


def _weight(units: Sequence[str]) -> int:
    return sum(2 if _is_cjk(unit) else len(unit) for unit in units)


def _phrase_units(phrase: str) -> tuple[str, ...]:
    return tuple(unit.text for unit in _units(unicodedata.normalize("NFKC", phrase)))


@dataclass(frozen=True, slots=True)
class _Phrase:
    label: str
    text: str  # its units joined
    size: int  # how many units
    weight: int


@dataclass(frozen=True, slots=True)
class _Hit:
    label: str
    score: float
    weight: int
    start: int  # where the matched stretch is in the (NFKC) message
    end: int

    def rank(self) -> tuple[float, int, int]:
        """Best score first; then the weightier, more specific phrase ("wrong size" over
        "size"); then the earlier one."""
        return (self.score, self.weight, -self.start)


class _Windows:
    """Every stretch of consecutive units of a message, by length, built on demand."""

    __slots__ = ("_by_size", "_units")

    def __init__(self, units: Sequence[_Unit]) -> None:
        self._units = units
        self._by_size: dict[int, tuple[list[str], list[tuple[int, int]]]] = {}

    def of_size(self, size: int) -> tuple[list[str], list[tuple[int, int]]]:
        """The stretches of `size` units: their joined texts and their spans."""
        if size not in self._by_size:
            starts = range(len(self._units) - size + 1) if size > 0 else range(0)
            stretches = [self._units[i : i + size] for i in starts]
            self._by_size[size] = (
                [_join([unit.text for unit in stretch]) for stretch in stretches],
                [(stretch[0].start, stretch[-1].end) for stretch in stretches],
            )
        return self._by_size[size]


class _PhraseTable:
    """Phrases under labels, each phrase under one label only."""

    __slots__ = ("_phrases",)

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        owner: dict[str, str] = {}
        table: list[_Phrase] = []
        for label, texts in phrases.items():
            for text in texts:
                units = _phrase_units(text)
                if not units:
                    raise ValueError(f"an empty phrase under {label!r}")
                joined = _join(units)
                if owner.setdefault(joined, label) != label:
                    raise ValueError(f"{text!r} is under both {owner[joined]!r} and {label!r}")
                table.append(_Phrase(label, joined, len(units), _weight(units)))
        self._phrases = tuple(table)

    def hits(self, text: str) -> list[_Hit]:
        """The best hit of each label found in `text` (NFKC), best first."""
        windows = _Windows(_units(text))
        best: dict[str, _Hit] = {}
        for phrase in self._phrases:
            hit = _find(phrase, windows)
            held = best.get(phrase.label)
            if hit is not None and (held is None or hit.rank() > held.rank()):
                best[phrase.label] = hit
        return sorted(best.values(), key=_Hit.rank, reverse=True)

    def best(self, text: str) -> _Hit | None:
        """The best hit of any label, if any."""
        hits = self.hits(text)
        return hits[0] if hits else None

    def verbatim_spans(self, text: str) -> list[Span]:
        """Every place any phrase occurs word for word in `text` (NFKC)."""
        windows = _Windows(_units(text))
        found = []
        for phrase in self._phrases:
            texts, spans = windows.of_size(phrase.size)
            found += [
                span for joined, span in zip(texts, spans, strict=True) if joined == phrase.text
            ]
        return found


def _find(phrase: _Phrase, windows: _Windows) -> _Hit | None:
    """`phrase` verbatim in the message or, if heavy enough, nearly so: against
    stretches of one unit fewer or more too, for a missing or an extra word."""
    texts, spans = windows.of_size(phrase.size)
    if phrase.text in texts:
        return _Hit(phrase.label, 100.0, phrase.weight, *spans[texts.index(phrase.text)])
    if phrase.weight < MIN_FUZZY_WEIGHT:
        return None
    texts, spans = list(texts), list(spans)
    for size in (phrase.size - 1, phrase.size + 1):
        more_texts, more_spans = windows.of_size(size)
        texts += more_texts
        spans += more_spans
    found = process.extractOne(phrase.text, texts, scorer=fuzz.ratio, score_cutoff=PHRASE_CUTOFF)
    if found is None:
        return None
    return _Hit(phrase.label, found[1], phrase.weight, *spans[found[2]])


def _read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


Span = tuple[int, int]
"""Where a phrase was found: start and end in the message after NFKC normalisation."""


class Found(NamedTuple):
    span: Span
    score: float  # 100 = verbatim


@dataclass(frozen=True, slots=True)
class ReasonGuess:
    code: ReasonCode | None  # None: ask with buttons
    score: float  # how well the best phrase matched (100 = verbatim), 0 when none did
    runner_up: ReasonCode | None  # another reason the message also fits, if any
    span: Span | None = None  # where the words that gave the reason away are


class ReasonClassifier:
    """Guesses a ReasonCode from free text with the phrases of `bot/data/reasons.toml`.

    Load it once when the app starts. OTHER has no phrases: the customer chooses it.
    """

    __slots__ = ("_table",)

    def __init__(self, phrases: Mapping[ReasonCode, Iterable[str]]) -> None:
        if ReasonCode.OTHER in phrases:
            raise ValueError("'other' is chosen by the customer, never guessed")
        self._table = _PhraseTable({code.value: texts for code, texts in phrases.items()})

    @classmethod
    def load(cls, path: Path = DEFAULT_REASONS_FILE) -> ReasonClassifier:
        raw = _read_toml(path)
        return cls({ReasonCode(name): section["phrases"] for name, section in raw.items()})

    def classify(self, text: str, *, without: Sequence[Span] = ()) -> ReasonGuess:
        """The reason `text` gives, leaving out the stretches `without` (say, the words
        that asked to cancel: "不要了" cancels, it is not also a reason)."""
        hits = self._table.hits(_blank(unicodedata.normalize("NFKC", text), without))
        if not hits:
            return ReasonGuess(None, 0.0, None)
        best = hits[0]
        runner_up = ReasonCode(hits[1].label) if len(hits) > 1 else None
        return ReasonGuess(ReasonCode(best.label), best.score, runner_up, (best.start, best.end))


class CancelPhrases:
    """Reads messages that ask to cancel, and for what, ask about something under way, or
    ask for a person, with the phrases of `bot/data/cancel_phrases.toml`. Load it once
    when the app starts."""

    __slots__ = ("_cancel", "_human", "_leading", "_status", "_trailing")

    def __init__(
        self,
        *,
        cancel: Iterable[str],
        human: Iterable[str],
        status: Iterable[str] = (),
        leading: Iterable[str] = (),
        trailing: Iterable[str] = (),
    ) -> None:
        self._cancel = _PhraseTable({"cancel": cancel})
        self._human = _PhraseTable({"human": human})
        self._status = _PhraseTable({"status": status})
        self._leading = _fillers(leading)
        self._trailing = _fillers(trailing)

    @classmethod
    def load(cls, path: Path = DEFAULT_CANCEL_PHRASES_FILE) -> CancelPhrases:
        raw = _read_toml(path)
        target = raw.get("target", {})
        return cls(
            cancel=raw["cancel"]["phrases"],
            human=raw["human"]["phrases"],
            status=raw.get("status", {}).get("phrases", []),
            leading=target.get("leading", []),
            trailing=target.get("trailing", []),
        )

    def is_cancel_intent(self, text: str) -> bool:
        return self.find_cancel(text) is not None

    def find_cancel(self, text: str) -> Found | None:
        """Where the message asks to cancel, return or be refunded, if it does: the best
        phrase together with those overlapping it ("我要退货" is "要退" and "退货")."""
        text = unicodedata.normalize("NFKC", text)
        hit = self._cancel.best(text)
        if hit is None:
            return None
        start, end = hit.start, hit.end
        for other_start, other_end in sorted(self._cancel.verbatim_spans(text)):
            if other_start < end and start < other_end:
                start, end = min(start, other_start), max(end, other_end)
        return Found((start, end), hit.score)

    def wants_human(self, text: str) -> bool:
        return self._human.best(unicodedata.normalize("NFKC", text)) is not None

    def asks_status(self, text: str) -> bool:
        """ "Where is my refund?", "退款什么时候到账": a question about what is under way."""
        return self._status.best(unicodedata.normalize("NFKC", text)) is not None

    def extract_cancel_target(self, text: str, *, without: Sequence[Span] = ()) -> str | None:
        """What the message asks to cancel, as written: the words after the cancel
        phrase ("cancel the blue mug"), else before it ("帮我把耳机退掉"), without
        the filler around them and without the stretches `without` (the reason: "return
        the t-shirt, wrong size" names "t-shirt"); None when nothing but filler is left."""
        text = unicodedata.normalize("NFKC", text)
        found = self.find_cancel(text)
        if found is None:
            return None
        start, end = found.span
        units = [unit for unit in _units(text) if not _inside(unit, without)]
        after = [unit for unit in units if unit.start >= end]
        before = [unit for unit in units if unit.end <= start]
        for side in (after, before):
            if kept := _peel(side, self._leading, self._trailing):
                return text[kept[0].start : kept[-1].end]
        return None


# Tried in this order; how many other words each may come with.
SMALLTALK_ORDER: Final = ("thanks", "greeting", "goodbye", "ack")
MAX_SMALLTALK_EXTRA: Final = 2
_SMALLTALK_EXTRA: Final = {
    "thanks": MAX_SMALLTALK_EXTRA,
    "greeting": 1_000,
    "goodbye": MAX_SMALLTALK_EXTRA,
    "ack": 0,
}


class SmallTalk:
    """Greetings, thanks, goodbyes and "ok", with the phrases of `bot/data/smalltalk.toml`.

    A greeting may come with anything; thanks and goodbyes with at most
    `MAX_SMALLTALK_EXTRA` other words; an acknowledgement only alone, so "ok, and how do
    I change my address?" is not answered with a thumbs-up.
    """

    __slots__ = ("_table",)

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        unknown = set(phrases) - set(SMALLTALK_ORDER)
        if unknown:
            raise ValueError(f"unknown small talk {sorted(unknown)}; use {SMALLTALK_ORDER}")
        self._table = {label: _PhraseTable({label: phrases[label]}) for label in phrases}

    @classmethod
    def load(cls, path: Path = DEFAULT_SMALLTALK_FILE) -> SmallTalk:
        return cls({name: section["phrases"] for name, section in _read_toml(path).items()})

    def read(self, text: str) -> str | None:
        """ "greeting", "thanks", "goodbye", "ack", or None; the first that fits, in
        SMALLTALK_ORDER ("好的，谢谢" thanks rather than acknowledges)."""
        text = unicodedata.normalize("NFKC", text)
        units = _units(text)
        for label in SMALLTALK_ORDER:
            table = self._table.get(label)
            hit = table.best(text) if table else None
            if hit is None:
                continue
            extra = sum(1 for unit in units if not hit.start <= unit.start < hit.end)
            if extra <= _SMALLTALK_EXTRA[label]:
                return label
        return None


def _inside(unit: _Unit, spans: Sequence[Span]) -> bool:
    return any(start <= unit.start and unit.end <= end for start, end in spans)


def _blank(text: str, spans: Sequence[Span]) -> str:
    """`text` with the stretches `spans` turned into spaces, positions kept."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _peel(
    units: Sequence[_Unit],
    leading: Sequence[tuple[str, ...]],
    trailing: Sequence[tuple[str, ...]],
) -> Sequence[_Unit]:
    """`units` without filler at either end, peeled until none is left there."""
    words = tuple(unit.text for unit in units)
    start, end = 0, len(words)
    while start < end:
        rest = words[start:end]
        if lead := next((f for f in leading if rest[: len(f)] == f), None):
            start += len(lead)
        elif trail := next((f for f in trailing if rest[-len(f) :] == f), None):
            end -= len(trail)
        else:
            break
    return units[start:end]


def _fillers(phrases: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Filler phrases as units, the longest first so "我买的" goes before "我"."""
    units = {_phrase_units(p) for p in phrases} - {()}
    return tuple(sorted(units, key=lambda filler: (-len(filler), filler)))


@cache
def default_reason_classifier() -> ReasonClassifier:
    """The packaged reason phrases, read once."""
    return ReasonClassifier.load()


@cache
def default_cancel_phrases() -> CancelPhrases:
    """The packaged cancel, status and human phrases, read once."""
    return CancelPhrases.load()


@cache
def default_smalltalk() -> SmallTalk:
    """The packaged small-talk phrases, read once."""
    return SmallTalk.load()


# Shortcuts over the packaged files, for callers that hold no loaded instance.


def classify_reason(text: str) -> ReasonGuess:
    return default_reason_classifier().classify(text)


def is_cancel_intent(text: str) -> bool:
    return default_cancel_phrases().is_cancel_intent(text)


def extract_cancel_target(text: str) -> str | None:
    return default_cancel_phrases().extract_cancel_target(text)


def wants_human(text: str) -> bool:
    return default_cancel_phrases().wants_human(text)
