"""Token buckets on fake monotonic time: sleeping moves the clock, nothing waits for real."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.rate_limit import RateLimiter, TokenBucket


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_a_full_bucket_allows_a_burst_of_its_capacity_then_makes_you_wait() -> None:
    time = FakeTime()
    bucket = TokenBucket(rate=2, capacity=3, clock=time)

    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate_and_never_beyond_the_capacity() -> None:
    time = FakeTime()
    bucket = TokenBucket(rate=4, capacity=2, clock=time)
    assert [bucket.try_take(), bucket.try_take()] == [True, True]

    time.now += 0.125
    assert not bucket.try_take()
    assert bucket.wait_time() == pytest.approx(0.125)
    time.now += 0.125
    assert bucket.try_take()

    time.now += 60
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]


def test_a_pause_empties_the_bucket_and_refilling_starts_when_it_ends() -> None:
    time = FakeTime()
    bucket = TokenBucket(rate=10, capacity=5, clock=time)

    bucket.pause(3)

    assert bucket.wait_time() == pytest.approx(3.1)
    time.now += 3
    assert not bucket.try_take()
    time.now += 0.1
    assert bucket.try_take()
    assert not bucket.try_take()


def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    time = FakeTime()
    bucket = TokenBucket(rate=1, capacity=1, clock=time)

    bucket.pause(5)
    bucket.pause(1)

    assert bucket.wait_time() == pytest.approx(6)


async def test_the_global_rate_spaces_a_crowd_evenly_and_in_arrival_order() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_second=25, chat_interval=1, clock=time, sleep=time.sleep)
    granted: list[tuple[int, float]] = []

    async def sender(n: int) -> None:
        await limiter.global_turn()
        granted.append((n, time.now))

    await asyncio.gather(*(sender(n) for n in range(50)))

    assert [n for n, _ in granted] == list(range(50))
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(granted)]
    assert gaps == pytest.approx([0.04] * 49)
    in_any_second = max(
        sum(1 for _, at in granted if start <= at < start + 1) for _, start in granted
    )
    assert in_any_second <= 26  # the burst of 1 plus 25 a second


async def test_a_chats_next_turn_is_an_interval_after_telegram_answered() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_second=25, chat_interval=1, clock=time, sleep=time.sleep)
    ann, bob = 1, 2

    await limiter.chat_turn(ann)
    time.now += 0.3  # the request takes 0.3 s
    limiter.chat_done(ann)
    await limiter.chat_turn(bob)  # another chat does not wait
    assert time.now == pytest.approx(100.3)

    await limiter.chat_turn(ann)
    assert time.now == pytest.approx(101.3)


async def test_one_chats_turns_are_granted_in_order() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_second=25, chat_interval=2, clock=time, sleep=time.sleep)
    order: list[tuple[int, float]] = []

    async def message(n: int) -> None:
        await limiter.chat_turn(7)
        order.append((n, time.now))
        limiter.chat_done(7)

    for n in range(4):
        await message(n)

    assert order == [(0, 100.0), (1, 102.0), (2, 104.0), (3, 106.0)]


async def test_a_429_pauses_only_the_chat_it_came_from() -> None:
    """A busy group (or customer) must not silence everyone else for its retry_after."""
    time = FakeTime()
    limiter = RateLimiter(per_second=25, chat_interval=1, clock=time, sleep=time.sleep)
    group, ann = -1001, 7
    await limiter.chat_turn(group)
    limiter.chat_done(group)

    limiter.pause_chat(group, 30)
    await limiter.chat_turn(ann)
    await limiter.global_turn()
    assert time.now == pytest.approx(100.0)  # nobody else waited

    await limiter.chat_turn(group)
    assert time.now >= 130.0


# Found by hypothesis: 19 sends exactly 60/18 s apart once fitted a minute by float rounding.
ROUNDED_INTO_A_MINUTE = [0.0, 1.0, 4.804216007307598, 4.985538610902448, 4.3, *[0.0] * 9]
ROUNDED_INTO_A_MINUTE += [3.0, 5.0, 5.0, 5.0, 4.399744496335144, 4.714876801528669]
ROUNDED_INTO_A_MINUTE += [4.333333333333333, *[0.0] * 19]


@given(replies=st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=40, max_size=60))
@example(replies=ROUNDED_INTO_A_MINUTE)
def test_a_group_never_gets_more_than_its_budget_in_any_minute(replies: list[float]) -> None:
    """Telegram's ~20 a minute per group: with N a minute, no 60 s window holds more than N
    requests, however long each reply takes (the spacing counts from the reply)."""

    async def run() -> list[float]:
        time = FakeTime()
        limiter = RateLimiter(
            per_second=25, chat_interval=1, group_per_minute=18, clock=time, sleep=time.sleep
        )
        sent = []
        for reply in replies:
            await limiter.chat_turn(-100)
            sent.append(time.now)
            time.now += reply  # Telegram answers
            limiter.chat_done(-100)
        return sent

    sent = asyncio.run(run())
    for start in sent:
        assert sum(start <= at < start + 60 for at in sent) <= 18


async def test_people_keep_their_one_a_second_next_to_a_slow_group() -> None:
    time = FakeTime()
    limiter = RateLimiter(
        per_second=25, chat_interval=1, group_per_minute=20, clock=time, sleep=time.sleep
    )
    for chat in (-100, 7):
        await limiter.chat_turn(chat)
        limiter.chat_done(chat)

    await limiter.chat_turn(7)
    assert time.now == pytest.approx(101.0)
    await limiter.chat_turn(-100)
    assert time.now == pytest.approx(103.0)  # 60 / 20 s after the group's last reply


def test_idle_chats_are_forgotten() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_second=25, chat_interval=1, clock=time, sleep=time.sleep)
    for chat in range(3):
        limiter.chat_done(chat)
    time.now += 0.5
    limiter.chat_done(3)

    time.now += 0.5
    limiter.forget_idle()

    assert limiter.tracked_chats == 1


@given(
    rate=st.integers(min_value=1, max_value=50),
    burst=st.integers(min_value=1, max_value=5),
    gaps=st.lists(st.floats(min_value=0, max_value=0.3), min_size=1, max_size=300),
)
def test_no_second_ever_sees_more_than_the_burst_plus_the_rate(
    rate: int, burst: int, gaps: list[float]
) -> None:
    time = FakeTime()
    bucket = TokenBucket(rate=rate, capacity=burst, clock=time)
    granted = []
    for gap in gaps:
        time.now += gap
        if bucket.try_take():
            granted.append(time.now)

    for start in granted:
        assert sum(1 for at in granted if start <= at < start + 1) <= burst + rate
