from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.linking.deep_links import ExpiredLinkToken, InvalidLinkToken, LinkTokens

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TOKENS = LinkTokens(b"secret")
TELEGRAM_START_PARAMETER = r"^[A-Za-z0-9_-]{1,64}$"


@given(st.from_regex(r"^[A-Za-z0-9_.:-]{1,24}$", fullmatch=True))
def test_issued_tokens_fit_telegram_and_verify(customer_id: str) -> None:
    token = TOKENS.issue(customer_id, NOW + timedelta(days=7))
    assert len(token) <= 64
    assert all(ch.isalnum() or ch in "_-" for ch in token)
    assert TOKENS.verify(token, NOW) == customer_id


def test_expired_token() -> None:
    token = TOKENS.issue("C1001", NOW)
    with pytest.raises(ExpiredLinkToken):
        TOKENS.verify(token, NOW)


def test_tampered_token_is_refused() -> None:
    token = TOKENS.issue("C1001", NOW + timedelta(days=1))
    forged = LinkTokens(b"other").issue("C1002", NOW + timedelta(days=1))
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged, "x" * 20, "", "a" * 70):
        with pytest.raises(InvalidLinkToken):
            TOKENS.verify(bad, NOW)


def test_another_customers_token_cannot_be_made_by_editing_the_body() -> None:
    token = TOKENS.issue("C1001", NOW + timedelta(days=1))
    other = TOKENS.issue("C1002", NOW + timedelta(days=1))
    spliced = other[:-16] + token[-16:]
    with pytest.raises(InvalidLinkToken):
        TOKENS.verify(spliced, NOW)


def test_long_ids_are_refused_when_issuing() -> None:
    with pytest.raises(ValueError, match="64"):
        TOKENS.issue("C" * 60, NOW)


def test_deep_link_url() -> None:
    assert TOKENS.deep_link("shop_bot", "abc") == "https://t.me/shop_bot?start=abc"
