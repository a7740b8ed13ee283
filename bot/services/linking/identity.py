"""Who is writing: their Telegram account, linked customer, open conversation and language."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.services.conversation.views import CustomerView
from bot.services.domain.clock import Clock
from bot.services.domain.locales import LOCALES, locale_of_text, pick_locale
from storage.enums import ConversationStatus
from storage.models import Conversation, Customer, TelegramUser
from storage.uow import UnitOfWork

CONVERSATION_IDLE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Sender:
    """The transport-free facts about the person behind an update."""

    user_id: int
    chat_id: int
    first_name: str = ""
    username: str | None = None
    language_code: str | None = None
    text: str | None = None  # what they wrote, if a text message: the language it is in


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    chat_id: int
    first_name: str
    customer: CustomerView | None
    conversation_id: int
    locale: str
    chosen_locale: str | None = None
    language_code: str | None = None
    written_locale: str | None = None
    handoff_ticket_id: int | None = None
    """The open ticket this chat is talking to agents about (issue 9): its messages go to
    the agents' topic. Loaded with the account, so the per-update check costs nothing."""
    active_at: datetime | None = None
    """The conversation's last activity as loaded (its transcript moves it on)."""

    @property
    def linked(self) -> bool:
        return self.customer is not None

    @property
    def customer_id(self) -> int | None:
        return self.customer.id if self.customer else None


class IdentityService:
    def __init__(self, uow: UnitOfWork, clock: Clock, default_locale: str) -> None:
        self._uow = uow
        self._clock = clock
        self._default_locale = default_locale

    async def resolve(self, sender: Sender) -> Identity:
        """Load (or create on first contact) the account, its customer and open conversation."""
        now = self._clock.now()
        async with self._uow.transaction(reads_first=True):  # writes only what changed
            found = await self._uow.telegram_users.get_with_context(sender.user_id, sender.chat_id)
            if found is None:
                account = TelegramUser(id=sender.user_id, first_seen_at=now)
                self._refresh_profile(account, sender)  # inserted whole: no UPDATE after
                customer, conversation = None, None
                self._uow.telegram_users.add(account)
                await self._uow.flush()  # before the conversation that refers to it
            else:
                account, customer, conversation = found
                self._refresh_profile(account, sender)
            opened = conversation
            conversation = await self._current_conversation(sender, customer, conversation, now)
        if found is None or conversation is not opened:
            # Within an update, a new account or conversation is committed at once (rare):
            # the transcript of an update that then fails still has its conversation.
            # Otherwise nothing is written here unless the profile changed, and that
            # rides the update's own transaction.
            await self._uow.commit()

        return Identity(
            user_id=sender.user_id,
            chat_id=sender.chat_id,
            first_name=sender.first_name,
            customer=CustomerView.of(customer) if customer else None,
            conversation_id=conversation.id,
            locale=pick_locale(
                account.locale,
                customer.locale if customer else None,
                sender.language_code,
                self._default_locale,
                account.written_locale,
            ),
            chosen_locale=account.locale,
            language_code=sender.language_code,
            written_locale=account.written_locale,
            handoff_ticket_id=account.handoff_ticket_id,
            active_at=conversation.last_activity_at,
        )

    def linked(self, identity: Identity, customer: CustomerView) -> Identity:
        """The same reader right after linking: the customer's language may now apply."""
        locale = pick_locale(
            identity.chosen_locale,
            customer.locale,
            identity.language_code,
            self._default_locale,
            identity.written_locale,
        )
        return replace(identity, customer=customer, locale=locale)

    async def set_locale(self, identity: Identity, locale: str) -> None:
        """Remember the reader's choice on the account and, when linked, on the customer."""
        if locale not in LOCALES:
            raise ValueError(f"unsupported locale {locale!r}")
        async with self._uow.transaction():
            account = await self._uow.telegram_users.get(identity.user_id)
            if account is not None:
                account.locale = locale
            if identity.customer is not None:
                customer = await self._uow.customers.get(identity.customer.id)
                if customer is not None:
                    customer.locale = locale

    async def _current_conversation(
        self,
        sender: Sender,
        customer: Customer | None,
        conversation: Conversation | None,
        now: datetime,
    ) -> Conversation:
        """The chat's open conversation; a new one after a quiet day."""
        if conversation is not None and now - conversation.last_activity_at > CONVERSATION_IDLE:
            conversation.status, conversation.closed_at = ConversationStatus.CLOSED, now
            conversation = None
        if conversation is None:
            conversation = Conversation(
                chat_id=sender.chat_id,
                telegram_user_id=sender.user_id,
                customer_id=customer.id if customer else None,
                started_at=now,
                last_activity_at=now,
            )
            self._uow.conversations.add(conversation)
            await self._uow.flush()
        elif customer is not None and conversation.customer_id is None:
            conversation.customer_id = customer.id
        return conversation

    @staticmethod
    def _refresh_profile(account: TelegramUser, sender: Sender) -> None:
        if account.blocked_at is not None:
            account.blocked_at = None  # they are writing to us: the bot is not blocked any more
        if account.first_name != sender.first_name:
            account.first_name = sender.first_name
        if account.username != sender.username:
            account.username = sender.username
        if account.language_code != sender.language_code:
            account.language_code = sender.language_code
        written = locale_of_text(sender.text)
        if written is not None and account.written_locale != written:
            account.written_locale = written  # kept: a button press says nothing
