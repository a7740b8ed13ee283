"""Satisfaction surveys: one per finished case, and the figures the merchant will read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import conflict_insert
from storage.models import Survey

_CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """Surveys answered in a period: how many, and their average stars (None when none)."""

    count: int
    average: Decimal | None


class SurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_once(
        self,
        *,
        subject_key: str,
        customer_id: int | None,
        chat_id: int,
        locale: str,
        asked_at: datetime,
    ) -> int | None:
        """Insert the survey unless its subject already has one; the new id, or None.

        INSERT … ON CONFLICT DO NOTHING on the unique subject key: a concurrent insert of
        the same subject waits for the first transaction and then does nothing (on
        PostgreSQL; SQLite's write lock serialises them anyway), so neither side fails.
        """
        dialect = self._session.get_bind().dialect.name
        statement = (
            conflict_insert(dialect, Survey)
            .values(
                subject_key=subject_key,
                customer_id=customer_id,
                chat_id=chat_id,
                locale=locale,
                asked_at=asked_at,
            )
            .on_conflict_do_nothing(index_elements=[Survey.subject_key])
            .returning(Survey.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def get(self, survey_id: int) -> Survey | None:
        return await self._session.get(Survey, survey_id)

    async def get_for_update(self, survey_id: int) -> Survey | None:
        """Lock the row (PostgreSQL), so two presses at once apply one after the other."""
        return await self._session.scalar(
            select(Survey).where(Survey.id == survey_id).with_for_update()
        )

    async def by_subject(self, subject_key: str) -> Survey | None:
        return await self._session.scalar(select(Survey).where(Survey.subject_key == subject_key))

    async def rating_summary(self, since: datetime, until: datetime) -> RatingSummary:
        """Surveys first answered in [since, until): their count and average rating.

        Summed in SQL and divided here, so the average is the same exact Decimal on
        SQLite (whose AVG is a float) and PostgreSQL.
        """
        count, total = (
            await self._session.execute(
                select(func.count(Survey.rating), func.sum(Survey.rating)).where(
                    Survey.rating.is_not(None),
                    Survey.answered_at >= since,
                    Survey.answered_at < until,
                )
            )
        ).one()
        if not count:
            return RatingSummary(0, None)
        average = (Decimal(total or 0) / count).quantize(_CENTS, rounding=ROUND_HALF_UP)
        return RatingSummary(count, average)
