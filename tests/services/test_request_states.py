"""The cancellation request state machine: every move, legal or not, and what it keeps true.

The expected table is written out here rather than read from the module, so a change to
`request_states.TRANSITIONS` has to be made twice on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.api.errors import from_service
from bot.api.schemas import ErrorCode
from bot.services.cancellation.request_states import (
    ACTIVE,
    FINAL,
    TRANSITIONS,
    IllegalRequestTransition,
    check_transition,
    is_active,
)
from bot.services.cancellation.requests import move_request, new_request, whole_order
from bot.services.refunds.states import IllegalTransition
from storage.enums import ItemCondition, ReasonCode, RequestKind
from storage.enums import RequestStatus as S
from storage.models import CancellationRequest, Order, OrderItem, SupportCase

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

LEGAL: dict[S | None, set[S]] = {
    None: {S.PENDING_REVIEW, S.APPROVED},
    S.PENDING_REVIEW: {S.APPROVED, S.DENIED, S.WITHDRAWN},
    S.APPROVED: {S.COMPLETED, S.WITHDRAWN},
    S.COMPLETED: set(),
    S.DENIED: set(),
    S.WITHDRAWN: set(),
}
EVERY_MOVE = [(current, wanted) for current in [None, *S] for wanted in S]


def test_the_table_names_every_status() -> None:
    assert set(TRANSITIONS) == {None, *S}
    assert set(FINAL) == {S.COMPLETED, S.DENIED, S.WITHDRAWN}
    assert set(ACTIVE) == {S.PENDING_REVIEW, S.APPROVED}


@pytest.mark.parametrize(("current", "wanted"), EVERY_MOVE)
def test_every_move_is_legal_exactly_when_the_table_says(current: S | None, wanted: S) -> None:
    if wanted in LEGAL[current]:
        check_transition(current, wanted)
    else:
        with pytest.raises(IllegalRequestTransition, match="a cancellation request cannot go"):
            check_transition(current, wanted)


@pytest.mark.parametrize("status", list(S))
def test_a_request_is_active_exactly_while_it_can_still_move(status: S) -> None:
    assert is_active(status) is bool(LEGAL[status])


def _order() -> Order:
    order = Order(id=7, customer_id=3, currency="CNY", number="SO-7")
    order.items = [
        OrderItem(id=71, sku="A", quantity=2, unit_price=Decimal("10.00")),
        OrderItem(id=72, sku="B", quantity=1, unit_price=Decimal("5.00")),
    ]
    return order


def _case() -> SupportCase:
    return SupportCase(
        id=11,
        conversation_id=5,
        reason_code=ReasonCode.DEFECTIVE,
        reason_text="the box was crushed",
        item_condition=ItemCondition.OPENED,
        photo_file_id="photo-1",
    )


def _request(status: S = S.APPROVED, at: datetime = NOW) -> CancellationRequest:
    return new_request(
        _order(),
        case=_case(),
        kind=RequestKind.CANCEL,
        status=status,
        lines=whole_order(_order()),
        refund_amount=Decimal("25.00"),
        now=at,
    )


def test_a_request_from_a_case_carries_what_the_customer_said_and_is_keyed_by_it() -> None:
    request = _request(S.PENDING_REVIEW)
    assert (request.order_id, request.customer_id, request.currency) == (7, 3, "CNY")
    assert (request.case_id, request.conversation_id) == (11, 5)
    assert request.idempotency_key == "case:11"
    assert request.reason_code is ReasonCode.DEFECTIVE
    assert request.reason_text == "the box was crushed"
    assert request.item_condition is ItemCondition.OPENED
    assert request.photo_file_id == "photo-1"
    assert request.is_active is True
    assert request.closed_at is None
    assert [(line.order_item_id, line.quantity) for line in request.items] == [(71, 2), (72, 1)]


def _merchant_request(key: str | None, reason: ReasonCode | None) -> CancellationRequest:
    return new_request(
        _order(),
        kind=RequestKind.CANCEL,
        status=S.APPROVED,
        lines={71: 2, 72: 0},
        refund_amount=Decimal("20.00"),
        now=NOW,
        idempotency_key=key,
        reason_code=reason,
        reason_text="out of stock",
    )


def test_a_request_without_a_case_needs_its_own_reason_and_key() -> None:
    with pytest.raises(ValueError, match="reason and an idempotency key"):
        _merchant_request(None, ReasonCode.OTHER)
    with pytest.raises(ValueError, match="reason and an idempotency key"):
        _merchant_request("merchant:evt-1", None)
    request = _merchant_request("merchant:evt-1", ReasonCode.OTHER)
    assert (request.case_id, request.conversation_id, request.photo_file_id) == (None, None, None)
    assert (request.idempotency_key, request.reason_text) == ("merchant:evt-1", "out of stock")
    assert [(line.order_item_id, line.quantity) for line in request.items] == [(71, 2)]


@pytest.mark.parametrize("status", [S.COMPLETED, S.DENIED, S.WITHDRAWN])
def test_a_request_is_not_born_finished(status: S) -> None:
    with pytest.raises(IllegalRequestTransition):
        _request(status)


def test_finishing_releases_the_order_and_records_when() -> None:
    request = _request(S.APPROVED)
    later = NOW + timedelta(hours=2)
    move_request(request, S.COMPLETED, later)
    assert (request.status, request.is_active) == (S.COMPLETED, False)
    assert request.closed_at == request.updated_at == later


def test_an_illegal_move_changes_nothing() -> None:
    request = _request(S.APPROVED)
    move_request(request, S.COMPLETED, NOW + timedelta(hours=1))
    before = (request.status, request.is_active, request.updated_at, request.closed_at)
    with pytest.raises(IllegalRequestTransition):
        move_request(request, S.APPROVED, NOW + timedelta(hours=2))
    assert (request.status, request.is_active, request.updated_at, request.closed_at) == before


def test_the_merchant_api_answers_an_illegal_request_move_as_a_conflict() -> None:
    error = IllegalRequestTransition(S.COMPLETED, S.APPROVED)
    assert isinstance(error, IllegalTransition)  # so the CLI and the agents answer it too
    answer = from_service(error)
    assert (answer.status, answer.code) == (409, ErrorCode.ILLEGAL_TRANSITION)
    assert "a cancellation request cannot go from completed to approved" in str(error)


@dataclass
class _OrderModel:
    """One order's requests, opened only while none is active, as every caller checks
    (`active_request_for_order`) and the partial unique index enforces."""

    requests: list[CancellationRequest]
    paths: list[list[S]]


_steps = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=0, max_value=5), st.sampled_from(list(S))),
    max_size=24,
)


@given(_steps)
def test_random_histories_keep_the_invariants(steps: list[tuple[bool, int, S]]) -> None:
    """Any mix of opening requests and moving them: legal moves apply, illegal ones raise
    and change nothing, and the invariants hold after every step."""
    model = _OrderModel([], [])
    clock = NOW
    for opens, index, status in steps:
        clock += timedelta(minutes=1)
        if opens:
            if any(r.is_active for r in model.requests):
                continue  # refused before a row is made
            if status in LEGAL[None]:
                model.requests.append(_request(status, clock))
                model.paths.append([status])
            else:
                with pytest.raises(IllegalRequestTransition):
                    _request(status, clock)
        elif model.requests:
            request = model.requests[index % len(model.requests)]
            path = model.paths[index % len(model.requests)]
            before = (request.status, request.is_active, request.updated_at, request.closed_at)
            if status in LEGAL[request.status]:
                move_request(request, status, clock)
                path.append(status)
            else:
                with pytest.raises(IllegalRequestTransition):
                    move_request(request, status, clock)
                after = (request.status, request.is_active, request.updated_at, request.closed_at)
                assert after == before
        _check_invariants(model)


def _check_invariants(model: _OrderModel) -> None:
    assert sum(request.is_active for request in model.requests) <= 1
    for request, path in zip(model.requests, model.paths, strict=True):
        assert request.is_active is (request.status in ACTIVE)
        assert (request.closed_at is None) is request.is_active
        assert request.status is path[-1]
        for current, wanted in zip([None, *path], path, strict=False):
            assert wanted in LEGAL[current]
        assert len(path) <= 3  # the longest road: pending_review → approved → an end
