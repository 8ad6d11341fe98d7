"""``months.month_spans``: how a long range is cut for work done a span of months at a time."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from sales360_assets.months import month_spans, month_start, next_month


def test_a_small_history_is_one_span_and_a_large_one_a_span_per_month() -> None:
    start, end = date(2024, 1, 15), date(2024, 4, 10)
    counts = {date(2024, 1, 1): 10, date(2024, 2, 1): 10, date(2024, 3, 1): 10, date(2024, 4, 1): 10}
    assert month_spans(start, end, counts, max_rows=1_000) == [(start, end)]
    assert month_spans(start, end, counts, max_rows=10) == [
        (start, date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), end),
    ]
    # A month above the limit is the only month with rows in its span; empty months join a neighbour.
    assert month_spans(start, end, {date(2024, 2, 1): 50, date(2024, 4, 1): 5}, max_rows=10) == [
        (start, date(2024, 3, 31)),
        (date(2024, 4, 1), end),
    ]
    assert month_spans(end, start, counts, max_rows=10) == []


def test_spans_tile_the_range_and_hold_at_most_the_limit_unless_one_month_holds_the_rows() -> None:
    rng = random.Random(5)
    for _ in range(300):
        start = date(2023, 1, 1) + timedelta(days=rng.randrange(700))
        end = start + timedelta(days=rng.randrange(900))
        counts = {}
        month = month_start(start)
        while month <= end:
            counts[month] = rng.choice([0, 0, 1, 5, 20, 80])
            month = next_month(month)
        limit = rng.choice([1, 10, 50, 200])

        spans = month_spans(start, end, counts, limit)

        assert spans[0][0] == start and spans[-1][1] == end
        for (_, last), (first, _) in itertools.pairwise(spans):
            assert first == last + timedelta(days=1) and first.day == 1  # contiguous, cut at month starts
        for first, last in spans:
            months = [m for m in counts if month_start(first) <= m <= last]
            with_rows = [m for m in months if counts[m]]
            assert len(with_rows) <= 1 or sum(counts[m] for m in months) <= limit
        # Greedy: no two neighbouring spans would fit in one.
        for a, b in itertools.pairwise(spans):
            together = sum(counts[m] for m in counts if month_start(a[0]) <= m <= b[1])
            assert together > limit
