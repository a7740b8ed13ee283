"""What a customer got for an order they kept, settled when the order is cancelled after all.

A partial refund to keep the item, an agent's refund, a compensation voucher of an
accepted offer: refund and compensation never stack. The customer's own cancellation
(its policy decision deducts them, `policy.engine`) and the shop's (`merchant.cancellation`)
both lock them first with `GivenForOrder.lock`, so none is spent meanwhile, and mark them
with `settle` once the request exists: an unused voucher is void from then on, a spent
one and a refund were deducted from that request's refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.services.domain.money import Money
from bot.services.policy.facts import Given, GivenKind
from bot.services.refunds.vouchers import take_back_voucher
from storage.models import Refund, Voucher
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class GivenForOrder:
    vouchers: Sequence[Voucher]
    """Compensation vouchers of offers accepted on the order, not taken back yet."""
    refunds: Sequence[Refund]
    """Refunds paid outside any cancellation and not deducted yet."""

    @classmethod
    async def lock(cls, uow: UnitOfWork, order_id: int) -> GivenForOrder:
        return cls(
            await uow.vouchers.compensating_order(order_id, lock=True),
            await uow.refunds.given_for_update(order_id),
        )

    def facts(self) -> tuple[Given, ...]:
        """What was given, as the policy reads it (`given_fact`), refunds first: the same
        as `PolicyFactsRepository` reads without locking."""
        return tuple(
            given_fact(refund.amount, refund.currency, None, spent=False) for refund in self.refunds
        ) + tuple(
            given_fact(
                voucher.amount, voucher.currency, voucher.code, voucher.redeemed_at is not None
            )
            for voucher in self.vouchers
        )

    def spent_vouchers(self, currency: str) -> Money:
        """The value of the vouchers already spent: deducted from the refund."""
        spent = (
            Money(voucher.amount, voucher.currency)
            for voucher in self.vouchers
            if voucher.redeemed_at is not None
        )
        return sum(spent, Money.zero(currency))

    def lines(self) -> list[dict[str, Any]]:
        """One line per thing given, as `labels.breakdown_line` says it (code, price,
        reference), refunds first."""
        return [
            {"code": "given_refund", "price": Money(refund.amount, refund.currency)}
            for refund in self.refunds
        ] + [
            {
                "code": "given_voucher_spent" if voucher.redeemed_at else "given_voucher_unused",
                "price": Money(voucher.amount, voucher.currency),
                "reference": voucher.code,
            }
            for voucher in self.vouchers
        ]

    def settle(self, request_id: int, now: datetime) -> None:
        """Mark everything as taken back or deducted by the request, once."""
        for voucher in self.vouchers:
            take_back_voucher(voucher, now=now, request_id=request_id)
        for refund in self.refunds:
            refund.deducted_by_request_id = request_id


def given_fact(amount: Decimal, currency: str, code: str | None, spent: bool) -> Given:
    """One thing given for a kept order as the policy reads it: a refund (no voucher
    code), or a compensation voucher, spent or not."""
    if code is None:
        return Given(GivenKind.REFUND, Money(amount, currency))
    kind = GivenKind.VOUCHER_SPENT if spent else GivenKind.VOUCHER_UNUSED
    return Given(kind, Money(amount, currency), code)
