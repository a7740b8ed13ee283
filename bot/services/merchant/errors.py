"""Why a merchant's request (API call, CLI command) cannot be carried out.

Every one of these is raised before anything is written, so the caller may correct
the request and send it again. The HTTP API maps each class to one status code.
"""

from __future__ import annotations


class MerchantRequestError(Exception):
    """Base class; `field` names the part of the request at fault, when there is one."""

    field: str | None = None


class UnknownRefund(MerchantRequestError, LookupError):
    def __init__(self, refund_id: int) -> None:
        super().__init__(f"no refund {refund_id}")


class UnknownOrder(MerchantRequestError, LookupError):
    def __init__(self, number: str) -> None:
        super().__init__(f"no order {number}")


class EventIdConflict(MerchantRequestError):
    """An event id already stands for something else: reusing it would be ambiguous."""

    field = "event_id"


class InvalidAmount(MerchantRequestError, ValueError):
    field = "amount"


class InvalidTime(MerchantRequestError, ValueError):
    field = "occurred_at"


class OrderNotCancellable(MerchantRequestError):
    """Already cancelled, delivered, or a cancellation is under way."""


class OutOfOrder(MerchantRequestError):
    """An event older than the refund's latest: applying it would move the refund back."""

    field = "occurred_at"


class InvalidCursor(MerchantRequestError, ValueError):
    field = "cursor"


class UnknownVoucher(MerchantRequestError, LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no voucher {code}")


class VoucherRedeemed(MerchantRequestError):
    """Spent already, by another event: a voucher pays once."""


class VoucherExpired(MerchantRequestError):
    pass
