"""Reading free text: cancellation reasons, the wish to cancel (and what), a person."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.cancellation.reasons import (
    DEFAULT_CANCEL_PHRASES_FILE,
    DEFAULT_REASONS_FILE,
    CancelPhrases,
    ReasonClassifier,
    ReasonGuess,
    classify_reason,
    extract_cancel_target,
    is_cancel_intent,
    wants_human,
)
from bot.services.conversation.intents import MessageReader, Topic
from storage.enums import ReasonCode


def _phrases(path: Path) -> dict[str, list[str]]:
    with path.open("rb") as file:
        return {name: section["phrases"] for name, section in tomllib.load(file).items()}


REASON_PHRASES = [
    (ReasonCode(code), phrase)
    for code, phrases in _phrases(DEFAULT_REASONS_FILE).items()
    for phrase in phrases
]


class TestClassifyReason:
    @pytest.mark.parametrize(("code", "phrase"), REASON_PHRASES)
    def test_every_phrase_in_the_data_file_is_its_own_reason(
        self, code: ReasonCode, phrase: str
    ) -> None:
        assert classify_reason(phrase).code is code

    @given(
        st.sampled_from(REASON_PHRASES),
        st.sampled_from([str.upper, str.title, str.lower, str.swapcase]),
        st.sampled_from(["", " ", "!", "...", "?!", "。", "！", "，"]),
        st.sampled_from(["", "  ", "¡", "\u201c", "-"]),
    )
    def test_case_and_punctuation_do_not_matter(
        self,
        case: tuple[ReasonCode, str],
        change_case: Callable[[str], str],
        suffix: str,
        prefix: str,
    ) -> None:
        code, phrase = case
        assert classify_reason(prefix + change_case(phrase) + suffix).code is code

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("Hi, I changed my mind about the kettle", ReasonCode.CHANGED_MIND),
            ("我不想要了", ReasonCode.CHANGED_MIND),
            ("Oops, I ordered it twice", ReasonCode.MISTAKE),
            ("买错了，重复下单", ReasonCode.MISTAKE),
            ("I found it cheaper elsewhere", ReasonCode.FOUND_CHEAPER),
            ("别家更便宜", ReasonCode.FOUND_CHEAPER),
            ("It's late and still not arrived", ReasonCode.LATE_DELIVERY),
            ("快递太慢了", ReasonCode.LATE_DELIVERY),
            ("they sent the wrong size", ReasonCode.WRONG_ITEM),
            ("尺码不对", ReasonCode.WRONG_SIZE),
            ("the jeans don't fit", ReasonCode.WRONG_SIZE),
            ("刻字写错了", ReasonCode.WRONG_ITEM),
            ("It arrived DAMAGED.", ReasonCode.DEFECTIVE),
            ("耳机坏了", ReasonCode.DEFECTIVE),
            ("looks different from the photos", ReasonCode.NOT_AS_DESCRIBED),
            ("颜色和图片不一样，色差很大", ReasonCode.NOT_AS_DESCRIBED),
            ("my plans changed, can't make it", ReasonCode.BOOKING_CHANGED),
            ("行程变了，去不了", ReasonCode.BOOKING_CHANGED),
        ],
    )
    def test_sentences_in_english_and_chinese(self, text: str, code: ReasonCode) -> None:
        assert classify_reason(text).code is code

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("it arrived brokn", ReasonCode.DEFECTIVE),
            ("damagd", ReasonCode.DEFECTIVE),
            ("it doesnt work", ReasonCode.DEFECTIVE),
            ("I chnaged my mind", ReasonCode.CHANGED_MIND),
        ],
    )
    def test_a_small_typo_in_a_long_enough_phrase_is_forgiven(
        self, text: str, code: ReasonCode
    ) -> None:
        guess = classify_reason(text)
        assert guess.code is code
        assert guess.score < 100

    @pytest.mark.parametrize(
        "text",
        [
            "hello",
            "the plate is fine",  # "late" only as part of a word
            "好了",  # one character from "坏了"
            "relay",  # one letter from "delay"
            "我想取消",
            "Can I change the shipping address?",
            "",
        ],
    )
    def test_no_reason_is_guessed_from_unrelated_text(self, text: str) -> None:
        assert classify_reason(text) == ReasonGuess(None, 0.0, None)

    def test_other_is_never_guessed(self) -> None:
        assert classify_reason("other").code is None
        with pytest.raises(ValueError, match="never guessed"):
            ReasonClassifier({ReasonCode.OTHER: ["something else"]})

    def test_a_second_reason_is_the_runner_up(self) -> None:
        guess = classify_reason("it's broken and it came late")
        assert guess.code is ReasonCode.DEFECTIVE
        assert guess.runner_up is ReasonCode.LATE_DELIVERY

    def test_the_more_specific_phrase_wins_a_tie(self) -> None:
        """All match verbatim; "ordered the wrong size" says more than "ordered the wrong"."""
        guess = classify_reason("I ordered the wrong size")
        assert (guess.code, guess.runner_up) == (ReasonCode.WRONG_SIZE, ReasonCode.MISTAKE)

    def test_a_phrase_belongs_to_one_reason(self) -> None:
        with pytest.raises(ValueError, match="under both"):
            ReasonClassifier({ReasonCode.DEFECTIVE: ["Broken"], ReasonCode.WRONG_ITEM: ["broken!"]})

    def test_unknown_reasons_in_the_file_are_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "reasons.toml"
        path.write_text('[bored]\nphrases = ["meh"]\n', encoding="utf-8")
        with pytest.raises(ValueError, match="bored"):
            ReasonClassifier.load(path)


class TestCancelIntent:
    @pytest.mark.parametrize(
        ("text", "target"),
        [
            ("I want to cancel my order", None),
            ("cancel 10O2345", "10O2345"),
            ("退掉我买的耳机", "耳机"),
            ("取消订单", None),
            ("cancel the blue headphones", "blue headphones"),
            ("Can you cancel order #SO-1002345 please?", "SO-1002345"),
            ("帮我把耳机退掉", "耳机"),
            ("the blue mug, cancel it please", "blue mug"),
            ("耳机不要了", "耳机"),
            ("cancle 1002345", "1002345"),
            ("I'd like to cancel the kettle, thanks", "kettle"),
            ("我要退货", None),
            ("return the t-shirt", "t-shirt"),
            ("我想取消上周买的水壶", "上周买的水壶"),
            ("CANCEL!!!", None),
            ("ＣＡＮＣＥＬ ＳＯ－１００２３４５", "SO-1002345"),
        ],
    )
    def test_starts_the_flow_and_names_the_target(self, text: str, target: str | None) -> None:
        assert is_cancel_intent(text)
        assert extract_cancel_target(text) == target

    @pytest.mark.parametrize("text", ["hello", "what's the status?", "I have cancer", ""])
    def test_other_messages_do_not(self, text: str) -> None:
        assert not is_cancel_intent(text)
        assert extract_cancel_target(text) is None

    @pytest.mark.parametrize("text", ["where is my refund", "退款到哪了", "is my refund coming"])
    def test_a_question_about_a_refund_is_not_a_wish_for_one(self, text: str) -> None:
        """ "refund" is a cancel phrase, but the reader asks about status first."""
        assert CancelPhrases.load().asks_status(text)
        assert MessageReader.load().read(text).topic is Topic.STATUS


class TestWantsHuman:
    @pytest.mark.parametrize(
        "text",
        [
            "talk to a human",
            "AGENT",
            "I want a real person!",
            "customer service please",
            "转人工",
            "客服在吗",
            "我要人工客服",
            "humna agent pls",
        ],
    )
    def test_asks_for_a_person(self, text: str) -> None:
        assert wants_human(text)

    @pytest.mark.parametrize("text", ["cancel my order", "耳机坏了", "the mug", "", "humane"])
    def test_does_not(self, text: str) -> None:
        assert not wants_human(text)


def test_cancel_phrases_can_come_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "cancel.toml"
    path.write_text(
        '[cancel]\nphrases = ["stornieren"]\n'
        '[human]\nphrases = ["mensch"]\n'
        '[target]\nleading = ["bitte"]\ntrailing = ["danke"]\n',
        encoding="utf-8",
    )
    phrases = CancelPhrases.load(path)
    assert phrases.extract_cancel_target("bitte Tasse stornieren danke") == "Tasse"
    assert phrases.wants_human("Mensch bitte")
    assert not phrases.is_cancel_intent("cancel")


def test_the_packaged_files_load() -> None:
    assert ReasonClassifier.load().classify("broken").code is ReasonCode.DEFECTIVE
    assert CancelPhrases.load(DEFAULT_CANCEL_PHRASES_FILE).is_cancel_intent("取消")
