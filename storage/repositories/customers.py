"""Customers and the Telegram accounts that talk to the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ConversationStatus
from storage.models import Conversation, Customer, FsmRecord, TelegramUser

AccountContext = tuple[TelegramUser, Customer | None, Conversation | None]
FsmRow = tuple[str | None, dict[str, Any] | None]

# `Session.info` key: contexts read ahead with an update's FSM row, each used once.
_READ_AHEAD = "cancelbot_account_context"
# `Session.info` key: contexts handed out, held for the session's life (see `_held`).
_HELD = "cancelbot_held_context"


def _context_query() -> Select[TelegramUser, Customer, Conversation]:
    return (
        select(TelegramUser, Customer, Conversation)
        .outerjoin(Customer, Customer.telegram_user_id == TelegramUser.id)
        .outerjoin(
            Conversation,
            and_(
                Conversation.chat_id == bindparam("chat_id"),
                Conversation.status == ConversationStatus.OPEN,
            ),
        )
        .where(TelegramUser.id == bindparam("user_id"))
        .order_by(Conversation.id.desc())
        .limit(1)
    )


# Built once, with bound parameters: these run for every update, and building a
# statement of this size costs more Python than its round trip to SQLite.
_CONTEXT = _context_query()
_CONTEXT_WITH_FSM = (
    _context_query()
    .outerjoin(FsmRecord, FsmRecord.key == bindparam("fsm_key"))
    .add_columns(FsmRecord.key, FsmRecord.state, FsmRecord.data)
)


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

    async def get_with_context(self, user_id: int, chat_id: int) -> AccountContext | None:
        """The account, its customer and the chat's open conversation, in one query:
        this runs for every update a customer sends. Read already with the update's FSM
        row (`with_fsm_row`), it costs no query at all (once)."""
        ahead: dict[tuple[int, int], AccountContext | None] = self._session.info.get(
            _READ_AHEAD, {}
        )
        if (user_id, chat_id) in ahead:
            return self._held(ahead.pop((user_id, chat_id)))
        row = (
            await self._session.execute(_CONTEXT, {"user_id": user_id, "chat_id": chat_id})
        ).first()
        return self._held((row[0], row[1], row[2]) if row else None)

    def _held(self, context: AccountContext | None) -> AccountContext | None:
        """Keep the context's objects for as long as the session: its identity map holds
        them weakly, and the update asks for the customer again (the policy's
        `customers.get`), which then costs no query."""
        if context is not None:
            self._session.info.setdefault(_HELD, []).append(context)
        return context

    async def with_fsm_row(self, user_id: int, chat_id: int, fsm_key: str) -> FsmRow | None:
        """The FSM row of `fsm_key` (state, data), read in the same query as the sender's
        account context, which the next `get_with_context` then takes without a query:
        one round trip where an update's start took two. None when the account is
        unknown (a first contact): the caller reads the FSM row alone."""
        params = {"user_id": user_id, "chat_id": chat_id, "fsm_key": fsm_key}
        row = (await self._session.execute(_CONTEXT_WITH_FSM, params)).first()
        ahead = self._session.info.setdefault(_READ_AHEAD, {})
        if row is None:
            ahead[(user_id, chat_id)] = None
            return None
        ahead[(user_id, chat_id)] = (row[0], row[1], row[2])
        return (row[4], row[5]) if row[3] is not None else (None, None)

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

    async def by_phone_or_account(
        self, phone: str, user_id: int
    ) -> tuple[list[Customer], Customer | None]:
        """The customers with this phone, and the one linked to this Telegram account:
        what linking by a shared contact needs, in one query."""
        rows = await self._session.scalars(
            select(Customer).where(
                or_(Customer.phone == phone, Customer.telegram_user_id == user_id)
            )
        )
        found = rows.all()
        linked = next((row for row in found if row.telegram_user_id == user_id), None)
        return [row for row in found if row.phone == phone], linked

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
