"""Callback data: short versioned prefixes, ids and enums only (Telegram allows 64 bytes).

Bump a prefix's version when its fields change, so buttons already sent fail the
filter and reach the stale-button handler instead of being misread. Every id in
here is untrusted: handlers check the case is the reader's current one and the
services check the order is theirs.
"""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from storage.enums import ItemCondition, PaymentMethod, ReasonCode


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
    case_id: int
    order_id: int


class OrderPage(CallbackData, prefix="cp1"):
    case_id: int
    page: int


class ConfirmGuess(CallbackData, prefix="cg1"):
    """ "Did you mean SO-1002345?": yes picks it, no shows the list."""

    case_id: int
    order_id: int
    yes: bool


class StepItem(CallbackData, prefix="ci1"):
    case_id: int
    item_id: int


class ItemsDone(CallbackData, prefix="cd1"):
    case_id: int


class PickReason(CallbackData, prefix="re1"):
    case_id: int
    code: ReasonCode


class PickCondition(CallbackData, prefix="cn1"):
    case_id: int
    condition: ItemCondition


class SkipPhoto(CallbackData, prefix="ph1"):
    case_id: int


class AnswerOffer(CallbackData, prefix="of1"):
    """Accept offer `offer_id`; 0 means "No thanks, cancel"."""

    case_id: int
    offer_id: int


class PickMethod(CallbackData, prefix="rm1"):
    case_id: int
    method: PaymentMethod


class SummaryAction(StrEnum):
    CONFIRM = "ok"
    BACK = "back"


class AnswerSummary(CallbackData, prefix="cf1"):
    case_id: int
    action: SummaryAction


class AnswerPerson(CallbackData, prefix="hp2"):
    """ "Would you like a person?"; case 0 when no case is open.

    `stuck`: offered because the bot misunderstood twice, which the ticket records as
    its reason (rather than "the customer asked").
    """

    case_id: int
    yes: bool
    stuck: bool = False


class RateSurvey(CallbackData, prefix="sv1"):
    """A star button of a satisfaction survey (`bot.services.surveys`)."""

    survey_id: int
    stars: int


class RefundTimeline(CallbackData, prefix="rt1"):
    """Show one refund's history; the service checks the refund is the presser's."""

    refund_id: int
