"""The satisfaction survey's buttons, and the optional comment that follows a rating.

The survey arrives from the outbox (`bot.services.conversation.surveys`), outside any flow, so its
presses are matched by `RateSurvey` alone; the service checks the survey was asked in
this chat, and anything else gets the stale-button alert.

After the first rating, if no other flow is in progress, the chat waits for a comment
(`SurveyFlow.comment`). This router comes first so that every command passes its gate
(`AwaitedComment`) while the chat waits: a command ends the wait and is then handled as
usual. It never handles a command itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.conversation.intents import Intents
from bot.services.conversation.surveys import COMMENT_WINDOW, STARS, Commented, Rated
from bot.services.domain.clock import Clock
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import RateSurvey
from dialogs.fallback import say_not_understood
from dialogs.states import SurveyFlow

# Commands that end the wait on their own and say so (common.stop): left to them.
_STOP_COMMANDS = frozenset({"cancel"})


class AwaitedComment(Filter):
    """Passes a text the rating invited as a comment, with its `survey_id`.

    A command, or a message that means one ("help", "stop"), is not a comment; nor is
    anything once the window has passed. Either ends the wait here and lets the message
    go on to its own handler. A filter does this rather than a handler because a handler
    passing the message on (SkipHandler) would have it written to the transcript twice.
    /cancel and "stop" keep the wait for the stop handler, which ends it and says so.
    """

    async def __call__(
        self, message: Message, state: FSMContext, intents: Intents, clock: Clock
    ) -> bool | dict[str, Any]:
        text = message.text
        if text is None:
            return False  # a photo or a sticker is no comment; the wait goes on
        command = _command(text)
        if command in _STOP_COMMANDS or intents.matches("stop", text):
            return False
        data = await state.get_data()
        survey_id, until = data.get("survey_id"), data.get("until")
        if (
            command is not None
            or any(intents.matches(intent, text) for intent in intents.phrases)
            or not isinstance(survey_id, int)
            or not isinstance(until, str)
            or clock.now() >= datetime.fromisoformat(until)
        ):
            await state.clear()
            return False
        return {"survey_id": survey_id}


def _command(text: str) -> str | None:
    """`/cancel@my_bot now` → "cancel"; None when the text is not a command."""
    if not text.startswith("/"):
        return None
    head = text[1:].split(maxsplit=1)
    return head[0].split("@", 1)[0].lower() if head else ""


async def stars_pressed(
    callback: CallbackQuery,
    callback_data: RateSurvey,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    raw_state: str | None,
    services: Services,
    identity: Identity,
    t: Texts,
) -> None:
    rating = await services.surveys.rate(identity, callback_data.survey_id, callback_data.stars)
    if rating.result is Rated.NOT_FOUND:
        callback_answer.text, callback_answer.show_alert = t("plain/stale_button"), True
        return
    if rating.result is Rated.SAME:
        return  # a double tap: the first press did everything
    if isinstance(callback.message, Message):
        # The question stays, with the chosen stars instead of the buttons.
        await callback.message.edit_text(
            t("notify/survey", order_number=rating.order_number, rating=rating.stars)
        )
    if rating.result is Rated.CHANGED:
        callback_answer.text = t("plain/survey_rating_changed", stars=rating.stars)
        return
    # A comment is invited only when the next message cannot belong to another flow.
    until, ask_comment = rating.comment_until, False
    if until is not None and raw_state in (None, SurveyFlow.comment.state):
        await state.set_state(SurveyFlow.comment)
        await state.set_data({"survey_id": rating.survey_id, "until": until.isoformat()})
        ask_comment = True
    if callback.message is not None:
        minutes = int(COMMENT_WINDOW.total_seconds() // 60)
        await callback.message.answer(t("survey/thanks", ask_comment=ask_comment, minutes=minutes))


async def comment_typed(
    message: Message,
    state: FSMContext,
    survey_id: int,
    services: Services,
    identity: Identity,
    t: Texts,
) -> None:
    await state.clear()  # one comment per invitation, whatever becomes of it
    saved = await services.surveys.comment(identity, survey_id, message.text or "")
    if saved is Commented.SAVED:
        await message.answer(t("survey/comment_saved"))
    else:
        # Taken meanwhile (another device) or too late: answer as if nothing was awaited.
        await say_not_understood(message, identity, t)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(stars_pressed, RateSurvey.filter(F.stars.in_(STARS)))
    router.message.register(comment_typed, StateFilter(SurveyFlow.comment), AwaitedComment())
    return router
