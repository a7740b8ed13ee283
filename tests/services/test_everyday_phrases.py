"""How well the bot reads what people write when nothing is under way, measured.

`tests/data/everyday_phrases.tsv` (260 lines, English and Chinese) was written before the
phrase data (bot/data/*.toml) was tuned, and the data was then tuned on it; before that
tuning the bot read 35 % of it as written (50 % counting only the flow, not the reason).
`everyday_phrases_heldout.tsv` (138 lines) was written afterwards and never tuned on; it
is the honest estimate for messages nobody anticipated. The README reports both figures.

Thresholds:
- tuning set 97 %: it is read in full today, so any drop means an edit to the phrase
  data broke something that worked; 97 % leaves room for 7 lines of deliberate
  trade-off (a new phrase that re-ranks an old one) and no more.
- held-out set 80 %: measured at 85.5 % (118 of 138) when first written; each line is
  0.7 points, so the floor sits 8 lines below the measurement, enough for a phrase
  edit to move a few lines either way while a reader that got clearly worse fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.services.conversation.intents import MessageReader, Reading, Topic
from storage.enums import ReasonCode

DATA = Path(__file__).resolve().parent.parent / "data"
TUNING_SET = DATA / "everyday_phrases.tsv"
HELD_OUT_SET = DATA / "everyday_phrases_heldout.tsv"
READER = MessageReader.load()


@dataclass(frozen=True)
class Line:
    expected: str
    text: str

    @property
    def chinese(self) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in self.text)


def read_set(path: Path) -> list[Line]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        expected, text = raw.split("\t")
        lines.append(Line(expected, text))
    return lines


def _valid(label: str) -> bool:
    topic, _, reason = label.partition(":")
    return topic in set(Topic) and (not reason or (topic == "cancel" and reason in set(ReasonCode)))


def share_understood(lines: list[Line]) -> tuple[float, list[str]]:
    misses = [
        f"{line.expected:<24} read as {READER.read(line.text).label:<24} {line.text!r}"
        for line in lines
        if READER.read(line.text).label != line.expected
    ]
    return 1 - len(misses) / len(lines), misses


@pytest.mark.parametrize("path", [TUNING_SET, HELD_OUT_SET], ids=["tuning", "held-out"])
def test_the_sets_are_well_formed_and_in_both_languages(path: Path) -> None:
    lines = read_set(path)
    assert all(_valid(line.expected) for line in lines), [
        line for line in lines if not _valid(line.expected)
    ]
    assert len({line.text for line in lines}) == len(lines), "a message is listed twice"
    chinese = sum(line.chinese for line in lines)
    assert chinese >= len(lines) // 3
    assert len(lines) - chinese >= len(lines) // 3
    topics = {line.expected.partition(":")[0] for line in lines}
    assert topics == set(Topic), set(Topic) - topics


def test_the_tuning_set_has_at_least_200_lines() -> None:
    assert len(read_set(TUNING_SET)) >= 200


@pytest.mark.parametrize(
    ("path", "threshold"), [(TUNING_SET, 0.97), (HELD_OUT_SET, 0.80)], ids=["tuning", "held-out"]
)
def test_share_understood(path: Path, threshold: float) -> None:
    share, misses = share_understood(read_set(path))
    assert share >= threshold, f"{share:.1%} understood; misread:\n" + "\n".join(misses)


def test_the_order_of_reading() -> None:
    """Questions beat wishes, wishes carry their reason and target, small talk comes last."""
    assert READER.read("where is my refund, I want it now").topic is Topic.STATUS
    assert READER.read("退款什么时候到账").topic is Topic.STATUS
    assert READER.read("refund please, get me a human").topic is Topic.PERSON
    assert READER.read("hi, I want to cancel").topic is Topic.CANCEL
    assert READER.read("thanks, but the kettle is broken") == Reading(
        Topic.CANCEL, READER.read("thanks, but the kettle is broken").said
    )
    assert READER.read("ok, how do I change my address?").topic is Topic.UNKNOWN
    assert READER.read("thanks for nothing, this shop is the worst").topic is Topic.UNKNOWN


@pytest.mark.parametrize(
    ("text", "target", "reason"),
    [
        ("return the t-shirt, wrong size", "t-shirt", ReasonCode.WRONG_SIZE),
        ("cancel the blue mug please, it's broken", "blue mug", ReasonCode.DEFECTIVE),
        ("I want to cancel SO-1002345", "SO-1002345", None),
        ("我要退货", None, None),
        ("把耳机退掉，坏了", "耳机", ReasonCode.DEFECTIVE),
        ("刻字写错了，我要退货", None, ReasonCode.WRONG_ITEM),
        ("I want my money back", None, None),
        ("不喜欢", None, ReasonCode.CHANGED_MIND),
    ],
)
def test_a_wish_to_cancel_names_its_order_and_its_reason_apart(
    text: str, target: str | None, reason: ReasonCode | None
) -> None:
    reading = READER.read(text)
    assert reading.topic is Topic.CANCEL
    assert reading.target == target
    assert (reading.said.reason if reading.said else None) is reason
    if reading.said is not None:
        assert reading.said.words == text  # the customer's own words are kept


def test_words_that_cancel_are_not_also_the_reason() -> None:
    """ "不要了" asks to cancel; "不想要了" is the reason "changed my mind"."""
    assert READER.read("这单不要了").said is None
    said = READER.read("不想要了").said
    assert said is not None
    assert said.reason is ReasonCode.CHANGED_MIND


def test_wrong_size_is_not_a_wrong_item() -> None:
    assert READER.read("wrong size").label == "cancel:wrong_size"
    assert READER.read("you sent the wrong size").label == "cancel:wrong_item"
    assert READER.read("尺码不对").label == "cancel:wrong_size"
    assert READER.read("发错尺码了").label == "cancel:wrong_item"
