"""Vouchers: store credit and compensation, with codes a customer can type.

`issue_voucher` is the only place a voucher comes into being, whoever gives it: the
customer's cancellation (store credit), an accepted offer (a compensation voucher, a
partial refund to store credit), an agent, the merchant's API or the command line. Store
credit is a refund the shop pays itself, so `pay_in_store_credit` is the one way a
store-credit refund is paid, and `store_credit_due` the one rule of when: once the refund
is approved and nothing is awaited; for a return, once the parcel is back (the merchant
records that by moving the refund on). Taking back what an earlier offer gave, when the
order is cancelled after all, takes the voucher back here too (`take_back_voucher`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from bot.services.domain.money import Money
from bot.services.merchant.webhook_events import voucher_issued
from bot.services.refunds.service import BOT_ACTOR, RefundLedger
from storage.enums import PaymentMethod, RefundStatus, VoucherKind
from storage.models import Refund, Voucher
from storage.uow import UnitOfWork

# No 0/O or 1/I/L: a code read aloud or retyped must not be misread.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VOUCHER_VALIDITY = timedelta(days=365)
# The merchant moving a store-credit refund on from "approved" is how they say the goods
# it waited for are back: we pay it then.
_MOVED_ON = frozenset({RefundStatus.PROCESSING, RefundStatus.REFUNDED})


def new_code() -> str:
    """`VC-XXXX-XXXX`: about 40 bits, so a code cannot be guessed."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"VC-{body[:4]}-{body[4:]}"


def issue_voucher(
    uow: UnitOfWork,
    *,
    customer_id: int,
    kind: VoucherKind,
    value: Money,
    now: datetime,
    request_id: int | None = None,
    offer_id: int | None = None,
) -> Voucher:
    """Issue one voucher in the caller's transaction: every voucher is made here, so the
    merchant's webhook hears of each (voucher.issued).

    The code is unique; a clash fails the commit. The caller tells the customer (with
    `voucher_notice`) in the same transaction.
    """
    voucher = Voucher(
        code=new_code(),
        customer_id=customer_id,
        kind=kind,
        amount=value.amount,
        currency=value.currency,
        request_id=request_id,
        offer_id=offer_id,
        created_at=now,
        expires_at=now + VOUCHER_VALIDITY,
    )
    uow.vouchers.add(voucher)
    voucher_issued(uow, voucher)
    return voucher


def voucher_notice(voucher: Voucher) -> dict[str, Any]:
    """What a customer's message needs to spend it: the code, its value, until when."""
    return {
        "code": voucher.code,
        "value": Money(voucher.amount, voucher.currency),
        "expires_at": voucher.expires_at,
    }


def store_credit_due(refund: Refund, *, awaits_goods: bool) -> bool:
    """Is this refund, just opened or moved, a store credit to pay now?

    Approved: yes, unless goods must come back first. Moved on by the merchant
    (processing, or refunded straight away): the goods are back, so yes.
    """
    if refund.method is not PaymentMethod.STORE_CREDIT:
        return False
    if refund.status is RefundStatus.APPROVED:
        return not awaits_goods
    return refund.status in _MOVED_ON


def pay_in_store_credit(
    uow: UnitOfWork,
    ledger: RefundLedger,
    refund: Refund,
    *,
    now: datetime,
    kind: VoucherKind = VoucherKind.STORE_CREDIT,
) -> Voucher:
    """Pay a store-credit refund: a voucher of its value, and the refund is done."""
    voucher = issue_voucher(
        uow,
        customer_id=refund.customer_id,
        kind=kind,
        value=Money(refund.amount, refund.currency),
        now=now,
        request_id=refund.request_id,
        offer_id=refund.offer_id,
    )
    if refund.status is not RefundStatus.REFUNDED:
        ledger.move(refund, RefundStatus.REFUNDED, actor=BOT_ACTOR, note="store credit")
    return voucher


def take_back_voucher(voucher: Voucher, *, now: datetime, request_id: int) -> None:
    """A later cancellation of the order it compensated takes the voucher back: unused, it
    is void from now on; spent, its value was deducted from that cancellation's refund."""
    voucher.taken_back_at, voucher.taken_back_by_request_id = now, request_id
