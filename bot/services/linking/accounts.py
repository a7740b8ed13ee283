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
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.conversation.views import CustomerView
from bot.services.domain.clock import Clock
from bot.services.domain.phones import mask_phone, normalize_phone
from bot.services.linking.deep_links import (
    ExpiredLinkToken,
    InvalidLinkToken,
    LinkTokens,
    token_digest,
)
from bot.services.linking.throttle import GuestAttempts, Limit
from bot.services.outbox import Outbox
from storage.enums import LinkMethod
from storage.models import Customer, GuestAccess
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Many accounts guessing one order's last four digits is an attack on that order.
ORDER_GUESS_LIMIT = Limit(attempts=10, window=timedelta(hours=24))
ACCOUNT_MOVED_TEMPLATE = "notify/account_moved"


class LinkOutcome(StrEnum):
    LINKED = "linked"
    NOT_OWN_CONTACT = "not_own_contact"
    INVALID_PHONE = "invalid_phone"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"
    INVALID_TOKEN = "invalid_token"
    EXPIRED_TOKEN = "expired_token"
    USED_TOKEN = "used_token"


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
        default_locale: str = "en",
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._guest = guest_policy
        self._default_locale = default_locale
        self._attempts = GuestAttempts(
            uow, clock, Limit(guest_policy.max_failures, guest_policy.lockout), ORDER_GUESS_LIMIT
        )

    async def link_by_contact(
        self, telegram_user_id: int, contact_user_id: int | None, phone_number: str
    ) -> LinkResult:
        if contact_user_id != telegram_user_id:
            return LinkResult(LinkOutcome.NOT_OWN_CONTACT)
        phone = normalize_phone(phone_number)
        if phone is None:
            return LinkResult(LinkOutcome.INVALID_PHONE)
        async with self._uow.transaction():
            matches, linked = await self._uow.customers.by_phone_or_account(phone, telegram_user_id)
            if not matches:
                log.info("no customer with phone %s", mask_phone(phone))
                return LinkResult(LinkOutcome.NO_MATCH)
            if len(matches) > 1:
                return LinkResult(LinkOutcome.AMBIGUOUS)
            return await self._link(matches[0], telegram_user_id, LinkMethod.CONTACT, linked)

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
            # A token links once, whoever presents it again: a link forwarded, leaked or
            # left in a chat history cannot take the account over later.
            if not await self._uow.link_tokens.use(
                token_digest(token), customer.id, telegram_user_id, self._clock.now()
            ):
                return LinkResult(LinkOutcome.USED_TOKEN)
            previous = await self._uow.customers.by_telegram_user(telegram_user_id)
            return await self._link(customer, telegram_user_id, LinkMethod.DEEP_LINK, previous)

    async def verify_guest(
        self, telegram_user_id: int, order_number: str, detail: str
    ) -> GuestResult:
        """Open one order to a not-linked account that knows its number and contact detail.

        A wrong number and a wrong detail get the same answer, so the reply never
        tells a stranger which order numbers exist.
        """
        async with self._uow.transaction():
            attempt = await self._attempts.begin(telegram_user_id, order_number)
            if attempt.locked is not None:
                return GuestResult(GuestOutcome.LOCKED, retry_at=attempt.locked.retry_at)

            order = attempt.order
            customer = await self._uow.customers.get(order.customer_id) if order else None
            if order is None or customer is None or not _detail_matches(customer, detail):
                after = await self._attempts.fail(attempt)
                outcome = GuestOutcome.MISMATCH if after.allowed else GuestOutcome.LOCKED
                return GuestResult(outcome, attempts_left=after.remaining, retry_at=after.retry_at)

            now = self._clock.now()
            access = await self._uow.orders.guest_access(telegram_user_id, order.id)
            if access is None:
                access = GuestAccess(telegram_user_id=telegram_user_id, order_id=order.id)
                self._uow.orders.add_guest_access(access)
            access.granted_at, access.expires_at = now, now + self._guest.access_for
            return GuestResult(GuestOutcome.VERIFIED, order_number=order.number)

    async def _link(
        self,
        customer: Customer,
        telegram_user_id: int,
        via: LinkMethod,
        previous: Customer | None,
    ) -> LinkResult:
        """Move the link onto this account (from `previous`, the customer it is linked to
        now, if any); runs inside the caller's transaction."""
        if previous is not None and previous.id != customer.id:
            previous.telegram_user_id = None
            await self._uow.flush()
        moved_from = customer.telegram_user_id
        customer.telegram_user_id = telegram_user_id
        customer.linked_at = self._clock.now()
        customer.linked_via = via
        # The conversation under way is the customer's from now on (the identity would
        # otherwise attribute it at the account's next message, a write of its own).
        await self._uow.conversations.attribute_open(telegram_user_id, customer.id)
        if moved_from not in (None, telegram_user_id):
            log.info("customer %s moves to a new Telegram account via %s", customer.id, via)
            await self._tell_previous_account(customer, moved_from)
        return LinkResult(LinkOutcome.LINKED, CustomerView.of(customer))

    async def _tell_previous_account(self, customer: Customer, previous_account: int) -> None:
        """The account that was linked hears that another one took its place, in case
        that was not its owner's doing (through the outbox, in this transaction)."""
        account = await self._uow.telegram_users.get(previous_account)
        locale = (account.locale if account else None) or customer.locale or self._default_locale
        linked_at = customer.linked_at or self._clock.now()
        Outbox(self._uow, self._clock).enqueue(
            chat_id=previous_account,
            customer_id=customer.id,
            locale=locale,
            template=ACCOUNT_MOVED_TEMPLATE,
            context={"linked_at": linked_at, "via": str(customer.linked_via)},
            dedupe_key=f"account_moved:{customer.id}:{previous_account}:{linked_at.isoformat()}",
        )


def looks_like_guest_detail(text: str) -> bool:
    """Four digits or something shaped like an e-mail: worth checking against the order."""
    text = text.strip()
    return _four_digits(text) is not None or _EMAIL.match(text) is not None


def _four_digits(text: str) -> str | None:
    """Four decimal digits in any script (`١٢٣٤`, `１２３４`) as ASCII, else None.

    `str.isdigit` also accepts superscripts and other digits that are not decimal;
    those are refused rather than guessed at.
    """
    if len(text) != 4 or not all(char.isdecimal() for char in text):
        return None
    return "".join(str(unicodedata.decimal(char)) for char in text)


def _detail_matches(customer: Customer, detail: str) -> bool:
    """Last four digits of the phone, or the e-mail (any case); compared in constant time."""
    given = detail.strip()
    digits = _four_digits(given)
    if digits is not None:
        expected = (customer.phone or "")[-4:]
        return bool(expected) and hmac.compare_digest(digits, expected)
    if "@" in given and customer.email:
        return hmac.compare_digest(given.lower().encode(), customer.email.lower().encode())
    return False
