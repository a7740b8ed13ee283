"""aiogram FSM storage in the application database, so a restart resumes every conversation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import READ_ONLY
from storage.models import FsmRecord, utcnow


class SqlAlchemyStorage(BaseStorage):
    """One row per FSM key holding the state and the JSON data.

    Each call is its own short transaction. Data must be JSON: what cannot be
    serialised fails here, in tests, rather than after a restart.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(self._keys.build(key), {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session_factory() as session:
            await session.connection(execution_options={READ_ONLY: True})
            return await session.scalar(
                select(FsmRecord.state).where(FsmRecord.key == self._keys.build(key))
            )

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        try:
            json.dumps(data)
        except TypeError as error:
            raise TypeError(f"FSM data must be JSON-serialisable: {error}") from None
        await self._upsert(self._keys.build(key), {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session_factory() as session:
            await session.connection(execution_options={READ_ONLY: True})
            data = await session.scalar(
                select(FsmRecord.data).where(FsmRecord.key == self._keys.build(key))
            )
        return dict(data) if data else {}

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""

    async def clear_all(self) -> None:
        async with self._session_factory() as session:
            await session.execute(delete(FsmRecord))
            await session.commit()

    async def _upsert(self, key: str, values: dict[str, Any]) -> None:
        async with self._session_factory() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            row = {"key": key, "state": None, "data": {}, "updated_at": utcnow(), **values}
            statement = insert(FsmRecord).values(**row)
            statement = statement.on_conflict_do_update(
                index_elements=[FsmRecord.key],
                set_={**values, "updated_at": row["updated_at"]},
            )
            await session.execute(statement)
            await session.commit()
