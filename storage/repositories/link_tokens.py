"""Deep-link tokens that have been used: a token links an account once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import conflict_insert
from storage.models import LinkTokenUse


class LinkTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def use(
        self, token_digest: str, customer_id: int, telegram_user_id: int, at: datetime
    ) -> bool:
        """Record the token's one use; False when it was used before (by anyone).

        "On conflict do nothing" makes the primary key, not a check before inserting,
        decide which of two accounts racing with one token gets it.
        """
        dialect = self._session.get_bind().dialect.name
        statement = (
            conflict_insert(dialect, LinkTokenUse)
            .values(
                token_digest=token_digest,
                customer_id=customer_id,
                telegram_user_id=telegram_user_id,
                used_at=at,
            )
            .on_conflict_do_nothing(index_elements=[LinkTokenUse.token_digest])
            .returning(LinkTokenUse.token_digest)
        )
        return (await self._session.scalar(statement)) is not None
