"""Callback data: short versioned prefixes, ids and enums only (Telegram allows 64 bytes).

Bump a prefix's version when its fields change, so buttons already sent fail the
filter and reach the stale-button handler instead of being misread.
"""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    STATUS = "st"
    LANGUAGE = "lg"
    HELP = "hp"


class MenuCallback(CallbackData, prefix="mn1"):
    action: MenuAction


class LanguageCallback(CallbackData, prefix="lg1"):
    locale: str


class ResumeAction(StrEnum):
    RESUME = "go"
    RESTART = "new"


class ResumeCallback(CallbackData, prefix="rs1"):
    action: ResumeAction
