"""Customers and the Telegram accounts that talk to the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ConversationStatus
from storage.models import Conversation, Customer, TelegramUser


class TelegramUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> TelegramUser | None:
        return await self._session.get(TelegramUser, user_id)

    async def get_with_customer(self, user_id: int) -> tuple[TelegramUser, Customer | None] | None:
        """The account and, when linked, its customer, in one query."""
        row = (
            await self._session.execute(
                select(TelegramUser, Customer)
                .outerjoin(Customer, Customer.telegram_user_id == TelegramUser.id)
                .where(TelegramUser.id == user_id)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def get_with_context(
        self, user_id: int, chat_id: int
    ) -> tuple[TelegramUser, Customer | None, Conversation | None] | None:
        """The account, its customer and the chat's open conversation, in one query:
        this runs for every update a customer sends."""
        row = (
            await self._session.execute(
                select(TelegramUser, Customer, Conversation)
                .outerjoin(Customer, Customer.telegram_user_id == TelegramUser.id)
                .outerjoin(
                    Conversation,
                    and_(
                        Conversation.chat_id == chat_id,
                        Conversation.status == ConversationStatus.OPEN,
                    ),
                )
                .where(TelegramUser.id == user_id)
                .order_by(Conversation.id.desc())
                .limit(1)
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def add(self, user: TelegramUser) -> None:
        self._session.add(user)


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, customer_id: int) -> Customer | None:
        return await self._session.get(Customer, customer_id)

    async def by_external_id(self, external_id: str) -> Customer | None:
        return await self._session.scalar(
            select(Customer).where(Customer.external_id == external_id)
        )

    async def by_external_ids(self, external_ids: Sequence[str]) -> dict[str, Customer]:
        if not external_ids:
            return {}
        rows = await self._session.scalars(
            select(Customer).where(Customer.external_id.in_(external_ids))
        )
        return {customer.external_id: customer for customer in rows}

    async def by_phone(self, phone: str) -> Sequence[Customer]:
        return (await self._session.scalars(select(Customer).where(Customer.phone == phone))).all()

    async def by_telegram_user(self, user_id: int) -> Customer | None:
        return await self._session.scalar(
            select(Customer).where(Customer.telegram_user_id == user_id)
        )

    async def count(self) -> int:
        return await self._session.scalar(select(func.count()).select_from(Customer)) or 0

    async def sample(self, limit: int) -> Sequence[Customer]:
        return (
            await self._session.scalars(select(Customer).order_by(Customer.id).limit(limit))
        ).all()

    def add(self, customer: Customer) -> None:
        self._session.add(customer)

    async def flush(self) -> None:
        await self._session.flush()

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many customers (column -> value) in one statement, for bulk loads."""
        if rows:
            await self._session.execute(insert(Customer), list(rows))
