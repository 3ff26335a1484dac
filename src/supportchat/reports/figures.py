"""Summaries of many values: count, mean, median, 90th percentile (the statistics every time figure shows).

- **mean**: the arithmetic mean;
- **median**: the middle value, or the mean of the two middle values;
- **p90**: the nearest-rank 90th percentile, the value at rank ⌈0.9·n⌉ of the
  sorted values (so always one of the values, easy to check by hand).

Values are taken to the microsecond (:func:`micros`: the clock's own
resolution) and summed as integers, so a mean is exact and the same whether
Python or a database adds the values up; the median and p90 are values at
ranks (:func:`median_ranks`, :func:`p90_rank`), which a database can pick
exactly too (``reports.sql`` asks for the values at these ranks). Figures are
rounded to :data:`DECIMALS` decimals once, here, so the JSON, the CSV, the CLI
and the panel show the same digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

__all__ = [
    "DECIMALS",
    "SATISFIED_SCORE",
    "CsatFigure",
    "SlaFigure",
    "Summary",
    "TimeFigure",
    "csat",
    "csat_of",
    "median_ranks",
    "micros",
    "p90_rank",
    "sla_of",
    "summarize",
    "summary_of",
    "wanted_ranks",
]

DECIMALS = 3
#: A rating at least this high counts as satisfied.
SATISFIED_SCORE = 4
_MICRO = 1_000_000


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


class SlaFigure(BaseModel):
    """SLA attainment of one target: deadlines decided, how many within target, and their share."""

    count: int
    attained: int
    share: float | None = Field(default=None, description="Share of deadlines within target, from 0 to 1.")


def _round(value: float) -> float:
    return round(value, DECIMALS)


def micros(seconds: float) -> int:
    """``seconds`` as whole microseconds (how every time value is summed and ranked)."""
    return round(seconds * _MICRO)


def median_ranks(count: int) -> tuple[int, int]:
    """The 1-based ranks whose values' mean is the median (one rank twice when ``count`` is odd)."""
    middle = count // 2
    return (middle + 1, middle + 1) if count % 2 else (middle, middle + 1)


def p90_rank(count: int) -> int:
    """The 1-based nearest rank of the 90th percentile: ⌈0.9·count⌉ (integer arithmetic, so exact)."""
    return -(-9 * count // 10)


def summary_of(count: int, total: int, at_rank: Mapping[int, int]) -> Summary:
    """The summary of ``count`` values (microseconds) adding up to ``total``, given the values at the needed ranks."""
    if not count:
        return Summary(count=0)
    low, high = median_ranks(count)
    median = (at_rank[low] + at_rank[high]) / 2 / _MICRO
    return Summary(
        count=count,
        mean=_round(total / count / _MICRO),
        median=_round(median),
        p90=_round(at_rank[p90_rank(count)] / _MICRO),
    )


def summarize(values: Sequence[float]) -> Summary:
    """The summary of ``values`` (seconds, any order)."""
    ordered = sorted(micros(value) for value in values)
    ranks = {rank: ordered[rank - 1] for rank in wanted_ranks(len(ordered))}
    return summary_of(len(ordered), sum(ordered), ranks)


def wanted_ranks(count: int) -> set[int]:
    """The ranks :func:`summary_of` reads for ``count`` values."""
    return {*median_ranks(count), p90_rank(count)} if count else set()


def csat_of(count: int, total: float, satisfied: int) -> CsatFigure:
    """The CSAT figure of ``count`` scores adding up to ``total``, ``satisfied`` of them ≥ :data:`SATISFIED_SCORE`."""
    if not count:
        return CsatFigure(count=0)
    return CsatFigure(count=count, mean=_round(total / count), satisfied_share=_round(satisfied / count))


def csat(scores: Sequence[float]) -> CsatFigure:
    """The CSAT figure of ``scores`` (1–5 each)."""
    return csat_of(len(scores), math.fsum(scores), sum(1 for score in scores if score >= SATISFIED_SCORE))


def sla_of(count: int, attained: int) -> SlaFigure:
    """The attainment of ``count`` decided deadlines, ``attained`` of them within target."""
    return SlaFigure(count=count, attained=attained, share=_round(attained / count) if count else None)
