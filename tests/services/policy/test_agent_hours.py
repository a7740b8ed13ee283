"""The policy's `[agents]` section: working hours at their boundaries, holidays, the time
zone, the re-announce delay, and a readable line for every mistake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.services.policy import PolicyError, parse_policy
from bot.services.policy.model import AgentSettings
from tests.services.policy import DEFAULT_POLICY, default_policy_data

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = AgentSettings(holidays=(date(2026, 12, 25),))


def at(text: str) -> datetime:
    """A local time in Shanghai, e.g. "2026-11-23 09:00" (a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-23 08:59", False),
        ("2026-11-23 09:00", True),  # opening time is inside
        ("2026-11-23 17:59", True),
        ("2026-11-23 18:00", False),  # closing time is outside
        ("2026-11-28 12:00", False),  # Saturday
        ("2026-12-25 12:00", False),  # a holiday (a Friday)
    ],
)
def test_open_from_opening_to_closing_on_working_days_but_holidays(
    moment: str, open_: bool
) -> None:
    assert HOURS.is_open(at(moment), SHANGHAI) is open_


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        ("2026-11-23 12:00", None),
        ("2026-11-23 07:00", "2026-11-23 09:00"),
        ("2026-11-23 18:00", "2026-11-24 09:00"),
        ("2026-11-27 19:00", "2026-11-30 09:00"),  # Friday evening: Monday
        ("2026-12-24 18:30", "2026-12-28 09:00"),  # over the holiday and the weekend
    ],
)
def test_the_next_opening(moment: str, opens: str | None) -> None:
    expected = at(opens) if opens else None
    assert HOURS.next_opening(at(moment), SHANGHAI) == expected


def test_times_are_read_in_the_agents_zone() -> None:
    monday_noon_utc = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    assert not HOURS.is_open(monday_noon_utc, SHANGHAI)
    assert HOURS.is_open(monday_noon_utc, ZoneInfo("Europe/London"))


def test_the_shipped_policy_has_the_section_in_the_shops_zone() -> None:
    agents = DEFAULT_POLICY.agents
    assert (agents.opens, agents.closes, agents.reannounce_after_minutes) == ("09:00", "18:00", 15)
    assert DEFAULT_POLICY.agent_zone == SHANGHAI
    assert date(2026, 12, 25) in agents.holidays


def _with_agents(**section: Any) -> None:
    data = default_policy_data()
    data["agents"] = section
    parse_policy(data, "policy.toml")


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ({"opens": "9:00"}, 'policy.toml: agents.opens: "9:00" must be a time of day such as'),
        ({"opens": "18:00", "closes": "09:00"}, "opens (18:00) must be before closes (09:00)"),
        ({"days": ["mon", "funday"]}, "agents.days[1]"),
        ({"days": []}, "agents.days: must not be empty"),
        ({"days": ["mon", "mon"]}, "lists a day twice"),
        ({"timezone": "Mars/Olympus"}, 'agents.timezone: "Mars/Olympus" is not a time zone'),
        ({"reannounce_after_minutes": 0}, "agents.reannounce_after_minutes: must be ≥ 1"),
        ({"lunch": "12:00"}, "agents.lunch: unknown key"),
    ],
)
def test_every_mistake_is_one_line_naming_its_key(section: dict[str, Any], line: str) -> None:
    with pytest.raises(PolicyError) as raised:
        _with_agents(**section)
    assert len(raised.value.problems) == 1
    assert line in raised.value.problems[0]
