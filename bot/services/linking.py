"""Proving that a Telegram account belongs to a customer, three ways.

1. A shared phone contact, accepted only when `contact.user_id` is the sender:
   anyone can forward someone else's contact card, only its owner can share their own.
2. A signed deep link (`/start <token>`) the merchant sent the customer.
3. For guests: an order number plus the phone's last four digits or the e-mail.
   That proves less, so it opens that one order only, for a limited time, and
   failures are limited per account and per order.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.clock import Clock
from bot.services.deep_links import ExpiredLinkToken, InvalidLinkToken, LinkTokens
from bot.services.matching import normalize_order_number
from bot.services.order_numbers import order_by_typed_number
from bot.services.phones import mask_phone, normalize_phone
from bot.services.throttle import Limit, Throttle
from bot.services.views import CustomerView
from storage.enums import LinkMethod
from storage.models import Customer, GuestAccess
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

GUEST_VERIFY = "guest_verify"
# Many accounts guessing one order's last four digits is an attack on that order.
ORDER_GUESS_LIMIT = Limit(attempts=10, window=timedelta(hours=24))


class LinkOutcome(StrEnum):
    LINKED = "linked"
    NOT_OWN_CONTACT = "not_own_contact"
    INVALID_PHONE = "invalid_phone"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"
    INVALID_TOKEN = "invalid_token"
    EXPIRED_TOKEN = "expired_token"


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: LinkOutcome
    customer: CustomerView | None = None


class GuestOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class GuestResult:
    outcome: GuestOutcome
    order_number: str | None = None
    attempts_left: int = 0
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GuestPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(hours=1)
    access_for: timedelta = timedelta(days=7)


class LinkingService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        tokens: LinkTokens | None,
        guest_policy: GuestPolicy,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._guest = guest_policy
        self._throttle = Throttle(uow, clock)

    async def link_by_contact(
        self, telegram_user_id: int, contact_user_id: int | None, phone_number: str
    ) -> LinkResult:
        if contact_user_id != telegram_user_id:
            return LinkResult(LinkOutcome.NOT_OWN_CONTACT)
        phone = normalize_phone(phone_number)
        if phone is None:
            return LinkResult(LinkOutcome.INVALID_PHONE)
        async with self._uow.transaction():
            matches = await self._uow.customers.by_phone(phone)
            if not matches:
                log.info("no customer with phone %s", mask_phone(phone))
                return LinkResult(LinkOutcome.NO_MATCH)
            if len(matches) > 1:
                return LinkResult(LinkOutcome.AMBIGUOUS)
            return await self._link(matches[0], telegram_user_id, LinkMethod.CONTACT)

    async def link_by_token(self, telegram_user_id: int, token: str) -> LinkResult:
        if self._tokens is None:
            log.warning("deep-link token received but LINK_SECRET is not set")
            return LinkResult(LinkOutcome.INVALID_TOKEN)
        try:
            external_id = self._tokens.verify(token, self._clock.now())
        except ExpiredLinkToken:
            return LinkResult(LinkOutcome.EXPIRED_TOKEN)
        except InvalidLinkToken:
            return LinkResult(LinkOutcome.INVALID_TOKEN)
        async with self._uow.transaction():
            customer = await self._uow.customers.by_external_id(external_id)
            if customer is None:
                return LinkResult(LinkOutcome.INVALID_TOKEN)
            return await self._link(customer, telegram_user_id, LinkMethod.DEEP_LINK)

    async def verify_guest(
        self, telegram_user_id: int, order_number: str, detail: str
    ) -> GuestResult:
        """Open one order to a not-linked account that knows its number and contact detail.

        A wrong number and a wrong detail get the same answer, so the reply never
        tells a stranger which order numbers exist.
        """
        number = normalize_order_number(order_number)  # "so1002351" is "SO-1002351"
        account_key, order_key = f"tg:{telegram_user_id}", f"order:{number}"
        account_limit = Limit(self._guest.max_failures, self._guest.lockout)
        async with self._uow.transaction():
            for subject, limit in ((account_key, account_limit), (order_key, ORDER_GUESS_LIMIT)):
                allowance = await self._throttle.check(subject, GUEST_VERIFY, limit)
                if not allowance.allowed:
                    return GuestResult(GuestOutcome.LOCKED, retry_at=allowance.retry_at)

            order = await order_by_typed_number(self._uow, order_number)
            customer = await self._uow.customers.get(order.customer_id) if order else None
            if order is None or customer is None or not _detail_matches(customer, detail):
                self._throttle.record(account_key, GUEST_VERIFY)
                self._throttle.record(order_key, GUEST_VERIFY)
                await self._uow.flush()
                after = await self._throttle.check(account_key, GUEST_VERIFY, account_limit)
                outcome = GuestOutcome.MISMATCH if after.allowed else GuestOutcome.LOCKED
                return GuestResult(outcome, attempts_left=after.remaining, retry_at=after.retry_at)

            now = self._clock.now()
            access = await self._uow.orders.guest_access(telegram_user_id, order.id)
            if access is None:
                access = GuestAccess(telegram_user_id=telegram_user_id, order_id=order.id)
                self._uow.orders.add_guest_access(access)
            access.granted_at, access.expires_at = now, now + self._guest.access_for
            await self._throttle.reset(account_key, GUEST_VERIFY)
            return GuestResult(GuestOutcome.VERIFIED, order_number=order.number)

    async def _link(self, customer: Customer, telegram_user_id: int, via: LinkMethod) -> LinkResult:
        """Move the link onto this account; runs inside the caller's transaction."""
        previous = await self._uow.customers.by_telegram_user(telegram_user_id)
        if previous is not None and previous.id != customer.id:
            previous.telegram_user_id = None
            await self._uow.flush()
        if customer.telegram_user_id not in (None, telegram_user_id):
            log.info("customer %s moves to a new Telegram account via %s", customer.id, via)
        customer.telegram_user_id = telegram_user_id
        customer.linked_at = self._clock.now()
        customer.linked_via = via
        return LinkResult(LinkOutcome.LINKED, CustomerView.of(customer))


def looks_like_guest_detail(text: str) -> bool:
    """Four digits or something shaped like an e-mail: worth checking against the order."""
    text = text.strip()
    return (text.isdigit() and len(text) == 4) or _EMAIL.match(text) is not None


def _detail_matches(customer: Customer, detail: str) -> bool:
    """Last four digits of the phone, or the e-mail (any case); compared in constant time."""
    given = detail.strip()
    if given.isdigit() and len(given) == 4:
        expected = (customer.phone or "")[-4:]
        return bool(expected) and hmac.compare_digest(given, expected)
    if "@" in given and customer.email:
        return hmac.compare_digest(given.lower().encode(), customer.email.lower().encode())
    return False
