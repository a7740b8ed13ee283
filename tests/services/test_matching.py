"""Finding which of a customer's own orders a message means, by number or description."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from bot.services.cancellation.matching import (
    CONFIDENT_SCORE,
    NEAR_NUMBER_SCORE,
    PLACED_AT_ONLY_SCORE,
    CandidateIndex,
    MatchBasis,
    MatchingVocabulary,
    MatchKind,
    OrderCandidate,
    OrderMatch,
    TimeHint,
    _number_forms,
    _stored_number_forms,
    candidate_of,
    match_order,
    normalize_order_number,
    read_lookalikes,
)
from storage.models import Order, OrderItem
from storage.repositories.orders import OrderDescription, OrderNumbers

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def order(
    order_id: int,
    number: str,
    *names: str,
    attributes: tuple[str, ...] = (),
    days_ago: float = 1,
) -> OrderCandidate:
    return OrderCandidate(order_id, number, names, attributes, NOW - timedelta(days=days_ago))


def ids(match: OrderMatch) -> list[int]:
    return [scored.candidate.order_id for scored in match.best]


# One customer's orders, numbered far apart, in several number shapes.
TARGET = order(1, "SO-1002345", "Bluetooth Headphones", "蓝牙耳机", attributes=("blue",))
NUMBERED = (
    TARGET,
    order(2, "SO-1007781", "Electric Kettle", "电热水壶"),
    order(3, "A-77831", "Cotton T-Shirt", "纯棉T恤", attributes=("white", "M")),
    order(4, "2026-000123", "Noise-Cancelling Earbuds", "降噪耳塞"),
    order(5, "HX-7730018", "USB-C Charger 65W", "USB-C 充电器 65W"),
)

# One customer's orders as the shop describes them, with two pairs of headphones.
BLUE_HEADPHONES = order(
    11, "SO-1002391", "Bluetooth Headphones", "蓝牙耳机", attributes=("blue",), days_ago=3
)
BLACK_HEADPHONES = order(
    12, "SO-1002392", "Bluetooth Headphones", "蓝牙耳机", attributes=("black",), days_ago=20
)
KETTLE = order(13, "SO-1002393", "Electric Kettle", "电热水壶", days_ago=8)
PAN = order(14, "SO-1002363", "Blue Cotton Frying Pan", "蓝色棉纹煎锅", days_ago=25)
MUG_AND_STRAWBERRIES = order(
    15,
    "SO-1002351",
    "<b>Tom & Jerry</b> Mug",
    "<b>猫和老鼠</b> 马克杯",
    "Fresh Strawberries 500 g",
    "新鲜草莓 500 克",
    days_ago=7,
)
DESCRIBED = (BLUE_HEADPHONES, BLACK_HEADPHONES, KETTLE, PAN, MUG_AND_STRAWBERRIES)


class TestNormalizeOrderNumber:
    @pytest.mark.parametrize(
        ("typed", "canonical"),
        [
            ("SO-1002345", "SO1002345"),
            ("so-1002345", "SO1002345"),
            (" SO 100 2345 ", "SO1002345"),
            ("#SO1002345", "SO1002345"),
            ("SO_1002345/", "SO1002345"),
            ("SO.100.2345", "SO1002345"),
            ("10O2345", "1002345"),
            ("SO-1OO2345", "SO1002345"),
            ("SO-1002l45", "SO1002145"),
            ("SO-100234I", "SO1002341"),
            ("No. 1002345", "1002345"),
            ("No1002345", "1002345"),
            ("order no: SO-1002345", "SO1002345"),
            ("订单号：SO-1002345", "SO1002345"),
            ("订单 1002345", "1002345"),
            ("ＳＯ－１００２３４５", "SO1002345"),
            ("hx 773OO18", "HX7730018"),
            ("A-77831", "A77831"),
            ("2026-000I23", "2026000123"),
        ],
    )
    def test_noise_is_removed(self, typed: str, canonical: str) -> None:
        assert normalize_order_number(typed) == canonical

    def test_letters_before_the_first_digit_stay_letters(self) -> None:
        """A prefix made of look-alike letters ("SO", "OL") is not read as digits."""
        assert normalize_order_number("so-1oo2345") == "SO1002345"
        assert normalize_order_number("OL-100") == "OL100"

    @given(st.text())
    def test_idempotent(self, text: str) -> None:
        once = normalize_order_number(text)
        assert normalize_order_number(once) == once

    @given(st.text(alphabet="SOILNRDoil0123456789 -#._/:订单号", max_size=16))
    def test_idempotent_on_number_like_text(self, text: str) -> None:
        once = normalize_order_number(text)
        assert normalize_order_number(once) == once

    @given(st.text(alphabet="SOILNRDEBUMXoil0123456789 -#._/:订单号", max_size=16))
    @example("NO-1002345")
    @example("NONUMBER1002345")
    @example("ORDERS-1002345")
    @example("SO--1002345")
    @example("SO-10O2345")
    def test_a_stored_number_has_the_forms_its_normal_form_gives(self, number: str) -> None:
        """Indexing reads usual numbers ("SO-1002345") by a shortcut: it must agree with
        normalising them, whatever the shop's numbers look like."""
        canonical = normalize_order_number(number)
        body = canonical.lstrip(string.ascii_uppercase)
        prefix = canonical[: len(canonical) - len(body)]
        assert _stored_number_forms(number) == (read_lookalikes(prefix) + body, body, prefix)

    @given(
        st.lists(
            st.one_of(
                st.from_regex(r"[A-Z]{0,3}[-#/._ ]?[0-9]{1,9}", fullmatch=True),
                st.text(alphabet="SOILNREoil0123456789 -#._/\n\r订单", max_size=12),
            ),
            max_size=8,
        )
    )
    @example(["SO-1002345", "SO-1002346"])
    @example(["SO-1002345", "NO-1002346"])  # a prefix that is only a label
    @example(["1\n2", "SO-3"])  # a newline in a number: as many lines as numbers
    @example(["SO-1\n", "SO-2"])
    def test_many_numbers_read_at_once_have_the_forms_each_has(self, numbers: list[str]) -> None:
        """Indexing reads a customer's numbers in one pass when all are in the usual shape:
        the same forms, in the same order, as reading each on its own."""
        forms = [_stored_number_forms(number) for number in numbers]
        assert _number_forms(numbers) == (
            [whole for whole, _, _ in forms],
            [body for _, body, _ in forms],
            frozenset(prefix for _, _, prefix in forms if prefix),
        )


class TestOrderNumbers:
    @pytest.mark.parametrize(
        "typed",
        [
            "SO-1002345",
            "so-1002345",
            "SO 100 2345",
            "#SO1002345",
            "SO-10O2345",
            "SO-1OO2345",
            "SOl002345",
            "SO-I002345",
            "No. SO-1002345",
            "Order #SO-1002345",
            "订单号：SO1002345",
            "1002345",
            "cancel 10O2345 please",
            "ＳＯ－１００２３４５",
        ],
    )
    def test_noise_is_still_exact(self, typed: str) -> None:
        match = match_order(typed, NUMBERED)
        assert match.kind is MatchKind.EXACT
        assert match.order_id == TARGET.order_id
        assert match.best[0].basis is MatchBasis.NUMBER

    @pytest.mark.parametrize(
        ("typed", "typo"),
        [
            ("SO-100245", "a missing digit"),
            ("SO-10023455", "an extra digit"),
            ("SO-1003245", "two adjacent digits swapped"),
            ("so 1OO2354", "swapped, with noise"),
            ("100245", "a missing digit, no prefix"),
        ],
    )
    def test_one_typo_is_confident(self, typed: str, typo: str) -> None:
        match = match_order(typed, NUMBERED)
        assert match.kind is MatchKind.CONFIDENT, typo
        assert match.order_id == TARGET.order_id

    def test_one_substituted_digit_is_offered_never_confident(self) -> None:
        """SO-1002346 may well be another customer's real order: shops number in
        sequence. The customer's own SO-1002345 is offered to pick, not chosen."""
        match = match_order("SO-1002346", NUMBERED)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [TARGET.order_id]
        assert match.best[0].score == NEAR_NUMBER_SCORE < CONFIDENT_SCORE

    def test_two_typos_find_nothing(self) -> None:
        assert match_order("SO-1003254", NUMBERED).kind is MatchKind.NONE

    @pytest.mark.parametrize(
        ("typed", "order_id", "kind"),
        [
            ("a 77831", 3, MatchKind.EXACT),
            ("A77831", 3, MatchKind.EXACT),
            ("A-77813", 3, MatchKind.CONFIDENT),
            ("2026000123", 4, MatchKind.EXACT),
            ("2026 000 123", 4, MatchKind.EXACT),
            ("2026-00123", 4, MatchKind.CONFIDENT),
            ("hx 773OO18", 5, MatchKind.EXACT),
            ("HX-7730O81", 5, MatchKind.CONFIDENT),
        ],
    )
    def test_other_number_shapes(self, typed: str, order_id: int, kind: MatchKind) -> None:
        match = match_order(typed, NUMBERED)
        assert (match.kind, match.order_id) == (kind, order_id)

    def test_exact_beats_a_fuzzy_match_of_a_neighbour(self) -> None:
        """SO-1002354 is one swap from SO-1002345; typing either exactly picks it."""
        neighbours = (order(1, "SO-1002345"), order(2, "SO-1002354"), order(3, "SO-1002346"))
        for typed, order_id in (("SO-1002345", 1), ("SO-1002354", 2), ("so 1002346", 3)):
            match = match_order(typed, neighbours)
            assert (match.kind, match.order_id) == (MatchKind.EXACT, order_id)

    def test_exact_number_beats_a_description_of_another_order(self) -> None:
        match = match_order("SO-1002345 the kettle", NUMBERED)
        assert (match.kind, match.order_id) == (MatchKind.EXACT, TARGET.order_id)

    def test_a_typo_near_several_of_the_customers_numbers_is_ambiguous(self) -> None:
        siblings = (order(1, "SO-1002345"), order(2, "SO-1002346"), order(3, "SO-1002347"))
        match = match_order("SO-100234", siblings)
        assert match.kind is MatchKind.AMBIGUOUS
        assert sorted(ids(match)) == [1, 2, 3]

    @pytest.mark.parametrize(
        ("typed", "kind"),
        [
            ("SOooo0O0", MatchKind.CONFIDENT),
            ("SOooo0O00", MatchKind.EXACT),
            ("SOooo 0O00", MatchKind.EXACT),
            ("#soOoo0O00", MatchKind.EXACT),
            ("SOOOOOOOO", MatchKind.EXACT),
            ("SO-ooo0O0", MatchKind.CONFIDENT),
        ],
    )
    def test_look_alikes_run_into_a_known_prefix_are_digits(
        self, typed: str, kind: MatchKind
    ) -> None:
        """Read against the customer's prefix "SO", the o/O after it are zeros."""
        zeros = (order(1, "SO-0000000"), order(2, "SO-5555555"), order(3, "A-77831"))
        match = match_order(typed, zeros)
        assert (match.kind, match.order_id) == (kind, 1)

    def test_look_alikes_after_an_unknown_prefix_stay_letters(self) -> None:
        """Only the customer's own prefixes split a word: "SOooo0O0" means nothing to a
        customer whose orders are all "A-" numbers, and a word is no number."""
        assert match_order("SOooo0O00", (order(1, "A-0000000"),)).kind is MatchKind.NONE
        assert match_order("soooo, so cool", (order(1, "SO-0000000"),)).kind is MatchKind.NONE

    def test_short_digit_runs_are_not_order_numbers(self) -> None:
        assert match_order("2345", NUMBERED).kind is MatchKind.NONE
        assert match_order("cancel 2 of them", NUMBERED).kind is MatchKind.NONE


def _far_apart_numbers(target: str, count: int, seed: int) -> list[str]:
    """`count` random SO- numbers, each at least three edits from `target`'s digits."""
    rng = random.Random(seed)
    numbers: set[str] = set()
    while len(numbers) < count:
        digits = f"{rng.randrange(10**7):07d}"
        if OSA.distance(digits, target.removeprefix("SO-")) >= 3:
            numbers.add(f"SO-{digits}")
    return sorted(numbers)


MANY_TARGET = "SO-4827163"


@pytest.fixture(scope="module")
def many_numbers() -> CandidateIndex:
    """2,000 orders, one of them MANY_TARGET, the rest three or more edits from it."""
    others = _far_apart_numbers(MANY_TARGET, 1999, seed=20261123)
    numbers = [*others[:1000], MANY_TARGET, *others[1000:]]
    return CandidateIndex([order(n, number) for n, number in enumerate(numbers)])


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("SO-4827163", MatchKind.EXACT),
        ("so 482 71 63", MatchKind.EXACT),
        ("SO-482763", MatchKind.CONFIDENT),
        ("SO-48271623", MatchKind.CONFIDENT),
        ("SO-4827613", MatchKind.CONFIDENT),
        ("4872163", MatchKind.CONFIDENT),
    ],
)
def test_one_typo_among_2000_numbers_still_finds_the_order(
    many_numbers: CandidateIndex, typed: str, kind: MatchKind
) -> None:
    match = many_numbers.match(typed)
    assert match.kind is kind
    assert match.best[0].candidate.number == MANY_TARGET


def test_a_number_close_only_to_an_order_not_in_the_list_is_never_confident() -> None:
    """The caller passes only the customer's orders; a number near none of them (it may
    be someone else's) must not come back as one of theirs."""
    others = _far_apart_numbers(MANY_TARGET, 2000, seed=7)
    index = CandidateIndex([order(n, number) for n, number in enumerate(others)])
    for typed in ("SO-4827163", "SO-482763", "SO-4827613", "SO-4827164"):
        assert index.match(typed).kind is MatchKind.NONE


# Typos of the digits of a number.
def _missing_digit(rng: random.Random, digits: str) -> str:
    at = rng.randrange(len(digits))
    return digits[:at] + digits[at + 1 :]


def _extra_digit(rng: random.Random, digits: str) -> str:
    at = rng.randrange(len(digits) + 1)
    return digits[:at] + str(rng.randrange(10)) + digits[at:]


def _swapped_digits(rng: random.Random, digits: str) -> str:
    at = rng.randrange(len(digits) - 1)
    return digits[:at] + digits[at + 1] + digits[at] + digits[at + 2 :]


def _no_typo(rng: random.Random, digits: str) -> str:
    return digits


# Noise a customer adds to the digits of a number.
def _look_alikes(rng: random.Random, digits: str) -> str:
    swaps = {"0": "Oo", "1": "lI"}
    return "".join(rng.choice(swaps[d]) if d in swaps and rng.random() < 0.5 else d for d in digits)


def _spaces(rng: random.Random, digits: str) -> str:
    return "".join(d + (" " if rng.random() < 0.2 else "") for d in digits).strip()


# Shapes of order numbers: what comes before the digits, and the separator stored.
NUMBER_SHAPES = [("SO", "-"), ("A", "-"), ("HX", "-"), ("ORD", ""), ("2026", "-"), ("", "")]


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """(a stored number, how the customer typed it, other numbers of the same shape,
    each three or more edits away so that no typo can make it the better fit)."""
    head, stored_separator = draw(st.sampled_from(NUMBER_SHAPES))
    digits = draw(st.text("0123456789", min_size=7, max_size=10))
    others = draw(
        st.lists(st.text("0123456789", min_size=7, max_size=10), max_size=30).map(
            lambda bodies: [b for b in bodies if OSA.distance(b, digits) >= 3]
        )
    )
    rng = random.Random(draw(st.integers(0, 2**32)))
    typo = draw(st.sampled_from([_no_typo, _missing_digit, _extra_digit, _swapped_digits]))
    typed_digits = _spaces(rng, _look_alikes(rng, typo(rng, digits)))
    typed_head = head.lower() if draw(st.booleans()) else head
    typed_separator = draw(st.sampled_from(["-", " ", "", "#", "."])) if head else ""
    label = draw(st.sampled_from(["", "#", "No. ", "order ", "订单号：", "cancel "]))
    return (
        head + stored_separator + digits,
        label + typed_head + typed_separator + typed_digits,
        [head + stored_separator + body for body in others],
    )


@given(typed_numbers())
@example(("SO-0000000", "SOooo0O0", []))
@example(("SO-0000000", "cancel soOoOoOo", []))
@example(("ORD1100000", "ordIloo 0O0", ["ORD5555555"]))
def test_a_noisy_number_with_one_typo_is_found(case: tuple[str, str, list[str]]) -> None:
    number, typed, others = case
    candidates = [order(1, number), *(order(n, o) for n, o in enumerate(others, start=2))]
    match = match_order(typed, candidates)
    assert match.kind in (MatchKind.EXACT, MatchKind.CONFIDENT), typed
    assert match.order_id == 1


class TestDescriptions:
    @pytest.mark.parametrize(
        ("text", "order_id"),
        [
            ("the blue headphones", BLUE_HEADPHONES.order_id),
            ("cancel the blue headphones", BLUE_HEADPHONES.order_id),
            ("black bluetooth headphones", BLACK_HEADPHONES.order_id),
            ("the mug", MUG_AND_STRAWBERRIES.order_id),
            ("the mugs", MUG_AND_STRAWBERRIES.order_id),
            ("strawberries", MUG_AND_STRAWBERRIES.order_id),
            ("my electric kettle", KETTLE.order_id),
            ("the kettel", KETTLE.order_id),
            ("frying pan", PAN.order_id),
        ],
    )
    def test_english(self, text: str, order_id: int) -> None:
        match = match_order(text, DESCRIBED)
        assert (match.kind, match.order_id) == (MatchKind.CONFIDENT, order_id)
        assert match.best[0].basis is MatchBasis.DESCRIPTION

    @pytest.mark.parametrize(
        ("text", "order_id"),
        [
            ("黑色耳机", BLACK_HEADPHONES.order_id),
            ("蓝色的耳机", BLUE_HEADPHONES.order_id),
            ("我要取消那个水壶", KETTLE.order_id),
            ("电热水壶", KETTLE.order_id),
            ("草莓", MUG_AND_STRAWBERRIES.order_id),
            ("马克杯", MUG_AND_STRAWBERRIES.order_id),
            ("煎锅", PAN.order_id),
        ],
    )
    def test_chinese(self, text: str, order_id: int) -> None:
        match = match_order(text, DESCRIBED)
        assert (match.kind, match.order_id) == (MatchKind.CONFIDENT, order_id)

    def test_part_of_a_chinese_name_finds_it(self) -> None:
        """Chinese has no spaces: "耳机" must be found inside "蓝牙耳机"."""
        match = match_order("耳机", (BLUE_HEADPHONES, KETTLE, PAN))
        assert (match.kind, match.order_id) == (MatchKind.CONFIDENT, BLUE_HEADPHONES.order_id)

    @pytest.mark.parametrize(
        "text", ["the bluetooth headphones", "headphones", "蓝牙耳机", "耳机", "bluetoth headphnes"]
    )
    def test_two_orders_of_the_same_product_are_ambiguous(self, text: str) -> None:
        match = match_order(text, DESCRIBED)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [BLUE_HEADPHONES.order_id, BLACK_HEADPHONES.order_id]  # newer first

    @pytest.mark.parametrize("text", ["blue", "蓝色"])
    def test_an_attribute_alone_offers_every_order_with_it(self, text: str) -> None:
        match = match_order(text, DESCRIBED)
        assert match.kind is MatchKind.AMBIGUOUS
        assert sorted(ids(match)) == [BLUE_HEADPHONES.order_id, PAN.order_id]

    def test_a_partial_description_is_offered_not_chosen(self) -> None:
        """ "blue kettle" shares one word with "Electric Kettle" and one with "Blue
        Cotton Frying Pan"; the kettle is offered alone, for the customer to confirm."""
        match = match_order("the blue kettle", DESCRIBED)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [KETTLE.order_id]

    @pytest.mark.parametrize(
        "text",
        ["hello", "the pizza", "I want to cancel my order", "取消订单", "手机", "", "  ?! "],
    )
    def test_unrelated_text_finds_nothing(self, text: str) -> None:
        assert match_order(text, DESCRIBED) == OrderMatch(MatchKind.NONE, ())

    def test_no_candidates_find_nothing(self) -> None:
        assert match_order("the mug", ()).kind is MatchKind.NONE

    def test_ambiguous_lists_at_most_five_best_first(self) -> None:
        mugs = [order(n, f"SO-{n:07d}", "Mug", days_ago=n) for n in range(1, 9)]
        match = match_order("mug", mugs)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [1, 2, 3, 4, 5]


class TestTimeHints:
    MUGS = (
        order(1, "SO-1000001", "Mug", "马克杯", days_ago=8),
        order(2, "SO-1000002", "Mug", "马克杯", days_ago=60),
    )

    @pytest.mark.parametrize("text", ["the mug from last week", "上周买的马克杯"])
    def test_a_period_breaks_a_tie(self, text: str) -> None:
        match = match_order(text, self.MUGS, now=NOW)
        assert (match.kind, match.order_id) == (MatchKind.CONFIDENT, 1)

    def test_without_now_the_period_is_only_dropped(self) -> None:
        match = match_order("the mug from last week", self.MUGS)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [1, 2]

    def test_a_period_holding_none_of_the_orders_is_ignored(self) -> None:
        match = match_order("the mug from yesterday", self.MUGS, now=NOW)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [1, 2]

    def test_a_period_alone_offers_its_orders(self) -> None:
        match = match_order("the one from last week", DESCRIBED, now=NOW)
        assert match.kind is MatchKind.AMBIGUOUS
        assert ids(match) == [MUG_AND_STRAWBERRIES.order_id, KETTLE.order_id]
        assert {s.basis for s in match.best} == {MatchBasis.PLACED_AT}
        assert {s.score for s in match.best} == {PLACED_AT_ONLY_SCORE}

    def test_time_hint_window(self) -> None:
        hint = TimeHint(("last week",), (4.0, 16.0))
        assert hint.covers(NOW - timedelta(days=8), NOW)
        assert not hint.covers(NOW - timedelta(days=2), NOW)


class TestVocabulary:
    def test_a_custom_vocabulary_is_used(self) -> None:
        """ "blau" reaches the headphones' attribute "blue" only through the alias."""
        vocabulary = MatchingVocabulary(stop_words=["bitte"], alias_groups=[["blue", "blau"]])
        match = match_order("bitte blau", DESCRIBED, vocabulary=vocabulary)
        assert (match.kind, match.order_id) == (MatchKind.CONFIDENT, BLUE_HEADPHONES.order_id)
        assert match_order("bitte blau", DESCRIBED).kind is MatchKind.NONE

    def test_a_stop_word_must_be_one_word(self) -> None:
        with pytest.raises(ValueError, match="one word"):
            MatchingVocabulary(stop_words=["last week"])

    def test_a_time_phrase_belongs_to_one_period(self) -> None:
        hints = [TimeHint(("last week",), (4, 16)), TimeHint(("Last week!",), (0, 1))]
        with pytest.raises(ValueError, match="twice"):
            MatchingVocabulary(stop_words=[], time_hints=hints)

    def test_the_packaged_file_loads(self) -> None:
        vocabulary = MatchingVocabulary.load()
        assert match_order("the mug", DESCRIBED, vocabulary=vocabulary).order_id == 15


def test_an_index_answers_many_messages() -> None:
    index = CandidateIndex(DESCRIBED)
    assert index.match("the mug").order_id == MUG_AND_STRAWBERRIES.order_id
    assert index.match("SO-1002392").order_id == BLACK_HEADPHONES.order_id
    assert index.match("the kettle").order_id == KETTLE.order_id


class TestAnIndexOfNumbersOnly:
    """Built from the orders' numbers and dates (`numbers_only`), it answers what
    needs nothing more, asks for the rest only when a message describes an order, and
    once given it answers as an index built from everything."""

    @staticmethod
    def numbers_only() -> CandidateIndex:
        return CandidateIndex.numbers_only(
            OrderNumbers(
                [c.order_id for c in DESCRIBED],
                [c.number for c in DESCRIBED],
                [c.placed_at for c in DESCRIBED],
            )
        )

    @staticmethod
    def descriptions() -> dict[int, OrderDescription]:
        return {c.order_id: OrderDescription(c.names, c.attributes) for c in DESCRIBED}

    @pytest.mark.parametrize("text", ["SO-1002392", "so 100239", "the one from last week"])
    def test_numbers_and_periods_need_no_descriptions(self, text: str) -> None:
        index = self.numbers_only()
        message = index.parse(text)
        assert not index.needs_descriptions(message)
        assert ids(index.match_message(message, now=NOW)) == ids(
            CandidateIndex(DESCRIBED).match(text, now=NOW)
        )

    @pytest.mark.parametrize("text", ["the blue headphones", "蓝色耳机", "my kettle SO-1002393"])
    def test_a_description_waits_for_the_items(self, text: str) -> None:
        index = self.numbers_only()
        message = index.parse(text)
        assert index.needs_descriptions(message)
        with pytest.raises(LookupError):
            index.match_message(message, now=NOW)

        index.describe(self.descriptions())
        assert not index.needs_descriptions(message)
        assert index.match_message(message, now=NOW) == CandidateIndex(DESCRIBED).match(
            text, now=NOW
        )

    def test_an_order_without_items_is_described_as_having_none(self) -> None:
        index = self.numbers_only()
        index.describe({KETTLE.order_id: OrderDescription(KETTLE.names, KETTLE.attributes)})
        assert ids(index.match("the kettle")) == [KETTLE.order_id]
        assert index.match("the mug").kind is MatchKind.NONE


@pytest.mark.parametrize(
    "text", ["SO-1002392", "the headphones", "耳机", "the one from last week", "SO-100239"]
)
def test_the_orders_order_does_not_change_the_answer(text: str) -> None:
    """The repository reads the orders in no particular order: ties are broken by date,
    then id, never by position."""
    forward = CandidateIndex(DESCRIBED).match(text, now=NOW)
    assert forward.best
    assert CandidateIndex(DESCRIBED[::-1]).match(text, now=NOW) == forward


def test_an_exact_number_wins_however_many_newer_orders_fit_the_description() -> None:
    """Only the best few scores are decided on: an exact number must be among them when
    many newer orders describe as well (all score 100)."""
    same = [order(n, f"SO-{2_000_000 + n}", "Bluetooth Headphones", days_ago=1) for n in range(9)]
    target = order(99, "SO-1002392", "Bluetooth Headphones", days_ago=30)
    match = CandidateIndex([*same, target]).match("SO-1002392 bluetooth headphones", now=NOW)
    assert (match.kind, ids(match)) == (MatchKind.EXACT, [99])


def test_a_candidate_carries_every_item_name_translation_and_attribute() -> None:
    placed_at = NOW - timedelta(days=2)
    stored = Order(id=7, number="SO-1002391", placed_at=placed_at)
    stored.items = [
        OrderItem(
            name="Bluetooth Headphones", names={"zh": "蓝牙耳机"}, attributes={"color": "blue"}
        ),
        OrderItem(name="Gift Wrapping", names={}, attributes={}),
    ]
    candidate = candidate_of(stored)
    assert candidate == OrderCandidate(
        7, "SO-1002391", ("Bluetooth Headphones", "蓝牙耳机", "Gift Wrapping"), ("blue",), placed_at
    )
    assert match_order("蓝色耳机", [candidate]).order_id == 7
