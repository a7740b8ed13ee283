"""The policy file's schema: what a merchant may write, validated before the bot trusts it.

Every table forbids unknown keys, so a typo is an error, never a silently ignored rule.
Amounts are strings and percents whole numbers or strings, because TOML floats are
binary and refunds must be exact. `load_policy` turns each problem into one line that
names the file and the key path.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.services.domain.money import parse_amount
from storage.enums import (
    ItemCategory,
    ItemCondition,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "policy.toml"
NO_RULE = "no_rule"


class PolicyError(ValueError):
    """A policy file that cannot be used; one line per problem, each naming file and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class DecisionKind(StrEnum):
    CANCEL = "cancel"  # stopped before shipping
    RETURN = "return"  # the goods come back
    BOOKING = "booking"  # a booked service is called off


class Photo(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class ArrivalUnit(StrEnum):
    INSTANT = "instant"
    HOURS = "hours"
    DAYS = "days"
    BUSINESS_DAYS = "business_days"


class OfferBase(StrEnum):
    """What an offer's percent is taken of."""

    SELECTED_ITEMS = "selected_items"
    ORDER_TOTAL = "order_total"


class MerchantReason(StrEnum):
    """Why the shop itself cancels an order (the merchant API's vocabulary)."""

    OUT_OF_STOCK = "out_of_stock"
    ADDRESS_UNDELIVERABLE = "address_undeliverable"
    SUSPECTED_FRAUD = "suspected_fraud"
    OTHER = "other"


def _quoted(value: object) -> str:
    """A value as the merchant wrote it in TOML: strings in double quotes, true/false."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str | bool) else str(value)


def _amount(value: object) -> Decimal:
    """An amount string, exact; floats are refused because "0.1" is not 0.1 in binary."""
    if isinstance(value, float):
        raise ValueError(f'{value} is a float; write amounts as strings, e.g. "500.00"')
    if not isinstance(value, str):
        raise ValueError(f'{_quoted(value)} must be a string such as "500.00"')
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{_quoted(value)} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{_quoted(value)} is not a finite number")
    if number < 0:
        raise ValueError("must be ≥ 0")
    return number


def _percent(value: object) -> Decimal:
    """A percent from 0 to 100: an integer, or a string for fractions ("12.5")."""
    if isinstance(value, float):
        raise ValueError(f'{value} is a float; write percents as integers or strings, e.g. "12.5"')
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f'{_quoted(value)} must be an integer or a string such as "12.5"')
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{_quoted(value)} is not a number") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise ValueError(f"must be between 0 and 100, not {_quoted(value)}")
    return number


def _whole(value: object) -> int:
    """A count of days, hours or requests; TOML floats and booleans are not counts."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{_quoted(value)} is not a whole number")
    return value


def _zone_name(value: str) -> str:
    """An IANA time zone name, or one line saying it is not one."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'{_quoted(value)} is not a time zone such as "Asia/Shanghai"') from None
    return value


def _not_empty(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Checked after the items, so one bad item is one error rather than also "empty"."""
    if not values:
        raise ValueError("must not be empty")
    return values


NOT_EMPTY = AfterValidator(_not_empty)
Amount = Annotated[Decimal, BeforeValidator(_amount)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
Count = Annotated[int, BeforeValidator(_whole), Field(ge=0)]
Positive = Annotated[int, BeforeValidator(_whole), Field(ge=1)]
# Rule ids are stored with each cancellation request (64 characters at most).
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Table):
    """A range of hours or days: `min`/`max` include the bound, `above`/`below` exclude it."""

    min: Count | None = None
    max: Count | None = None
    above: Count | None = None
    below: Count | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None and self.above is None and self.below is None:
            raise ValueError("give at least one of min, max, above, below")
        if self.min is not None and self.above is not None:
            raise ValueError("give min or above, not both")
        if self.max is not None and self.below is not None:
            raise ValueError("give max or below, not both")
        low = self.min if self.min is not None else self.above
        high = self.max if self.max is not None else self.below
        inclusive = self.min is not None and self.max is not None
        if low is not None and high is not None and (low > high or (low == high and not inclusive)):
            raise ValueError("the range is empty: its lower bound is not below its upper bound")
        return self

    def contains(self, elapsed: timedelta, unit: timedelta) -> bool:
        """Compare exact durations, so "7 days" ends at the very second, not a rounded day."""
        return (
            (self.min is None or elapsed >= unit * self.min)
            and (self.max is None or elapsed <= unit * self.max)
            and (self.above is None or elapsed > unit * self.above)
            and (self.below is None or elapsed < unit * self.below)
        )


class When(_Table):
    """The fixed vocabulary of conditions; every given key must hold (AND)."""

    order_status: Annotated[tuple[OrderStatus, ...], NOT_EMPTY] | None = None
    category: Annotated[tuple[ItemCategory, ...], NOT_EMPTY] | None = None
    returnable: StrictBool | None = None
    activated: StrictBool | None = None
    reason: Annotated[tuple[ReasonCode, ...], NOT_EMPTY] | None = None
    reason_not: Annotated[tuple[ReasonCode, ...], NOT_EMPTY] | None = None
    merchant_fault: StrictBool | None = None
    condition: Annotated[tuple[ItemCondition, ...], NOT_EMPTY] | None = None
    days_since_delivery: Span | None = None
    hours_before_service: Span | None = None
    service_passed: StrictBool | None = None


class Then(_Table):
    """The fixed vocabulary of outcomes."""

    eligible: StrictBool
    kind: DecisionKind | None = None
    refund_items_percent: Percent | None = None
    refund_shipping: StrictBool = False
    return_required: StrictBool = False
    photo: Photo = Photo.NONE

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.eligible:
            if self.kind is None:
                raise ValueError("kind is required when eligible = true")
            if self.refund_items_percent is None:
                raise ValueError("refund_items_percent is required when eligible = true")
        elif self.refund_items_percent or self.refund_shipping or self.return_required:
            raise ValueError(
                "a rule with eligible = false refunds nothing: remove refund_items_percent, "
                "refund_shipping and return_required"
            )
        return self

    @property
    def items_percent(self) -> Decimal:
        """The percent as a number; ineligible rules may leave it out, meaning 0."""
        return self.refund_items_percent or Decimal(0)


class Rule(_Table):
    id: Identifier
    when: When = When()
    then: Then

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == NO_RULE:
            raise ValueError(f'"{NO_RULE}" is reserved for "no rule matched"')
        return value


class GeneralSettings(_Table):
    timezone: str = "UTC"
    merchant_fault_reasons: tuple[ReasonCode, ...] = ()
    non_returnable_categories: tuple[ItemCategory, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone_name(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ApprovalSettings(_Table):
    auto_approve_up_to: Amount
    auto_approve_up_to_by_currency: dict[str, Amount] = Field(default_factory=dict)
    frequent_requests: Positive
    frequent_window_days: Positive
    vip_always_automatic: StrictBool

    @field_validator("auto_approve_up_to_by_currency")
    @classmethod
    def _per_currency(cls, limits: dict[str, Decimal]) -> dict[str, Decimal]:
        """Each override is checked against its own currency's decimal places."""
        for currency, limit in limits.items():
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise ValueError(f'{_quoted(currency)} is not a currency code such as "USD"')
            try:
                parse_amount(str(limit), currency)
            except ValueError as exc:
                raise ValueError(f"{currency}: {exc}") from None
        return limits

    def limit_for(self, currency: str) -> Decimal:
        """The automatic-approval limit in the order's own currency; no conversion."""
        return self.auto_approve_up_to_by_currency.get(currency, self.auto_approve_up_to)


class RefundTarget(_Table):
    method: PaymentMethod
    completed_by_agent: StrictBool = False

    @field_validator("method")
    @classmethod
    def _refundable(cls, value: PaymentMethod) -> PaymentMethod:
        if value is PaymentMethod.CASH_ON_DELIVERY:
            raise ValueError("cash cannot be refunded remotely; use store_credit or bank_transfer")
        return value


Targets = Annotated[tuple[RefundTarget, ...], NOT_EMPTY]


class RefundMethodsByPayment(_Table):
    """For each way a customer paid, where the refund may go; the first is the default."""

    card: Targets
    e_wallet: Targets
    bank_transfer: Targets
    cash_on_delivery: Targets
    store_credit: Targets

    @field_validator("*")
    @classmethod
    def _distinct(cls, targets: tuple[RefundTarget, ...]) -> tuple[RefundTarget, ...]:
        methods = [target.method for target in targets]
        if len(set(methods)) != len(methods):
            raise ValueError("lists a refund method twice")
        return targets

    @model_validator(mode="after")
    def _original_first(self) -> Self:
        """Money goes back the way it came unless the customer picks something else."""
        for method in PaymentMethod:
            first = self.for_payment(method)[0].method
            if method is not PaymentMethod.CASH_ON_DELIVERY and first is not method:
                raise ValueError(f"{method}: the first refund method must be {method} itself")
        return self

    def for_payment(self, method: PaymentMethod) -> tuple[RefundTarget, ...]:
        """The field named after the method; a test keeps fields and enum in step."""
        targets: tuple[RefundTarget, ...] = getattr(self, method.value)
        return targets


class RefundMethodSettings(_Table):
    store_credit_bonus_percent: Percent
    by_payment: RefundMethodsByPayment


class Arrival(_Table):
    """How long a refund takes to reach the customer, as data so texts can say and compute it."""

    unit: ArrivalUnit
    min: Count = 0
    max: Count = 0

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.unit is ArrivalUnit.INSTANT and (self.min or self.max):
            raise ValueError("an instant refund has no min or max")
        if self.unit is not ArrivalUnit.INSTANT and (self.max < 1 or self.min > self.max):
            raise ValueError("needs max ≥ 1 and min ≤ max")
        return self

    def label(self) -> str:
        """English for the operator's terminal ("3–5 business days"); customers get templates."""
        if self.unit is ArrivalUnit.INSTANT:
            return "at once"
        unit = self.unit.value.replace("_", " ")
        if self.max == 1:
            unit = unit.removesuffix("s")
        if self.min == 0:
            return f"within {self.max} {unit}"
        if self.min == self.max:
            return f"{self.max} {unit}"
        return f"{self.min}–{self.max} {unit}"

    def expected_between(self, start: datetime) -> tuple[datetime, datetime]:
        """Earliest and latest arrival counted from `start`; business days skip Sat and Sun."""
        return self._after(start, self.min), self._after(start, self.max)

    def _after(self, start: datetime, count: int) -> datetime:
        if self.unit is ArrivalUnit.HOURS:
            return start + timedelta(hours=count)
        if self.unit is ArrivalUnit.DAYS:
            return start + timedelta(days=count)
        at = start
        while count and self.unit is ArrivalUnit.BUSINESS_DAYS:
            at += timedelta(days=1)
            if at.weekday() < 5:  # Monday to Friday
                count -= 1
        return at


class ArrivalSettings(_Table):
    """One entry per method a refund can go to (cash on delivery is never a refund target)."""

    card: Arrival
    e_wallet: Arrival
    bank_transfer: Arrival
    store_credit: Arrival

    def for_method(self, method: PaymentMethod) -> Arrival:
        """The field named after the method; cash on delivery has none and raises."""
        arrival: Arrival = getattr(self, method.value)
        return arrival


class SlaSettings(_Table):
    """How long a refund may sit in one status before the watchdog calls it stuck.

    A stuck refund gets one "still working on it" message to the customer and one alert
    to the agents per stay in that status (bot.services.refunds.watchdog).
    """

    pending_review_hours: Positive = 24
    approved_hours: Positive = 48
    failed_hours: Positive = 24
    processing_grace_days: Count = 2
    return_days: Positive = 21

    @property
    def awaiting_return(self) -> timedelta:
        """Approved, waiting for the goods to come back: the parcel is late after this."""
        return timedelta(days=self.return_days)

    @property
    def pending_review(self) -> timedelta:
        return timedelta(hours=self.pending_review_hours)

    @property
    def approved(self) -> timedelta:
        return timedelta(hours=self.approved_hours)

    @property
    def failed(self) -> timedelta:
        return timedelta(hours=self.failed_hours)

    @property
    def processing_grace(self) -> timedelta:
        """Added to the expected arrival, which already allows the method's `[arrival]` max."""
        return timedelta(days=self.processing_grace_days)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS = tuple(Weekday)  # in date.weekday() order, Monday first
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


def _clock_time(value: object) -> str:
    """ "09:00", "18:30", or "24:00" for the end of the day."""
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f'{_quoted(value)} must be a time of day such as "09:00" or "18:30"')
    return value


ClockTime = Annotated[str, BeforeValidator(_clock_time)]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class AgentSettings(_Table):
    """When the agents answer, and when an untaken case is announced again (issue 9).

    Hours are the same on every working day, in `timezone` (the shop's, from [general],
    when left out); a holiday is a whole day off.
    """

    timezone: str | None = None
    days: Annotated[tuple[Weekday, ...], NOT_EMPTY] = WEEKDAYS[:5]
    opens: ClockTime = "09:00"
    closes: ClockTime = "18:00"
    holidays: tuple[date, ...] = ()
    reannounce_after_minutes: Positive = 15

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone_name(value)

    @field_validator("days")
    @classmethod
    def _distinct(cls, days: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        if len(set(days)) != len(days):
            raise ValueError("lists a day twice")
        return days

    @model_validator(mode="after")
    def _open_before_close(self) -> Self:
        if _minutes(self.opens) >= _minutes(self.closes):
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        return self

    @property
    def reannounce_after(self) -> timedelta:
        return timedelta(minutes=self.reannounce_after_minutes)

    def is_open(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        return self._working_day(local.date()) and (
            _minutes(self.opens) <= minute < _minutes(self.closes)
        )

    def next_opening(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """When agents are next at work after `at` (an aware time in `zone`); None when open
        now. Looks a year and a week ahead, which holidays cannot fill."""
        if self.is_open(at, zone):
            return None
        local = at.astimezone(zone)
        opens = _minutes(self.opens)
        for ahead in range(0, 373):
            day = local.date() + timedelta(days=ahead)
            start = datetime.combine(day, time(opens // 60, opens % 60), tzinfo=zone)
            if self._working_day(day) and start > local:
                return start
        return None

    def _working_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days and day not in self.holidays


class OfferWhen(_Table):
    """When an offer applies: about the request and the decision the rules already made."""

    reason: Annotated[tuple[ReasonCode, ...], NOT_EMPTY] | None = None
    eligible: StrictBool | None = None
    rule: Annotated[tuple[Identifier, ...], NOT_EMPTY] | None = None
    order_status: Annotated[tuple[OrderStatus, ...], NOT_EMPTY] | None = None
    merchant_fault: StrictBool | None = None


_NEEDS_PERCENT = frozenset({OfferType.PARTIAL_REFUND, OfferType.COMPENSATION_VOUCHER})


class OfferCandidate(_Table):
    """One alternative to refunding, considered in file order: earlier means shown first."""

    id: Identifier
    type: OfferType
    when: OfferWhen = OfferWhen()
    percent: Percent | None = None
    of: OfferBase | None = None

    @model_validator(mode="after")
    def _parameters(self) -> Self:
        if self.type in _NEEDS_PERCENT:
            if not self.percent or self.of is None:
                raise ValueError(f"{self.type} needs percent (above 0) and of")
        elif self.percent is not None or self.of is not None:
            raise ValueError(f"{self.type} takes no percent or of")
        return self


class OfferSettings(_Table):
    max_shown: Count
    once_per_customer_days: Positive
    once_per_customer: tuple[OfferType, ...] = ()
    candidates: tuple[OfferCandidate, ...] = ()

    @field_validator("candidates")
    @classmethod
    def _unique_ids(cls, candidates: tuple[OfferCandidate, ...]) -> tuple[OfferCandidate, ...]:
        _require_unique([candidate.id for candidate in candidates])
        return candidates


_MERCHANT_OFFER_TYPES = frozenset({OfferType.COMPENSATION_VOUCHER, OfferType.EXCHANGE})


class MerchantOffer(_Table):
    """An apology offered when the shop cancels an order: a voucher, or a similar item."""

    id: Identifier
    type: OfferType
    reasons: Annotated[tuple[MerchantReason, ...], NOT_EMPTY]
    percent: Percent | None = None  # compensation_voucher: percent of the order total

    @model_validator(mode="after")
    def _parameters(self) -> Self:
        if self.type not in _MERCHANT_OFFER_TYPES:
            raise ValueError(
                f"{self.type} cannot make up for a cancelled order; "
                "use compensation_voucher or exchange"
            )
        if self.type is OfferType.COMPENSATION_VOUCHER and not self.percent:
            raise ValueError("compensation_voucher needs percent (above 0) of the order total")
        if self.type is OfferType.EXCHANGE and self.percent is not None:
            raise ValueError("exchange takes no percent")
        return self


class MerchantCancellationSettings(_Table):
    """What a customer is offered when the merchant cancels their order (optional section)."""

    offer_valid_days: Positive = 7
    offers: tuple[MerchantOffer, ...] = ()

    @field_validator("offers")
    @classmethod
    def _one_of_each_type(cls, offers: tuple[MerchantOffer, ...]) -> tuple[MerchantOffer, ...]:
        """Two vouchers for one reason would leave the customer guessing which is meant."""
        _require_unique([offer.id for offer in offers])
        for reason in MerchantReason:
            types = [offer.type for offer in offers if reason in offer.reasons]
            if len(set(types)) != len(types):
                raise ValueError(f"{reason}: at most one offer of each type")
        return offers

    def offers_for(self, reason: MerchantReason) -> tuple[MerchantOffer, ...]:
        return tuple(offer for offer in self.offers if reason in offer.reasons)


class Policy(_Table):
    """A whole policy file: ordered rules (first match wins) and the settings around them."""

    general: GeneralSettings = GeneralSettings()
    rules: Annotated[tuple[Rule, ...], NOT_EMPTY]
    approval: ApprovalSettings
    refund_methods: RefundMethodSettings
    arrival: ArrivalSettings
    offers: OfferSettings
    merchant_cancellation: MerchantCancellationSettings = MerchantCancellationSettings()
    sla: SlaSettings = SlaSettings()
    agents: AgentSettings = AgentSettings()

    @property
    def agent_zone(self) -> ZoneInfo:
        """The agents' time zone: their own, else the shop's."""
        return ZoneInfo(self.agents.timezone or self.general.timezone)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        _require_unique([rule.id for rule in rules])
        return rules

    @model_validator(mode="after")
    def _offer_rules_exist(self) -> Self:
        """An offer naming a rule that does not exist would silently never apply."""
        known = {rule.id for rule in self.rules}
        for index, candidate in enumerate(self.offers.candidates):
            for rule_id in candidate.when.rule or ():
                if rule_id not in known:
                    raise ValueError(
                        f"offers.candidates[{index}].when.rule: {_quoted(rule_id)} is not a rule id"
                    )
        return self


def _require_unique(ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"id {_quoted(item)} is used twice")
        seen.add(item)


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; None means the default shipped with the bot."""
    source = path or DEFAULT_POLICY_FILE
    try:
        with source.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise PolicyError([f"{source}: cannot be read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([f"{source}: TOML syntax error: {exc}"]) from None
    return parse_policy(data, str(source))


def parse_policy(data: Mapping[str, Any], source: str = "policy") -> Policy:
    """Validate already-parsed TOML; `source` names it in error lines."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_line(source, error, data) for error in exc.errors()]) from None


def _line(source: str, error: ErrorDetails, data: Mapping[str, Any]) -> str:
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    where = f"{source}: {path.removeprefix('.')}: " if path else f"{source}: "
    return where + _problem(error) + _named(loc, data)


def _named(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    """' (in "booking_late")' when the path runs through a list entry with an id."""
    node: Any = data
    name = None
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("id"), str):
            name = node["id"]
    return f" (in {_quoted(name)})" if name else ""


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """For conditions and outcomes, list the vocabulary: the likely fix is a known word."""
    parent = loc[-2] if len(loc) > 1 else None
    if parent == "then":
        return f"unknown outcome; known: {', '.join(Then.model_fields)}"
    if parent == "when":
        model = OfferWhen if loc[0] == "offers" else When
        return f"unknown condition; known: {', '.join(model.model_fields)}"
    return "unknown key"


def _problem(error: ErrorDetails) -> str:
    """Pydantic's wording turned into a short sentence a merchant can act on."""
    kind, ctx, loc = error["type"], error.get("ctx", {}), error["loc"]
    value = error.get("input")
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    messages = {
        "missing": "is required",
        "greater_than_equal": f"must be ≥ {ctx.get('ge')}",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "list_type": 'must be a list such as ["a", "b"]',
        "tuple_type": 'must be a list such as ["a", "b"]',
        "model_type": "must be a table",
        "dict_type": "must be a table",
        "too_short": "must not be empty",
        "enum": f"{_quoted(value)} is not one of {ctx.get('expected')}",
        "string_pattern_mismatch": f"{_quoted(value)} must be lower-case letters, digits and _",
    }
    return messages.get(kind, error["msg"])
