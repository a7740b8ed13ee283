"""Who is writing: account, customer, conversation and language."""

from __future__ import annotations

from datetime import timedelta

from bot.services.domain.clock import FixedClock
from bot.services.linking.identity import Sender
from bot.wiring import AppDeps
from storage.enums import ConversationStatus
from tests.storage.helpers import add_all, make_customer


async def test_first_contact_creates_account_and_conversation(deps: AppDeps) -> None:
    async with deps.uow() as uow:
        identity = await deps.services(uow).identity.resolve(
            Sender(user_id=5, chat_id=5, first_name="Li", language_code="zh-hans")
        )
    assert identity.customer is None
    assert identity.locale == "zh"
    async with deps.uow() as uow:
        again = await deps.services(uow).identity.resolve(Sender(user_id=5, chat_id=5))
    assert again.conversation_id == identity.conversation_id


async def test_a_quiet_day_starts_a_new_conversation(deps: AppDeps, clock: FixedClock) -> None:
    async with deps.uow() as uow:
        first = await deps.services(uow).identity.resolve(Sender(user_id=5, chat_id=5))
    clock.advance(timedelta(hours=25))
    async with deps.uow() as uow:
        second = await deps.services(uow).identity.resolve(Sender(user_id=5, chat_id=5))
        conversations = await uow.conversations.for_chat(5)
    assert second.conversation_id != first.conversation_id
    assert [c.status for c in conversations] == [ConversationStatus.CLOSED, ConversationStatus.OPEN]


async def test_locale_choice_is_remembered_for_account_and_customer(deps: AppDeps) -> None:
    customer = make_customer("C-L", locale=None)
    async with deps.uow() as uow:
        await add_all(uow, customer)
        identity = await deps.services(uow).identity.resolve(
            Sender(user_id=7, chat_id=7, language_code="en")
        )
        await deps.services(uow).linking.link_by_contact(7, 7, customer.phone or "")
        identity = await deps.services(uow).identity.resolve(Sender(user_id=7, chat_id=7))
        await deps.services(uow).identity.set_locale(identity, "zh")
    async with deps.uow() as uow:
        after = await deps.services(uow).identity.resolve(
            Sender(user_id=7, chat_id=7, language_code="en")
        )
        stored = await uow.customers.by_external_id("C-L")
    assert after.locale == "zh"
    assert stored is not None
    assert stored.locale == "zh"
    assert after.customer is not None
    assert after.customer.external_id == "C-L"
