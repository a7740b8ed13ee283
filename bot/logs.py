"""Logging set-up: readable lines by default, JSON with LOG_FORMAT=json, secrets masked.

Masked in every line, tracebacks included: bot tokens, `secret=`-style values, e-mail
addresses and phone numbers (with or without "+"). What customers write is never
logged, at any level: our own lines carry ids and outcomes only, and SQL parameters and
rows stay out of logs and exception messages (`configure_logging`, storage.db).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Bot tokens, also inside Bot API URLs: 123456:ABC-DEF…
    (re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}"), "<bot-token>"),
    # Secrets passed as key=value.
    (re.compile(r"(?i)\b(token|secret|signature|password)=([^\s&,;]+)"), r"\1=<masked>"),
    # E-mail addresses keep their domain: a***@example.com
    (re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b"),
     r"\1***@\2"),
    # International phone numbers keep the last four digits.
    (re.compile(r"\+\d[\d\s().-]{5,}(\d{4})\b"), r"+***\1"),
    # Phones without "+", as Telegram sends a contact's: a value named phone..., or a bare
    # run of 11 to 15 digits (user ids, update ids and amounts are shorter; negative chat
    # ids are left alone).
    (re.compile(r"(?i)(phone\w*\W{1,4})\d[\d\s().-]{5,}(\d{4})\b"), r"\1***\2"),
    (re.compile(r"(?<![\w.:+-])\d{7,11}(\d{4})(?![\w.])"), r"***\1"),
)  # fmt: skip


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiogram logs every update at INFO; bot.updates writes our own, richer line.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Alembic narrates every plugin and step; `cancelbot db` prints its own summary.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # SQLAlchemy logs every statement at INFO and every row fetched at DEBUG: customer
    # names, phones and transcript text. Its parameters are hidden (storage.db); the
    # engine's own logging stays off whatever LOG_LEVEL says.
    # aiosqlite logs every statement with its parameters at DEBUG.
    for talkative in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite"):
        logging.getLogger(talkative).setLevel(logging.WARNING)
