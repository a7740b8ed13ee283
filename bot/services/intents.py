"""Whole-message intents ("stop", "退款到哪了") read from a data file, not from code."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INTENTS_FILE = Path(__file__).resolve().parent.parent / "data" / "intents.toml"


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
