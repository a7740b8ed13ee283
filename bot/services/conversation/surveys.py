"""The satisfaction survey: when a case ends, the customer is asked once for 1–5 stars.

`ask` is called by whatever ends a case, inside that change's own transaction, so the
survey and its outbox message exist exactly when the ending does: a refund `refunded`
or `rejected` (`RefundUpdates`), a cancellation finished at once (`CancellationService`),
and later an agent closing a conversation (`ticket_subject`). A case is a
`subject_key`, unique in the table, so a second ending of the same case, even one
racing the first on another connection, asks nothing.

The answer comes from the survey's buttons (`rate`: only the chat it was asked in; a
second press changes the stars and asks nothing more), then one optional comment
(`comment`) within `COMMENT_WINDOW` of the rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.domain.clock import Clock
from bot.services.linking.identity import Identity
from bot.services.outbox import Outbox
from storage.enums import RequestStatus
from storage.models import MERCHANT_REQUEST_PREFIX, CancellationRequest
from storage.uow import UnitOfWork

KEYBOARD_KIND = "survey"
"""`keyboard["kind"]` of the survey's outbox message (see dialogs.outbox_keyboards)."""
STARS = range(1, 6)
COMMENT_WINDOW = timedelta(minutes=30)
"""How long after the rating the customer's next message is taken as their comment."""
# A request the customer made is surveyed when it ends with an answer; one withdrawn
# (the customer's own doing, or an exchange instead) has nothing to rate.
SURVEYED_REQUEST_ENDINGS = frozenset({RequestStatus.COMPLETED, RequestStatus.DENIED})


def request_subject(request_id: int) -> str:
    return f"request:{request_id}"


def ticket_subject(ticket_id: int) -> str:
    """For the agents' side: a conversation an agent closed."""
    return f"ticket:{ticket_id}"


class Rated(StrEnum):
    RATED = "rated"  # the first answer: thank the customer and invite a comment
    CHANGED = "changed"  # other stars than before: the rating is updated, nothing is asked
    SAME = "same"  # the same stars again (a double tap): nothing to do
    NOT_FOUND = "not_found"  # no such survey in this chat: a stale or foreign button


@dataclass(frozen=True, slots=True)
class Rating:
    result: Rated
    survey_id: int | None = None
    stars: int | None = None
    order_number: str | None = None
    """What the survey asked about, to show the question again with the stars."""
    comment_until: datetime | None = None
    """Until when a comment is taken; None once the survey has one."""


class Commented(StrEnum):
    SAVED = "saved"
    CLOSED = "closed"  # not rated yet, already commented, or the window has passed
    NOT_FOUND = "not_found"


class SurveyService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._outbox = Outbox(uow, clock)

    async def ask(
        self, subject_key: str, customer_id: int | None, *, chat_id: int, locale: str
    ) -> int | None:
        """Stage the survey and its message in the caller's transaction, unless this
        subject was surveyed before. Returns the new survey's id, or None.

        Call it after queuing the message that tells how the case ended: a chat's
        messages are delivered in the order they were queued.
        """
        survey_id = await self._uow.surveys.add_once(
            subject_key=subject_key,
            customer_id=customer_id,
            chat_id=chat_id,
            locale=locale,
            asked_at=self._clock.now(),
        )
        if survey_id is None:
            return None
        self._outbox.enqueue(
            chat_id=chat_id,
            customer_id=customer_id,
            locale=locale,
            template="notify/survey",
            context={"order_number": await self._order_number(subject_key), "rating": None},
            dedupe_key=f"survey:{subject_key}",
            keyboard={"kind": KEYBOARD_KIND, "survey_id": survey_id},
        )
        return survey_id

    async def ask_about_request(
        self, request: CancellationRequest, *, chat_id: int, locale: str
    ) -> int | None:
        """`ask` about a cancellation request that has just ended, if its ending is one
        we survey: completed or denied, and asked for by the customer (a merchant's own
        cancellation is not the customer's case). Same transaction rules as `ask`."""
        if request.status not in SURVEYED_REQUEST_ENDINGS or request.idempotency_key.startswith(
            MERCHANT_REQUEST_PREFIX
        ):
            return None
        return await self.ask(
            request_subject(request.id), request.customer_id, chat_id=chat_id, locale=locale
        )

    async def rate(self, identity: Identity, survey_id: int, stars: int) -> Rating:
        async with self._uow.transaction():
            survey = await self._uow.surveys.get_for_update(survey_id)
            if survey is None or survey.chat_id != identity.chat_id or stars not in STARS:
                return Rating(Rated.NOT_FOUND)
            if survey.rating == stars:
                result = Rated.SAME
            elif survey.rating is None:
                result = Rated.RATED
                survey.answered_at = self._clock.now()
            else:
                result = Rated.CHANGED
            survey.rating = stars
            assert survey.answered_at is not None
            return Rating(
                result,
                survey.id,
                stars,
                await self._order_number(survey.subject_key),
                None if survey.comment is not None else survey.answered_at + COMMENT_WINDOW,
            )

    async def comment(self, identity: Identity, survey_id: int, text: str) -> Commented:
        """Keep the customer's words with their rating: once, and only soon after it."""
        async with self._uow.transaction():
            survey = await self._uow.surveys.get_for_update(survey_id)
            if survey is None or survey.chat_id != identity.chat_id:
                return Commented.NOT_FOUND
            now = self._clock.now()
            if (
                survey.answered_at is None
                or survey.comment is not None
                or now > survey.answered_at + COMMENT_WINDOW
                or not text.strip()
            ):
                return Commented.CLOSED
            survey.comment, survey.commented_at = text.strip(), now
            return Commented.SAVED

    async def _order_number(self, subject_key: str) -> str | None:
        """The order a request's survey is about; other subjects name none."""
        kind, _, raw_id = subject_key.partition(":")
        if kind != "request" or not raw_id.isdigit():
            return None
        request = await self._uow.cases.get_request(int(raw_id))
        order = await self._uow.orders.get(request.order_id) if request else None
        return order.number if order else None
