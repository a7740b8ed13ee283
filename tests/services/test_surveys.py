"""The satisfaction survey: asked once per case, in the transaction that ended it; answered
with stars from the chat it was asked in; one optional comment soon after."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.services.conversation.surveys import (
    COMMENT_WINDOW,
    KEYBOARD_KIND,
    Commented,
    Rated,
    Rating,
    SurveyService,
    request_subject,
)
from bot.services.domain.clock import FixedClock
from bot.services.linking.identity import Identity
from bot.services.refunds.updates import RefundUpdates
from bot.wiring import AppDeps
from storage.enums import RefundStatus, RequestStatus
from storage.models import MERCHANT_REQUEST_PREFIX, OutboxMessage, Survey
from storage.repositories import RatingSummary
from tests.api.support import (
    context,
    customer,
    item,
    link,
    load,
    open_refund,
    order,
    outbox,
    refund_row,
)
from tests.conftest import NOW

ANN = 7001  # her Telegram account; a private chat's id is its user's id
BO = 7002


def reader(chat_id: int, locale: str = "en") -> Identity:
    return Identity(
        user_id=chat_id,
        chat_id=chat_id,
        first_name="Ann",
        customer=None,
        conversation_id=1,
        locale=locale,
    )


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (linked, English) and Bo (not linked), each with a paid order: SO-1 and SO-2."""
    await load(
        deps,
        customers=[customer("C001"), customer("C002", "Bo Chen", locale="zh")],
        orders=[
            order("SO-1", "C001", item("TS-BLUE-M", "99.00")),
            order("SO-2", "C002", item("HAT", "50.00")),
        ],
    )
    await link(deps, "C001", ANN, language_code="en")
    return deps


async def request_of(deps: AppDeps, refund_id: int) -> int:
    request_id = (await refund_row(deps, refund_id)).request_id
    assert request_id is not None
    return request_id


async def ask(deps: AppDeps, subject: str, *, chat_id: int = ANN, locale: str = "en") -> int | None:
    async with deps.uow() as uow, uow.transaction():
        return await SurveyService(uow, deps.clock).ask(
            subject, None, chat_id=chat_id, locale=locale
        )


async def surveys(deps: AppDeps) -> list[Survey]:
    async with deps.uow() as uow:
        return list((await uow.session.scalars(select(Survey).order_by(Survey.id))).all())


async def survey_messages(deps: AppDeps) -> list[OutboxMessage]:
    return [m for m in await outbox(deps) if m.template == "notify/survey"]


# -- asking -----------------------------------------------------------------------------------


async def test_ask_stages_the_survey_and_its_buttons_in_the_callers_transaction(
    shop: AppDeps,
) -> None:
    request_id = await request_of(shop, await open_refund(shop, "SO-1"))

    survey_id = await ask(shop, request_subject(request_id), locale="zh")

    (survey,) = await surveys(shop)
    assert survey.id == survey_id
    assert (survey.subject_key, survey.chat_id, survey.locale) == (
        f"request:{request_id}",
        ANN,
        "zh",
    )
    assert (survey.asked_at, survey.rating, survey.answered_at, survey.comment) == (
        NOW,
        None,
        None,
        None,
    )
    (message,) = await outbox(shop)
    assert (message.template, message.chat_id, message.locale) == ("notify/survey", ANN, "zh")
    assert context(message) == {"order_number": "SO-1", "rating": None}
    assert message.keyboard == {"kind": KEYBOARD_KIND, "survey_id": survey_id}


async def test_a_subject_is_asked_about_once(shop: AppDeps) -> None:
    request_id = await request_of(shop, await open_refund(shop, "SO-1"))
    subject = request_subject(request_id)
    first = await ask(shop, subject)

    assert await ask(shop, subject) is None  # a later ending of the same case
    async with shop.uow() as uow, uow.transaction():  # twice in one transaction
        service = SurveyService(uow, shop.clock)
        assert await service.ask("ticket:9", None, chat_id=ANN, locale="en") is not None
        assert await service.ask("ticket:9", None, chat_id=ANN, locale="en") is None

    assert first is not None
    assert [s.subject_key for s in await surveys(shop)] == [subject, "ticket:9"]
    assert len(await survey_messages(shop)) == 2


async def test_nothing_is_asked_when_the_callers_transaction_rolls_back(shop: AppDeps) -> None:
    async def failing_ending() -> None:
        async with shop.uow() as uow, uow.transaction():
            await SurveyService(uow, shop.clock).ask("ticket:1", None, chat_id=ANN, locale="en")
            raise RuntimeError("the ending failed")

    with pytest.raises(RuntimeError):
        await failing_ending()

    assert (await surveys(shop), await outbox(shop)) == ([], [])
    assert await ask(shop, "ticket:1") is not None  # so the real ending asks


@pytest.mark.parametrize(
    ("status", "merchant", "asked"),
    [
        (RequestStatus.COMPLETED, False, True),
        (RequestStatus.DENIED, False, True),
        (RequestStatus.WITHDRAWN, False, False),
        (RequestStatus.APPROVED, False, False),
        (RequestStatus.COMPLETED, True, False),
    ],
    ids=["completed", "denied", "withdrawn", "still-open", "merchant-cancelled"],
)
async def test_which_request_endings_are_surveyed(
    shop: AppDeps, status: RequestStatus, merchant: bool, asked: bool
) -> None:
    request_id = await request_of(shop, await open_refund(shop, "SO-1"))
    async with shop.uow() as uow, uow.transaction():
        request = await uow.cases.get_request(request_id)
        assert request is not None
        request.status = status
        if merchant:
            request.idempotency_key = f"{MERCHANT_REQUEST_PREFIX}cx-1"
        survey_id = await SurveyService(uow, shop.clock).ask_about_request(
            request, chat_id=ANN, locale="en"
        )

    assert (survey_id is not None) is asked
    assert len(await surveys(shop)) == int(asked)


# -- the refund's end asks (RefundUpdates) -----------------------------------------------------


async def apply(deps: AppDeps, refund_id: int, status: RefundStatus, event_id: str) -> None:
    async with deps.uow() as uow:
        updates = RefundUpdates(uow, deps.clock, deps.service_config.policy, "en")
        await updates.apply(refund_id, status, actor="merchant", event_id=event_id, occurred_at=NOW)


@pytest.mark.parametrize(
    ("path", "request_status"),
    [
        ((RefundStatus.PROCESSING, RefundStatus.REFUNDED), RequestStatus.COMPLETED),
        ((RefundStatus.REJECTED,), RequestStatus.DENIED),
    ],
    ids=["refunded", "rejected"],
)
async def test_a_refund_that_ends_the_request_asks_after_its_notice(
    shop: AppDeps, path: tuple[RefundStatus, ...], request_status: RequestStatus
) -> None:
    first = RefundStatus.PENDING_REVIEW if path[0] is RefundStatus.REJECTED else None
    refund_id = await open_refund(shop, "SO-1", status=first or RefundStatus.APPROVED)
    request_id = await request_of(shop, refund_id)

    for n, status in enumerate(path):
        await apply(shop, refund_id, status, f"evt-{n}")
        await apply(shop, refund_id, status, f"evt-{n}")  # a retry changes nothing

    messages = await outbox(shop)
    assert [m.template for m in messages] == ["notify/refund_status"] * len(path) + [
        "notify/survey"
    ]
    (survey,) = await surveys(shop)
    assert (survey.subject_key, survey.chat_id) == (request_subject(request_id), ANN)
    async with shop.uow() as uow:
        request = await uow.cases.get_request(request_id)
    assert request is not None
    assert request.status is request_status


async def test_updates_that_do_not_end_the_request_or_reach_nobody_ask_nothing(
    shop: AppDeps,
) -> None:
    withdrawn = await open_refund(shop, "SO-1")
    await apply(shop, withdrawn, RefundStatus.PROCESSING, "evt-1")
    await apply(shop, withdrawn, RefundStatus.FAILED, "evt-2")
    await apply(shop, withdrawn, RefundStatus.CANCELLED, "evt-3")
    not_linked = await open_refund(shop, "SO-2")  # Bo has no Telegram account linked
    await apply(shop, not_linked, RefundStatus.REFUNDED, "evt-4")

    assert await surveys(shop) == []
    assert await survey_messages(shop) == []


# -- answering ----------------------------------------------------------------------------------


async def rate(deps: AppDeps, chat_id: int, survey_id: int, stars: int) -> Rating:
    async with deps.uow() as uow:
        return await SurveyService(uow, deps.clock).rate(reader(chat_id), survey_id, stars)


async def comment(deps: AppDeps, chat_id: int, survey_id: int, text: str) -> Commented:
    async with deps.uow() as uow:
        return await SurveyService(uow, deps.clock).comment(reader(chat_id), survey_id, text)


async def test_only_the_chat_asked_may_rate_and_only_with_one_to_five_stars(
    shop: AppDeps,
) -> None:
    survey_id = await ask(shop, "ticket:1")
    assert survey_id is not None

    assert (await rate(shop, BO, survey_id, 5)).result is Rated.NOT_FOUND
    assert (await rate(shop, ANN, survey_id + 1, 5)).result is Rated.NOT_FOUND
    assert (await rate(shop, ANN, survey_id, 0)).result is Rated.NOT_FOUND
    assert (await rate(shop, ANN, survey_id, 6)).result is Rated.NOT_FOUND
    assert (await surveys(shop))[0].rating is None


async def test_rating_again_changes_the_stars_and_asks_nothing(
    shop: AppDeps, clock: FixedClock
) -> None:
    request_id = await request_of(shop, await open_refund(shop, "SO-1"))
    survey_id = await ask(shop, request_subject(request_id))
    assert survey_id is not None

    first = await rate(shop, ANN, survey_id, 4)
    clock.advance(timedelta(minutes=1))
    again = await rate(shop, ANN, survey_id, 4)
    changed = await rate(shop, ANN, survey_id, 2)

    assert (first.result, first.stars, first.order_number) == (Rated.RATED, 4, "SO-1")
    assert first.comment_until == NOW + COMMENT_WINDOW
    assert (again.result, changed.result, changed.stars) == (Rated.SAME, Rated.CHANGED, 2)
    (survey,) = await surveys(shop)
    assert (survey.rating, survey.answered_at) == (2, NOW)  # answered when first rated
    assert len(await outbox(shop)) == 1  # the survey itself, never a second one


async def test_one_comment_soon_after_the_rating(shop: AppDeps, clock: FixedClock) -> None:
    survey_id = await ask(shop, "ticket:1")
    assert survey_id is not None
    assert await comment(shop, ANN, survey_id, "Too early") is Commented.CLOSED
    await rate(shop, ANN, survey_id, 3)
    clock.advance(COMMENT_WINDOW - timedelta(seconds=1))

    assert await comment(shop, BO, survey_id, "Not mine") is Commented.NOT_FOUND
    assert await comment(shop, ANN, survey_id, "  Quick, thank you!  ") is Commented.SAVED
    assert await comment(shop, ANN, survey_id, "And another thing") is Commented.CLOSED

    (survey,) = await surveys(shop)
    assert (survey.comment, survey.commented_at) == ("Quick, thank you!", clock.now())
    rated_again = await rate(shop, ANN, survey_id, 5)
    assert rated_again.comment_until is None  # a second comment is not asked for


async def test_no_comment_once_the_window_has_passed(shop: AppDeps, clock: FixedClock) -> None:
    survey_id = await ask(shop, "ticket:1")
    assert survey_id is not None
    await rate(shop, ANN, survey_id, 3)
    clock.advance(COMMENT_WINDOW + timedelta(seconds=1))

    assert await comment(shop, ANN, survey_id, "Late") is Commented.CLOSED
    assert (await surveys(shop))[0].comment is None


# -- the figures ------------------------------------------------------------------------------


async def test_rating_summary_counts_the_surveys_answered_in_the_period(
    shop: AppDeps, clock: FixedClock
) -> None:
    ids = [await ask(shop, f"ticket:{n}") for n in range(4)]
    for survey_id, stars, minutes in zip(ids, (5, 4, 4, 1), (0, 10, 20, 60), strict=True):
        assert survey_id is not None
        clock.set(NOW + timedelta(minutes=minutes))
        await rate(shop, ANN, survey_id, stars)

    async with shop.uow() as uow:
        hour = await uow.surveys.rating_summary(NOW, NOW + timedelta(hours=1))
        later = await uow.surveys.rating_summary(NOW + timedelta(hours=1), NOW + timedelta(days=1))
        before = await uow.surveys.rating_summary(NOW - timedelta(days=1), NOW)

    assert hour == RatingSummary(3, Decimal("4.33"))  # 13 / 3, exact on both databases
    assert later == RatingSummary(1, Decimal("1.00"))
    assert before == RatingSummary(0, None)
