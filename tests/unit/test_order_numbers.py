"""Reading a number typed by a guest or the merchant (bot.services.domain.order_numbers)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.services.domain.order_numbers import readings, spellings


def test_look_alikes_ending_the_prefix_are_read_as_digits_one_more_at_a_time() -> None:
    assert readings("SOooo0O0") == (
        "SOOOO000",
        "SOOO0000",
        "SOO00000",
        "SO000000",
        "S0000000",
    )


def test_a_number_whose_prefix_ends_in_no_look_alike_has_one_reading() -> None:
    assert readings("#ab 100-2345") == ("AB1002345",)
    assert readings("#so 100-2345")[0] == "SO1002345"  # then S0…, only if SO… names nothing
    assert readings("") == ()


def test_every_reading_is_searched_with_the_shops_separators() -> None:
    forms = spellings("SOl002345")
    assert {"SO-1002345", "so-1002345", "SO 1002345", "SOL002345"} <= set(forms)


@given(st.text(alphabet="SOILsoil0123456789- #", max_size=14))
def test_readings_are_distinct_and_start_with_the_literal_one(typed: str) -> None:
    keys = readings(typed)
    assert len(set(keys)) == len(keys)
    assert all(key[:1].isalpha() for key in keys[1:])
