"""An offer is answered once: shown ─► accepted | declined | expired, and never again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.services.cancellation.offer_records import OfferAlreadyAnswered, OfferRecords
from storage.enums import OfferStatus, OfferType
from storage.models import Offer
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANSWERS = [OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED]


class _Webhooks:
    """Stands in for the unit of work's webhook stage: counts the events staged."""

    def __init__(self) -> None:
        self.staged: list[Callable[[], Any]] = []

    def stage(self, build: Callable[[], Any]) -> None:
        self.staged.append(build)


def _records() -> tuple[OfferRecords, _Webhooks]:
    webhooks = _Webhooks()
    return OfferRecords(cast(UnitOfWork, SimpleNamespace(webhooks=webhooks))), webhooks


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
    records, webhooks = _records()
    records.answer(offer, answer, NOW)
    assert (offer.status, offer.answered_at) == (answer, NOW)
    # Only an acceptance is news for the merchant's webhook.
    assert len(webhooks.staged) == (1 if answer is OfferStatus.ACCEPTED else 0)


@pytest.mark.parametrize("first", ANSWERS)
@pytest.mark.parametrize("second", [*ANSWERS, OfferStatus.SHOWN])
def test_an_answered_offer_is_not_answered_again(first: OfferStatus, second: OfferStatus) -> None:
    offer = _shown()
    records, _ = _records()
    records.answer(offer, first, NOW)
    with pytest.raises(OfferAlreadyAnswered):
        records.answer(offer, second, datetime(2026, 11, 24, tzinfo=UTC))
    assert (offer.status, offer.answered_at) == (first, NOW)


def test_showing_is_not_an_answer() -> None:
    offer = _shown()
    records, _ = _records()
    with pytest.raises(OfferAlreadyAnswered):
        records.answer(offer, OfferStatus.SHOWN, NOW)
    assert (offer.status, offer.answered_at) == (OfferStatus.SHOWN, None)
