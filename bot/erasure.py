"""Erasing a customer from everything the bot keeps: the database and the FSM storage.

`cancelbot forget` and the merchant API's forget route call `forget_customer`; the
rules live in `bot.services.erasure`. Conversation state kept in Redis is keyed by the
Telegram account and holds no more than ids, but the key itself names the account,
so it is deleted too (in the database it goes with the rest of the erasure).
"""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from bot.channels.redis_optional import redis_of
from bot.services.erasure import ErasureResult
from bot.wiring import AppDeps


async def forget_customer(deps: AppDeps, external_id: str, *, requested_by: str) -> ErasureResult:
    """Erase the customer's personal data; raises UnknownCustomer for an unknown id."""
    async with deps.uow() as uow:
        erasure = deps.services(uow).erasure
        accounts = await erasure.telegram_ids(external_id)
        result = await erasure.forget(external_id, requested_by=requested_by)
    token = deps.settings.bot_token
    storage = deps.fsm_storage
    if not result.repeated and redis_of(storage) is not None and token is not None:
        bot_id = int(token.get_secret_value().split(":", 1)[0])
        for account in accounts:
            key = StorageKey(bot_id=bot_id, chat_id=account, user_id=account)
            await storage.set_state(key, None)
            await storage.set_data(key, {})
    return result
