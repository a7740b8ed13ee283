"""Where to write to a customer when they did not write first: their linked Telegram chat."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.domain.locales import pick_locale
from storage.models import Customer
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class CustomerChat:
    user_id: int
    chat_id: int
    locale: str


async def customer_chat(
    uow: UnitOfWork, customer: Customer, default_locale: str
) -> CustomerChat | None:
    """The linked account's private chat, in the language the bot speaks there; None unlinked.

    The language is chosen as for the customer's own messages (`pick_locale`): their
    /language choice, the merchant's record, their Telegram language, the language they
    write in.
    """
    if customer.telegram_user_id is None:
        return None
    account = await uow.telegram_users.get(customer.telegram_user_id)
    locale = pick_locale(
        account.locale if account else None,
        customer.locale,
        account.language_code if account else None,
        default_locale,
        account.written_locale if account else None,
    )
    # A private chat's id is its user's id.
    return CustomerChat(customer.telegram_user_id, customer.telegram_user_id, locale)
