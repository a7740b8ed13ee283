"""Store-credit and compensation vouchers, with codes a customer can type."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot.services.money import Money
from bot.services.webhook_events import voucher_issued
from storage.enums import VoucherKind
from storage.models import Voucher
from storage.uow import UnitOfWork

# No 0/O or 1/I/L: a code read aloud or retyped must not be misread.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VOUCHER_VALIDITY = timedelta(days=365)


def new_code() -> str:
    """`VC-XXXX-XXXX`: about 40 bits, so a code cannot be guessed."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"VC-{body[:4]}-{body[4:]}"


def stage_voucher(
    uow: UnitOfWork,
    *,
    customer_id: int,
    kind: VoucherKind,
    value: Money,
    now: datetime,
    request_id: int | None = None,
    offer_id: int | None = None,
) -> Voucher:
    """Add a voucher to the caller's transaction (the code is unique; a clash fails the commit).

    Every voucher is issued here, so the merchant's webhook hears of each (voucher.issued).
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
