from hypothesis import example, given
from hypothesis import strategies as st

from bot.services.domain.phones import mask_phone, normalize_phone


def test_international_forms_normalise_to_one() -> None:
    expected = "+8613800138000"
    for raw in ("+86 138-0013-8000", "8613800138000", "0086 (138) 0013 8000", "+86.138.0013.8000"):
        assert normalize_phone(raw) == expected


def test_not_a_phone_number() -> None:
    for raw in ("", "hello", "+0123456789", "12345", "+1234567890123456"):
        assert normalize_phone(raw) is None


@given(st.integers(min_value=10_000_000, max_value=999_999_999_999_999))
@example(99_999_999)  # hypothesis found it: the hidden digits repeat the last four
def test_digits_round_trip_and_mask_keeps_last_four(number: int) -> None:
    normalised = normalize_phone(f"+{number}")
    assert normalised == f"+{number}"
    masked = mask_phone(normalised)
    # Only the last four digits show; every other digit is a star (a prefix that happens
    # to equal the last four, as in 99999999, is still hidden).
    assert masked.replace("*", "") == f"+{str(number)[-4:]}"
    assert masked.count("*") == len(str(number)) - 4
