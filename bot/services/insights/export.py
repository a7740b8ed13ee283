"""A report as JSON (for scripts) and CSV (for spreadsheets), and the formats people read.

The JSON mirrors the figure objects: every field, plus the shares and totals they derive
(`save_rate`, `currencies`...). Money is `{"amount": "12.50", "currency": "CNY"}`, a share
is `{"part", "whole", "percent"}` with `percent` null when the whole is zero, durations
are whole seconds (null when there are none), times ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.services.domain.money import Money
from bot.services.insights.figures import Rate, Report

CSV_COLUMNS = ("section", "figure", "value", "currency")
# Fields that name a row of a list, so a CSV line reads "offers.exchange.shown".
_ROW_NAMES = ("type", "method", "key", "group", "day", "id", "agent_id")


def report_json(report: Report) -> dict[str, Any]:
    result = _json(report)
    assert isinstance(result, dict)
    return result


def _json(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": value.plain(), "currency": value.currency}
    if isinstance(value, Rate):
        percent = value.percent
        return {"part": value.part, "whole": value.whole, "percent": _plain(percent)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        derived = {
            name: _json(getattr(value, name))
            for name, member in vars(type(value)).items()
            if isinstance(member, property)
        }
        return fields | derived
    if isinstance(value, dict):
        return {str(_json(key)): _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _plain(value)
    return value


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def report_csv(report: Report) -> str:
    """One line per figure: section, figure (a dotted path), value, currency (for money)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    data = report_json(report)
    period = data.pop("period")
    writer.writerow(("report", "since", period["since"], ""))
    writer.writerow(("report", "until", period["until"], ""))
    for section in ("reason", "generated_at", "timezone"):
        writer.writerow(("report", section, _cell(data.pop(section)), ""))
    data.pop("recent_cases")  # conversations, not figures: the dashboard lists them
    for section, content in data.items():
        for figure, value, currency in _flatten(content, ""):
            writer.writerow((section, figure, value, currency))
    return out.getvalue()


def _flatten(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        yield path, value["amount"], value["currency"]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}.{_row_name(item, index)}" if path else str(index))
    else:
        yield path, _cell(value), ""


def _row_name(item: Any, index: int) -> str:
    if isinstance(item, dict):
        names = [str(item[key]) for key in _ROW_NAMES if item.get(key) is not None]
        currency = (item.get("total") or item.get("cost") or {}).get("currency")
        if names:
            return ".".join([*names, currency] if currency else names)
        if "currency" in item:
            return str(item["currency"])
    return str(index)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ";".join(f"{key}={_cell(item)}" for key, item in value.items())
    return str(value)


def format_duration(seconds: int | None) -> str:
    """`—`, `0 s`, `45 min`, `5 h 12 min`, `2 d 4 h`: what a support manager quotes."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_amounts(amounts: Iterable[Money]) -> str:
    """Each currency on its own, never added together: `¥1,200.00 + $80.00`."""
    parts = [money.format() for money in amounts]
    return " + ".join(parts) if parts else "—"
