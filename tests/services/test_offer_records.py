"""An offer is answered once: shown ─► accepted | declined | expired, and never again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.services.offer_records import OfferAlreadyAnswered, OfferRecords
from storage.enums import OfferStatus, OfferType
from storage.models import Offer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANSWERS = [OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED]


def _shown() -> Offer:
    return Offer(
        id=1,
        type=OfferType.STORE_CREDIT,
        value=Decimal("10.00"),
        currency="CNY",
        status=OfferStatus.SHOWN,
        shown_at=NOW,
    )


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_shown_offer_takes_one_answer_with_its_time(answer: OfferStatus) -> None:
    offer = _shown()
    OfferRecords.answer(offer, answer, NOW)
    assert (offer.status, offer.answered_at) == (answer, NOW)


@pytest.mark.parametrize("first", ANSWERS)
@pytest.mark.parametrize("second", [*ANSWERS, OfferStatus.SHOWN])
def test_an_answered_offer_is_not_answered_again(first: OfferStatus, second: OfferStatus) -> None:
    offer = _shown()
    OfferRecords.answer(offer, first, NOW)
    with pytest.raises(OfferAlreadyAnswered):
        OfferRecords.answer(offer, second, datetime(2026, 11, 24, tzinfo=UTC))
    assert (offer.status, offer.answered_at) == (first, NOW)


def test_showing_is_not_an_answer() -> None:
    offer = _shown()
    with pytest.raises(OfferAlreadyAnswered):
        OfferRecords.answer(offer, OfferStatus.SHOWN, NOW)
    assert (offer.status, offer.answered_at) == (OfferStatus.SHOWN, None)
