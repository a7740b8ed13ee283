"""What a free-text message says: why the customer cancels, that they want to cancel
(and what), or that they want a person. The phrases live in data files, not here.

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
from typing import Any, Final

from rapidfuzz import fuzz, process

from bot.services.matching import NO_SPACE_SCRIPT
from storage.enums import ReasonCode

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data"
DEFAULT_REASONS_FILE: Final = DATA_DIR / "reasons.toml"
DEFAULT_CANCEL_PHRASES_FILE: Final = DATA_DIR / "cancel_phrases.toml"

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


@dataclass(frozen=True, slots=True)
class ReasonGuess:
    code: ReasonCode | None  # None: ask with buttons
    score: float  # how well the best phrase matched (100 = verbatim), 0 when none did
    runner_up: ReasonCode | None  # another reason the message also fits, if any


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

    def classify(self, text: str) -> ReasonGuess:
        hits = self._table.hits(unicodedata.normalize("NFKC", text))
        if not hits:
            return ReasonGuess(None, 0.0, None)
        runner_up = ReasonCode(hits[1].label) if len(hits) > 1 else None
        return ReasonGuess(ReasonCode(hits[0].label), hits[0].score, runner_up)


class CancelPhrases:
    """Reads messages that ask to cancel, and for what, or ask for a person, with the
    phrases of `bot/data/cancel_phrases.toml`. Load it once when the app starts."""

    __slots__ = ("_cancel", "_human", "_leading", "_trailing")

    def __init__(
        self,
        *,
        cancel: Iterable[str],
        human: Iterable[str],
        leading: Iterable[str] = (),
        trailing: Iterable[str] = (),
    ) -> None:
        self._cancel = _PhraseTable({"cancel": cancel})
        self._human = _PhraseTable({"human": human})
        self._leading = _fillers(leading)
        self._trailing = _fillers(trailing)

    @classmethod
    def load(cls, path: Path = DEFAULT_CANCEL_PHRASES_FILE) -> CancelPhrases:
        raw = _read_toml(path)
        target = raw.get("target", {})
        return cls(
            cancel=raw["cancel"]["phrases"],
            human=raw["human"]["phrases"],
            leading=target.get("leading", []),
            trailing=target.get("trailing", []),
        )

    def is_cancel_intent(self, text: str) -> bool:
        return self._cancel.best(unicodedata.normalize("NFKC", text)) is not None

    def wants_human(self, text: str) -> bool:
        return self._human.best(unicodedata.normalize("NFKC", text)) is not None

    def extract_cancel_target(self, text: str) -> str | None:
        """What the message asks to cancel, as written: the words after the cancel
        phrase ("cancel the blue mug"), else before it ("帮我把耳机退掉"), without
        the filler around them; None when nothing but filler is left."""
        text = unicodedata.normalize("NFKC", text)
        hit = self._cancel.best(text)
        if hit is None:
            return None
        units = _units(text)
        after = [unit for unit in units if unit.start >= hit.end]
        before = [unit for unit in units if unit.end <= hit.start]
        for side in (after, before):
            if kept := self._peel(side):
                return text[kept[0].start : kept[-1].end]
        return None

    def _peel(self, units: Sequence[_Unit]) -> Sequence[_Unit]:
        """`units` without filler at either end, peeled until none is left there."""
        words = tuple(unit.text for unit in units)
        start, end = 0, len(words)
        while start < end:
            rest = words[start:end]
            if lead := next((f for f in self._leading if rest[: len(f)] == f), None):
                start += len(lead)
            elif trail := next((f for f in self._trailing if rest[-len(f) :] == f), None):
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
    """The packaged cancel and human phrases, read once."""
    return CancelPhrases.load()


# Shortcuts over the packaged files, for callers that hold no loaded instance.


def classify_reason(text: str) -> ReasonGuess:
    return default_reason_classifier().classify(text)


def is_cancel_intent(text: str) -> bool:
    return default_cancel_phrases().is_cancel_intent(text)


def extract_cancel_target(text: str) -> str | None:
    return default_cancel_phrases().extract_cancel_target(text)


def wants_human(text: str) -> bool:
    return default_cancel_phrases().wants_human(text)
