"""What a message means: whole-message commands ("stop", "退款到哪了") and, for a person
who is not in the middle of anything, everyday words read in one fixed order.

The phrases live in data files (`bot/data/*.toml`), not here. `MessageReader.read` is
the single place that decides what a free-text message asks for when nothing is under
way; the dialogs' filters ask it, and `tests/services/test_everyday_phrases.py`
measures it on what people really write.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from bot.services.cancellation.reasons import (
    CancelPhrases,
    Found,
    ReasonClassifier,
    ReasonGuess,
    SmallTalk,
    default_cancel_phrases,
    default_reason_classifier,
    default_smalltalk,
)
from storage.enums import ReasonCode

DEFAULT_INTENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "intents.toml"
READ_CACHE = 1024  # messages whose reading is remembered


def normalize_phrase(text: str) -> str:
    """Case-folded, punctuation and surrounding spaces removed, inner spaces collapsed."""
    kept = "".join(
        " " if unicodedata.category(ch).startswith(("P", "Z")) else ch for ch in text.casefold()
    )
    return " ".join(kept.split())


@dataclass(frozen=True, slots=True)
class Intents:
    phrases: dict[str, frozenset[str]]

    @classmethod
    def load(cls, path: Path = DEFAULT_INTENTS_FILE) -> Intents:
        with path.open("rb") as file:
            raw = tomllib.load(file)
        return cls(
            {
                name: frozenset(normalize_phrase(p) for p in section.get("phrases", []))
                for name, section in raw.items()
            }
        )

    def matches(self, intent: str, text: str | None) -> bool:
        return text is not None and normalize_phrase(text) in self.phrases.get(intent, ())


class Topic(StrEnum):
    """What a message asks for, when the person is not in the middle of anything."""

    STOP = "stop"
    HELP = "help"
    STATUS = "status"
    PERSON = "person"
    CANCEL = "cancel"
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    ACK = "ack"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Said:
    """A reason the customer gave before being asked, with their own words."""

    reason: ReasonCode
    words: str


@dataclass(frozen=True, slots=True)
class Reading:
    topic: Topic
    said: Said | None = None  # CANCEL: why, when the message says so
    target: str | None = None  # CANCEL: the order or item it names ("the blue mug")

    @property
    def label(self) -> str:
        """ "cancel:wrong_size", "status": as tests/data/everyday_phrases.tsv writes it."""
        return f"{self.topic}:{self.said.reason}" if self.said else str(self.topic)


class MessageReader:
    """Reads a free-text message in a fixed order, the first answer wins:

    1. a whole-message command (intents.toml): stop, help, status;
    2. a person ("agent", "人工");
    3. a question about what is under way ("where is my refund?"), before
    4. a wish to cancel, return or be refunded ("refund", "我要退货"), with the reason
       and the order or item it names, if it does ("return the t-shirt, wrong size");
    5. a reason alone ("不喜欢", "the kettle is broken"), which starts a cancellation too;
    6. small talk: greetings, thanks, goodbyes, "ok".

    The dialogs route messages in the same order (common, status, person, entry, then
    dialogs.smalltalk), so what this reads is what the bot does.
    """

    __slots__ = ("_cancel", "_intents", "_read", "_reasons", "_smalltalk")

    def __init__(
        self,
        intents: Intents,
        cancel_phrases: CancelPhrases,
        reasons: ReasonClassifier,
        smalltalk: SmallTalk,
    ) -> None:
        self._intents = intents
        self._cancel = cancel_phrases
        self._reasons = reasons
        self._smalltalk = smalltalk
        # A message is read by a filter, and again by the next router's when the first did
        # not take it; reading costs milliseconds and depends on the text alone.
        self._read = lru_cache(maxsize=READ_CACHE)(self._reading)

    @classmethod
    def load(cls) -> MessageReader:
        """Over the packaged phrase files, each read once per process."""
        return cls(
            Intents.load(),
            default_cancel_phrases(),
            default_reason_classifier(),
            default_smalltalk(),
        )

    def read(self, text: str) -> Reading:
        return self._read(text)

    def _reading(self, text: str) -> Reading:
        for command in (Topic.STOP, Topic.HELP, Topic.STATUS):
            if self._intents.matches(command, text):
                return Reading(command)
        if self._cancel.wants_human(text):
            return Reading(Topic.PERSON)
        if self._cancel.asks_status(text):
            return Reading(Topic.STATUS)
        asked = self._cancel.find_cancel(text)
        guess = self._reasons.classify(text)
        if asked is not None and not _outranks(guess, asked):
            # The words that ask to cancel are not also the reason: "这单不要了".
            guess = self._reasons.classify(text, without=[asked.span])
        said = Said(guess.code, text.strip()) if guess.code is not None else None
        if asked is not None:
            reason_words = [guess.span] if guess.span else []
            target = self._cancel.extract_cancel_target(text, without=reason_words)
            return Reading(Topic.CANCEL, said, target)
        if said is not None:
            return Reading(Topic.CANCEL, said)
        small = self._smalltalk.read(text)
        return Reading(Topic(small) if small else Topic.UNKNOWN)


def _outranks(guess: ReasonGuess, asked: Found) -> bool:
    """A reason found verbatim over words that only nearly ask to cancel keeps them:
    "不想要了" is "don't want it any more", not "不要了" (cancel) with a typo."""
    if guess.span is None:
        return False
    (start, end), (asked_start, asked_end) = guess.span, asked.span
    return start < asked_end and asked_start < end and guess.score > asked.score
