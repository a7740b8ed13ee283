"""The policy file: the shipped default loads, and every mistake is one line naming its key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.services.policy import (
    DEFAULT_POLICY_FILE,
    NO_RULE,
    Arrival,
    ArrivalUnit,
    PolicyError,
    explain_rows,
    load_policy,
    parse_policy,
)
from bot.services.policy.model import ArrivalSettings, RefundMethodsByPayment, When
from storage.enums import PaymentMethod
from tests.services.policy import DEFAULT_POLICY, default_policy_data, policy_variant

DEFAULT_RULES = [
    "unpaid", "already_closed", "booking_service_passed",
    "booking_early", "booking_late", "booking_last_minute",
    "booking_without_date", "before_shipping", "non_returnable", "in_transit_merchant_fault",
    "in_transit", "delivered_defective", "delivered_not_as_described", "fault_window_over",
    "delivered_unopened", "delivered_opened", "delivered_too_long_ago",
]  # fmt: skip


def test_the_shipped_default_loads_with_its_rules_in_order() -> None:
    policy = load_policy(None)
    assert [rule.id for rule in policy.rules] == DEFAULT_RULES
    assert policy.approval.limit_for("CNY") == Decimal("500.00")
    assert (policy.approval.frequent_requests, policy.approval.frequent_window_days) == (3, 30)
    assert policy.refund_methods.store_credit_bonus_percent == Decimal(10)
    assert (policy.offers.max_shown, policy.offers.once_per_customer_days) == (2, 90)
    assert load_policy(DEFAULT_POLICY_FILE) == policy


def test_per_method_tables_cover_every_payment_method() -> None:
    """The file's tables are spelled out per method; a new enum member must be added there."""
    assert set(RefundMethodsByPayment.model_fields) == {method.value for method in PaymentMethod}
    refundable = {method.value for method in PaymentMethod} - {"cash_on_delivery"}
    assert set(ArrivalSettings.model_fields) == refundable


def _spoiled(tmp_path: Path, old: str, new: str) -> Path:
    """The default file with one exact piece of text replaced, written next to the test."""
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in the default file"
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            'auto_approve_up_to = "500.00"',
            'auto_approve_up_to = "5OO"',
            'approval.auto_approve_up_to: "5OO" is not a number',
        ),
        (
            'auto_approve_up_to = "500.00"',
            "auto_approve_up_to = 500.00",
            "approval.auto_approve_up_to: 500.0 is a float; write amounts as strings, "
            'e.g. "500.00"',
        ),
        (
            'auto_approve_up_to = "500.00"',
            'auto_approve_up_to = "-1"',
            "approval.auto_approve_up_to: must be ≥ 0",
        ),
        (
            "hours_before_service = { min = 24, below = 72 }",
            "hours_before_service = { min = -1, below = 72 }",
            'rules[4].when.hours_before_service.min: must be ≥ 0 (in "booking_late")',
        ),
        (
            "hours_before_service = { min = 24, below = 72 }",
            "hours_before_service = { min = 72, below = 24 }",
            "rules[4].when.hours_before_service: the range is empty: its lower bound is not below "
            'its upper bound (in "booking_late")',
        ),
        (
            "hours_before_service = { min = 24, below = 72 }",
            "hours_before_service = { min = 24.5, below = 72 }",
            "rules[4].when.hours_before_service.min: 24.5 is not a whole number "
            '(in "booking_late")',
        ),
        (
            "refund_items_percent = 50",
            "refund_items_percent = 101",
            "rules[4].then.refund_items_percent: must be between 0 and 100, not 101 "
            '(in "booking_late")',
        ),
        (
            "refund_items_percent = 50",
            "refund_items_percent = 50.0",
            "rules[4].then.refund_items_percent: 50.0 is a float; write percents as integers or "
            'strings, e.g. "12.5" (in "booking_late")',
        ),
        (
            'category = ["booking"]\nhours_before_service = { min = 24, below = 72 }',
            'colour = ["booking"]\nhours_before_service = { min = 24, below = 72 }',
            "rules[4].when.colour: unknown condition; known: " + ", ".join(When.model_fields)
            + ' (in "booking_late")',
        ),
        (
            "\n[approval]\n",
            "\n[approvals]\nx = 1\n[approval]\n",
            "approvals: unknown key",
        ),
        (
            "store_credit_bonus_percent = 10",
            "store_credit_bonus_percent = 10\nbonus = 5",
            "refund_methods.bonus: unknown key",
        ),
        (
            'reason = ["not_as_described"]\ndays',
            'reason = ["not-as-described"]\ndays',
            'rules[12].when.reason[0]: "not-as-described" is not one of',
        ),
        (
            "frequent_requests = 3",
            "frequent_requests = true",
            "approval.frequent_requests: true is not a whole number",
        ),
        (
            'id = "in_transit"',
            'id = "unpaid"',
            'rules: id "unpaid" is used twice',
        ),
        (
            'timezone = "Asia/Shanghai"',
            'timezone = "Mars/Olympus"',
            'general.timezone: "Mars/Olympus" is not a time zone such as "Asia/Shanghai"',
        ),
        (
            "auto_approve_up_to_by_currency = {}",
            'auto_approve_up_to_by_currency = { JPY = "500.5" }',
            "approval.auto_approve_up_to_by_currency: JPY: JPY amounts have at most 0 decimal "
            "places",
        ),
        (
            'cash_on_delivery = [\n  { method = "store_credit" },',
            'cash_on_delivery = [\n  { method = "cash_on_delivery" },',
            "refund_methods.by_payment.cash_on_delivery[0].method: cash cannot be refunded "
            "remotely; use store_credit or bank_transfer",
        ),
        (
            'card = [{ method = "card" }, { method = "store_credit" }]',
            'card = [{ method = "store_credit" }, { method = "card" }]',
            "refund_methods.by_payment: card: the first refund method must be card itself",
        ),
        (
            'store_credit = { unit = "instant" }',
            'store_credit = { unit = "instant", max = 2 }',
            "arrival.store_credit: an instant refund has no min or max",
        ),
        (
            'when = { eligible = false, rule = ["booking_last_minute"] }',
            'when = { eligible = false, rule = ["booking_last_minut"] }',
            'offers.candidates[5].when.rule: "booking_last_minut" is not a rule id',
        ),
        (
            "percent = 15\n",
            "",
            "offers.candidates[1]: partial_refund needs percent (above 0) and of "
            '(in "keep_not_as_described")',
        ),
        (
            'when = { eligible = true, reason = ["found_cheaper"] }',
            'when = { eligible = true, reasons = ["found_cheaper"] }',
            "offers.candidates[2].when.reasons: unknown condition; known: reason, eligible, rule, "
            'order_status, merchant_fault (in "price_match")',
        ),
        (
            'id = "delivered_too_long_ago"\n[rules.when]',
            'id = "delivered_too_long_ago"\n[rules.when]\nreason = []',
            'rules[16].when.reason: must not be empty (in "delivered_too_long_ago")',
        ),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, line: str
) -> None:
    path = _spoiled(tmp_path, old, new)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    problems = raised.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {line}"), problems[0]


def test_toml_syntax_errors_name_line_and_column(tmp_path: Path) -> None:
    path = _spoiled(tmp_path, "frequent_requests = 3", "frequent_requests = ")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    (line,) = raised.value.problems
    assert line.startswith(f"{path}: TOML syntax error: ")
    assert "(at line " in line
    assert ", column " in line


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nowhere\.toml: cannot be read"):
        load_policy(tmp_path / "nowhere.toml")


def test_every_problem_gets_its_own_line() -> None:
    data = default_policy_data()
    data["approval"]["auto_approve_up_to"] = 500.0
    data["rules"][0]["then"]["photo"] = "maybe"
    data["offers"]["max_shown"] = -1
    with pytest.raises(PolicyError) as raised:
        parse_policy(data, "mine.toml")
    assert [line.split(": ")[1] for line in raised.value.problems] == [
        "rules[0].then.photo",
        "approval.auto_approve_up_to",
        "offers.max_shown",
    ]
    assert all(line.startswith("mine.toml: ") for line in raised.value.problems)
    assert "\n" not in "".join(raised.value.problems)


@pytest.mark.parametrize(
    ("then", "problem"),
    [
        ({"eligible": True, "refund_items_percent": 100}, "kind is required when eligible"),
        ({"eligible": True, "kind": "cancel"}, "refund_items_percent is required"),
        ({"eligible": False, "refund_shipping": True}, "eligible = false refunds nothing"),
        ({"eligible": "yes"}, "eligible: must be true or false"),
        ({"eligible": False, "refund": 1}, "then.refund: unknown outcome; known: eligible, kind"),
    ],
)
def test_outcomes_must_make_sense(then: dict[str, object], problem: str) -> None:
    data = default_policy_data()
    data["rules"][1]["then"] = then
    with pytest.raises(PolicyError, match=problem):
        parse_policy(data)


@pytest.mark.parametrize(
    ("span", "problem"),
    [
        ({}, "give at least one of min, max, above, below"),
        ({"min": 1, "above": 2}, "give min or above, not both"),
        ({"max": 1, "below": 2}, "give max or below, not both"),
        ({"above": 7, "max": 7}, "the range is empty"),
    ],
)
def test_ranges_must_be_clear(span: dict[str, int], problem: str) -> None:
    data = default_policy_data()
    data["rules"][1]["when"]["days_since_delivery"] = span
    with pytest.raises(PolicyError, match=problem):
        parse_policy(data)


@pytest.mark.parametrize(
    ("arrival", "label"),
    [
        ({"unit": "business_days", "min": 3, "max": 5}, "3–5 business days"),
        ({"unit": "business_days", "min": 1, "max": 1}, "1 business day"),
        ({"unit": "hours", "max": 24}, "within 24 hours"),
        ({"unit": "days", "min": 2, "max": 2}, "2 days"),
        ({"unit": "instant"}, "at once"),
    ],
)
def test_arrival_labels(arrival: dict[str, object], label: str) -> None:
    assert Arrival.model_validate(arrival).label() == label


def test_business_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    card = Arrival(unit=ArrivalUnit.BUSINESS_DAYS, min=3, max=5)
    earliest, latest = card.expected_between(friday)
    assert (earliest.date().isoformat(), latest.date().isoformat()) == ("2026-12-02", "2026-12-04")
    wallet = Arrival(unit=ArrivalUnit.HOURS, max=24)
    assert wallet.expected_between(friday) == (friday, datetime(2026, 11, 28, 10, tzinfo=UTC))


def test_explain_lists_every_rule_in_order_then_the_settings() -> None:
    rows = explain_rows(DEFAULT_POLICY)
    rule_rows = [row for row in rows if row.section == "rule"]
    assert [row.name for row in rule_rows] == [*DEFAULT_RULES, NO_RULE]
    by_name = {row.name: row for row in rows}
    assert by_name["booking_late"].when == (
        "an item is in category booking and service at least 24 and less than 72 hours away"
    )
    assert by_name["booking_late"].then == "booking: refund 50 % of the items; shipping kept"
    assert by_name["non_returnable"].when == (
        "an item is not returnable and reason is neither defective nor wrong_item"
    )
    assert by_name["delivered_defective"].then.endswith("goods come back; photo required")
    assert by_name["limit"].then.startswith("automatic up to 500.00")
    assert by_name["paid by cash_on_delivery"].then == (
        "store_credit (+10 %) or bank_transfer (an agent completes it)"
    )
    assert by_name["card"].then == "3–5 business days"
    assert by_name["price_match"].then.startswith("partial_refund: 10 % of the selected items")
    sections = [row.section for row in rows]
    assert sections.index("approval") > sections.index("rule")
    assert sections[-1] == "offer"


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "pending_review_hours = 24",
            "pending_review_hours = 0",
            "sla.pending_review_hours: must be ≥ 1",
        ),
        (
            "approved_hours = 48",
            "approved_hours = 1.5",
            "sla.approved_hours: 1.5 is not a whole number",
        ),
        (
            "failed_hours = 24",
            'failed_hours = "24"',
            'sla.failed_hours: "24" is not a whole number',
        ),
        (
            "processing_grace_days = 2",
            "processing_grace_days = -1",
            "sla.processing_grace_days: must be ≥ 0",
        ),
        (
            "processing_grace_days = 2",
            "processing_grace_days = 2\ngrace = 1",
            "sla.grace: unknown key",
        ),
    ],
)
def test_a_bad_sla_names_its_key(tmp_path: Path, old: str, new: str, line: str) -> None:
    path = _spoiled(tmp_path, old, new)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.problems == (f"{path}: {line}",)


def test_the_sla_section_is_optional_and_explained() -> None:
    without = policy_variant(lambda data: data.pop("sla"))
    assert without.sla == DEFAULT_POLICY.sla
    sla = DEFAULT_POLICY.sla
    assert (sla.pending_review_hours, sla.approved_hours, sla.failed_hours) == (24, 48, 24)
    assert (sla.processing_grace_days, sla.return_days) == (2, 21)
    rows = {row.name: row.then for row in explain_rows(DEFAULT_POLICY) if row.section == "sla"}
    assert rows == {
        "pending_review": "stuck after 24 hours",
        "approved": "stuck after 48 hours",
        "awaiting_return": "parcel not back after 21 days",
        "failed": "stuck after 24 hours",
        "processing": "stuck 2 days after the expected arrival",
    }
