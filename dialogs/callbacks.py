"""Callback data: short versioned prefixes, ids and enums only (Telegram allows 64 bytes).

Bump a prefix's version when its fields change, so buttons already sent fail the
filter and reach the stale-button handler instead of being misread. Every id in
here is untrusted: handlers check the case is the reader's current one and the
services check the order is theirs. Ids are bounded by what a database row id can
be (`RowId`): forged data naming a larger one fails the filter like any stale
button, rather than reaching the database, which would fail on it.
"""

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from storage.enums import ItemCondition, PaymentMethod, ReasonCode
from storage.types import ROW_ID_MAX

RowId = Annotated[int, Field(ge=0, le=ROW_ID_MAX)]
"""A row id (0 where a field says it means "none")."""


class MenuAction(StrEnum):
    CANCEL = "cx"
    STATUS = "st"
    PERSON = "hu"
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


class PickOrder(CallbackData, prefix="co1"):
    case_id: RowId
    order_id: RowId


class OrderPage(CallbackData, prefix="cp1"):
    case_id: RowId
    page: Annotated[int, Field(ge=0, le=10_000)]


class ConfirmGuess(CallbackData, prefix="cg1"):
    """ "Did you mean SO-1002345?": yes picks it, no shows the list."""

    case_id: RowId
    order_id: RowId
    yes: bool


class StepItem(CallbackData, prefix="ci1"):
    case_id: RowId
    item_id: RowId


class ItemsDone(CallbackData, prefix="cd1"):
    case_id: RowId


class ChangeItems(CallbackData, prefix="cb1"):
    """Back from the decision to the items, the earlier choice ticked."""

    case_id: RowId


class PickReason(CallbackData, prefix="re1"):
    case_id: RowId
    code: ReasonCode


class PickCondition(CallbackData, prefix="cn1"):
    case_id: RowId
    condition: ItemCondition


class SkipPhoto(CallbackData, prefix="ph1"):
    case_id: RowId


class NoPhoto(CallbackData, prefix="np1"):
    """A photo is required and the customer has none: they describe the problem instead."""

    case_id: RowId


class AnswerOffer(CallbackData, prefix="of1"):
    """Accept offer `offer_id`; 0 means "No thanks, cancel"."""

    case_id: RowId
    offer_id: RowId


class PickVariant(CallbackData, prefix="xv1"):
    """The variant an exchange sends: `choice` is its place in the offer's list of variants."""

    case_id: RowId
    offer_id: RowId
    choice: Annotated[int, Field(ge=0, le=99)]


class PickMethod(CallbackData, prefix="rm1"):
    case_id: RowId
    method: PaymentMethod


class SummaryAction(StrEnum):
    CONFIRM = "ok"
    BACK = "back"


class AnswerSummary(CallbackData, prefix="cf1"):
    case_id: RowId
    action: SummaryAction


class AnswerPerson(CallbackData, prefix="hp2"):
    """ "Would you like a person?"; case 0 when no case is open.

    `stuck`: offered because the bot misunderstood twice, which the ticket records as
    its reason (rather than "the customer asked").
    """

    case_id: RowId
    yes: bool
    stuck: bool = False


class RateSurvey(CallbackData, prefix="sv1"):
    """A star button of a satisfaction survey (`bot.services.conversation.surveys`)."""

    survey_id: RowId
    stars: Annotated[int, Field(ge=1, le=5)]


class RefundTimeline(CallbackData, prefix="rt1"):
    """Show one refund's history; the service checks the refund is the presser's."""

    refund_id: RowId
