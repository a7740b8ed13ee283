"""Recording offers shown to a customer and their answers: the save rate counts these rows.

The customer's review, the shop's own cancellation, an accepted alternative, a merchant
offer taken, a confirmation and an abandoned case all record through `OfferRecords`, so an
offer is shown once per row and answered once: shown ─► accepted | declined | expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.services.domain.money import Money
from bot.services.merchant.webhook_events import accept_offer
from bot.services.policy import OfferSpec
from storage.enums import OfferStatus, OfferType
from storage.models import Offer, Order
from storage.uow import UnitOfWork

ANSWERS = frozenset({OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED})


class OfferAlreadyAnswered(ValueError):
    def __init__(self, offer: Offer, wanted: OfferStatus) -> None:
        super().__init__(f"offer {offer.id} is {offer.status}, it cannot become {wanted}")


class OfferRecords:
    """Stages offer rows and answers in the caller's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def show(
        self, case_id: int, order: Order, specs: Iterable[OfferSpec], now: datetime
    ) -> tuple[Offer, ...]:
        """One row per offer shown for the case; flushed, so their ids can go on buttons."""
        rows = tuple(
            Offer(
                case_id=case_id,
                customer_id=order.customer_id,
                order_id=order.id,
                type=spec.type,
                value=spec.value.amount,
                currency=spec.value.currency,
                percent=spec.percent,
                params=dict(spec.params),
                status=OfferStatus.SHOWN,
                shown_at=now,
            )
            for spec in specs
        )
        for row in rows:
            self._uow.offers.add(row)
        await self._uow.flush()
        return rows

    def taken_unasked(
        self,
        case_id: int,
        order: Order,
        offer_type: OfferType,
        value: Money,
        params: dict[str, str],
        now: datetime,
    ) -> Offer:
        """An offer the customer took without it being shown as one (store credit with a
        bonus chosen as the refund method): shown and accepted at once."""
        row = Offer(
            case_id=case_id,
            customer_id=order.customer_id,
            order_id=order.id,
            type=offer_type,
            value=value.amount,
            currency=value.currency,
            percent=None,
            params=params,
            status=OfferStatus.SHOWN,
            shown_at=now,
        )
        accept_offer(self._uow, row, now)
        self._uow.offers.add(row)
        return row

    def answer(self, offer: Offer, status: OfferStatus, now: datetime) -> None:
        """The customer's answer to one shown offer; an offer is answered once, and an
        acceptance tells the merchant's webhook."""
        if offer.status is not OfferStatus.SHOWN or status not in ANSWERS:
            raise OfferAlreadyAnswered(offer, status)
        if status is OfferStatus.ACCEPTED:
            accept_offer(self._uow, offer, now)
        else:
            offer.status, offer.answered_at = status, now

    async def answer_open(self, case_id: int, status: OfferStatus, now: datetime) -> None:
        """Every offer of the case still shown gets `status` (declined, or expired with it)."""
        if status not in ANSWERS:
            raise ValueError(f"{status} is not an answer")
        await self._uow.offers.answer_shown(case_id, status, now)

    async def take(self, offer: Offer, now: datetime) -> None:
        """`offer` is accepted; the others shown with it are declined."""
        if offer.status is not OfferStatus.SHOWN:
            raise OfferAlreadyAnswered(offer, OfferStatus.ACCEPTED)
        await self._uow.offers.answer_shown(offer.case_id, OfferStatus.DECLINED, now)
        accept_offer(self._uow, offer, now)
