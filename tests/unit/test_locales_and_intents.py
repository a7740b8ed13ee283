import pytest

from bot.services.conversation.intents import Intents, normalize_phrase
from bot.services.domain.locales import locale_from_language_code, locale_of_text, pick_locale


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("en", "en"), ("ru", "en"), (None, "en")],
)
def test_language_code(code: str | None, expected: str) -> None:
    assert locale_from_language_code(code, "en") == expected


def test_own_choice_beats_merchant_record_beats_telegram() -> None:
    assert pick_locale("en", "zh", "zh-hans", "en") == "en"
    assert pick_locale(None, "zh", "en", "en") == "zh"
    assert pick_locale(None, None, "zh-hans", "en") == "zh"
    assert pick_locale("xx", None, None, "zh") == "zh"


def test_intents_match_whole_messages_in_both_languages() -> None:
    intents = Intents.load()
    assert intents.matches("stop", "Stop!")
    assert intents.matches("stop", " 算了。")
    assert intents.matches("status", "Where is my refund?")
    assert intents.matches("status", "退款到哪了？")
    assert not intents.matches("stop", "please stop the order")
    assert not intents.matches("status", None)


def test_normalize_phrase() -> None:
    assert normalize_phrase("  Where   is my REFUND?! ") == "where is my refund"
    assert normalize_phrase("退款，到哪了？") == "退款 到哪了"


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("你好", "zh"),
        ("SO-1002345 退款", "zh"),
        ("hello there", "en"),
        ("I want my money back", "en"),
        ("ok", None),
        ("SO 1002345", None),
        ("cancel SO-1002345", None),
        ("👍", None),
        (None, None),
    ],
)
def test_the_language_a_message_is_written_in(text: str | None, locale: str | None) -> None:
    assert locale_of_text(text) == locale


def test_the_written_language_counts_only_when_telegram_says_nothing_we_speak() -> None:
    assert pick_locale(None, None, None, "en", written="zh") == "zh"
    assert pick_locale(None, None, "ru", "en", written="zh") == "zh"
    assert pick_locale(None, None, "en-GB", "en", written="zh") == "en"
    assert pick_locale("en", None, None, "en", written="zh") == "en"  # /language wins
    assert pick_locale(None, None, None, "zh", written=None) == "zh"
