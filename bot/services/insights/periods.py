"""Reading a period from what people type: `--since 2026-11-01`, `?days=7`, ISO times.

A date means a whole calendar day in the shop's time zone (TIMEZONE): as `since` its
first moment, as `until` the end of it, so `--since 2026-11-01 --until 2026-11-30` is all
of November there. A date-time must carry its zone. Without `since` the period is the
`days` before `until` (30 by default); without `until` it ends now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.insights.figures import Period

DEFAULT_DAYS = 30
MAX_DAYS = 366


class PeriodError(ValueError):
    """A bound that cannot be read, or a period that ends before it starts."""


def parse_period(
    since: str | None,
    until: str | None,
    *,
    now: datetime,
    timezone: str,
    days: int = DEFAULT_DAYS,
) -> Period:
    zone = ZoneInfo(timezone)
    end = _bound(until, zone, end_of_day=True) if until else now
    start = _bound(since, zone, end_of_day=False) if since else end - timedelta(days=days)
    if start >= end:
        raise PeriodError("the period must end after it starts")
    if end - start > timedelta(days=MAX_DAYS):
        raise PeriodError(f"a period is at most {MAX_DAYS} days")
    return Period(start, end)


def _bound(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), zone).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{text!r} is neither a date (2026-11-01) nor an ISO time") from None
    if moment.tzinfo is None:
        raise PeriodError(f"{text!r} needs a time zone, e.g. 2026-11-01T09:00:00+08:00")
    return moment.astimezone(UTC)
