"""Summaries of many values: count, mean, median, 90th percentile (the statistics every time figure shows).

- **mean**: the arithmetic mean;
- **median**: the middle value, or the mean of the two middle values;
- **p90**: the nearest-rank 90th percentile, the value at rank ⌈0.9·n⌉ of the
  sorted values (so always one of the values, easy to check by hand).

Figures are rounded to :data:`DECIMALS` decimals once, here, so the JSON, the
CSV, the CLI and the panel show the same digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

__all__ = ["DECIMALS", "CsatFigure", "Summary", "TimeFigure", "csat", "summarize"]

DECIMALS = 3


class Summary(BaseModel):
    """Count, mean, median and p90 of a set of values (``None`` when there are none)."""

    count: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class TimeFigure(BaseModel):
    """A time figure in seconds: wall-clock, and business time (count 0 without a calendar)."""

    wall: Summary
    business: Summary


class CsatFigure(BaseModel):
    """Satisfaction: how many ratings, their mean score, and the share scoring 4 or 5."""

    count: int
    mean: float | None = None
    satisfied_share: float | None = Field(default=None, description="Share of ratings of 4 or 5, from 0 to 1.")


def _round(value: float) -> float:
    return round(value, DECIMALS)


def summarize(values: Sequence[float]) -> Summary:
    """The summary of ``values`` (any order)."""
    if not values:
        return Summary(count=0)
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p90 = ordered[math.ceil(0.9 * n) - 1]
    return Summary(count=n, mean=_round(math.fsum(ordered) / n), median=_round(median), p90=_round(p90))


def csat(scores: Sequence[float]) -> CsatFigure:
    """The CSAT figure of ``scores`` (1–5 each)."""
    if not scores:
        return CsatFigure(count=0)
    satisfied = sum(1 for score in scores if score >= 4)
    n = len(scores)
    return CsatFigure(count=n, mean=_round(math.fsum(scores) / n), satisfied_share=_round(satisfied / n))
