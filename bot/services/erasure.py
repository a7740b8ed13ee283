"""Erasing a customer's personal data on request, keeping the books.

`cancelbot forget CUSTOMER_ID` and `POST /api/v1/customers/{id}/forget` both call
`ErasureService.forget`. What goes: the name, phone, e-mail and language; the link to
Telegram, every Telegram account the customer used (renamed to a pseudonym everywhere,
then deleted, with its name, username and conversation state); transcript text and
attachments; reasons in their own words and photo ids; survey comments; notes on their
tickets and refunds, agents' notes; the contents of messages owed to them (unsent ones
are not sent); what the update inbox still holds from their chats; their topics in the
agents' group (deleted there through the outbox, with every copy of their messages).
What stays: the customer row under its merchant id, with orders, items, cancellation
requests, refunds, their amounts and history, vouchers, offers and ratings, so totals and
statistics still add up.

One transaction: it all happens or nothing does. A second request changes nothing
and answers with the first erasure's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.domain.clock import Clock
from bot.services.merchant.errors import MerchantRequestError
from bot.services.outbox import Outbox
from storage.enums import DeliveryKind
from storage.models import Erasure
from storage.uow import UnitOfWork

PSEUDONYM_SLOTS = 1000
"""Pseudonyms are -(customer id × 1000 + n): negative (no Telegram user has one) and
distinct per customer and account."""


class UnknownCustomer(MerchantRequestError, LookupError):
    def __init__(self, external_id: str) -> None:
        super().__init__(f"no customer {external_id}")


@dataclass(frozen=True, slots=True)
class ErasureResult:
    customer_id: str
    erased_at: datetime
    telegram_accounts: int
    """Telegram accounts renamed to pseudonyms and deleted."""
    rows_changed: int
    repeated: bool
    """Erased before: nothing changed now."""


class ErasureService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def forget(self, external_id: str, *, requested_by: str) -> ErasureResult:
        """Erase the customer's personal data (`requested_by`: "cli" or "merchant")."""
        async with self._uow.transaction():
            customer = await self._uow.customers.by_external_id(external_id)
            if customer is None:
                raise UnknownCustomer(external_id)
            done = await self._uow.erasure.previous(customer.id)
            if done is not None:
                return ErasureResult(
                    external_id,
                    done.erased_at,
                    done.changes.get("telegram_accounts", 0),
                    done.changes.get("rows", 0),
                    repeated=True,
                )
            now = self._clock.now()
            accounts = sorted(await self._uow.erasure.telegram_accounts(customer.id))
            if len(accounts) >= PSEUDONYM_SLOTS:
                raise MerchantRequestError(f"{external_id} used too many Telegram accounts")
            repository = self._uow.erasure
            topics = await repository.forget_topics(accounts)
            changed = await repository.anonymise_customer(customer.id)
            pseudonyms = []
            for n, account in enumerate(accounts):
                pseudonym = -(customer.id * PSEUDONYM_SLOTS + n)
                changed += await repository.rekey_account(account, pseudonym, now)
                pseudonyms.append(pseudonym)
            changed += await repository.close_open_cases(customer.id, pseudonyms, now)
            changed += await repository.blank_transcripts(customer.id, pseudonyms)
            changed += await repository.blank_free_text(customer.id, pseudonyms)
            changed += await repository.blank_outbox(customer.id, pseudonyms)
            changed += await self._uow.inbox.forget_chats(accounts)
            for topic in topics:
                changed += await self._uow.inbox.forget_threads(
                    topic.group_chat_id, {topic.thread_id}
                )
                # The topic, and every copy of their messages in it, goes from the group too.
                Outbox(self._uow, self._clock).enqueue(
                    chat_id=topic.group_chat_id,
                    locale="en",
                    template="",
                    context={"thread_id": topic.thread_id},
                    dedupe_key=f"erase:{customer.id}:topic:{topic.topic_id}",
                    kind=DeliveryKind.TOPIC_DELETE,
                )
            repository.add(
                Erasure(
                    customer_id=customer.id,
                    requested_by=requested_by,
                    erased_at=now,
                    changes={"telegram_accounts": len(accounts), "rows": changed},
                )
            )
        return ErasureResult(external_id, now, len(accounts), changed, repeated=False)

    async def telegram_ids(self, external_id: str) -> list[int]:
        """The Telegram accounts an erasure of this customer would forget, for a caller
        that must also clear what is kept outside the database (FSM state in Redis)."""
        async with self._uow.transaction():
            customer = await self._uow.customers.by_external_id(external_id)
            if customer is None:
                raise UnknownCustomer(external_id)
            return sorted(await self._uow.erasure.telegram_accounts(customer.id))
