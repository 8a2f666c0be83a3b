"""Turning timed rounds into table rows: medians, ratios to the baseline, targets."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Metric", "Row", "Target", "markdown_table", "missing_row", "summarize"]

TIMES = "\N{MULTIPLICATION SIGN}"
EN_DASH = "\N{EN DASH}"


def times(ratio: float) -> str:
    """A ratio as the table shows it, such as ``1.23`` followed by a multiplication sign."""
    return f"{ratio:.2f}{TIMES}"


@dataclass(frozen=True)
class Target:
    """A bound on the ratio to the baseline, or (``absolute``) on the value itself."""

    bound: float
    upper: bool = True
    absolute: bool = False
    unit: str = ""  # of the bound, when it is absolute

    def text(self) -> str:
        sign = "≤" if self.upper else "≥"
        suffix = f" {self.unit}" if self.absolute else TIMES
        return f"{sign} {self.bound:g}{suffix}"

    def met(self, value: float, ratio: float) -> bool:
        measured = value if self.absolute else ratio
        return measured <= self.bound if self.upper else measured >= self.bound


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    measurement: str
    contender: str
    value: str
    ratio: str
    target: str = "—"
    verdict: str = ""
    missed: str | None = None  # the MISSED line to print under the table


@dataclass(frozen=True)
class Metric:
    """How a block's seconds become the reported value."""

    unit: str
    convert: Callable[[float], float]
    digits: int = 0


def summarize(
    measurement: str,
    samples: Mapping[str, Sequence[float]],
    *,
    baseline: str,
    metric: Metric,
    targets: Mapping[str, Target],
    best_of: bool = False,
) -> list[Row]:
    """Rows for one measurement; ``samples[name][i]`` is that contender's round *i*.

    The value is the median over rounds (the minimum when *best_of*), and the ratio
    is the median of the per-round ratios to *baseline* (the ratio of the minima
    when *best_of*), shown with its range over the rounds.
    """
    base = [metric.convert(s) for s in samples[baseline]]
    rows = []
    for name, seconds in samples.items():
        values = [metric.convert(s) for s in seconds]
        if best_of:
            value = min(values)
            ratio = value / min(base)
            ratio_text = times(ratio)
        else:
            value = statistics.median(values)
            ratios = [v / b for v, b in zip(values, base, strict=True)]
            ratio = statistics.median(ratios)
            ratio_text = times(ratio)
            if len(ratios) > 1:
                ratio_text += f" ({min(ratios):.2f}{EN_DASH}{max(ratios):.2f})"
        value_text = f"{value:,.{metric.digits}f} {metric.unit}"
        if name == baseline:
            ratio_text = f"{times(1)} (baseline)"
        target = targets.get(name)
        if target is None:
            rows.append(Row(measurement, name, value_text, ratio_text))
            continue
        met = target.met(value, ratio)
        missed = None
        if not met:
            shown = value_text if target.absolute else times(ratio)
            missed = f"MISSED: {measurement} / {name}: {shown}, target {target.text()}"
        verdict = "pass" if met else "**MISSED**"
        rows.append(Row(measurement, name, value_text, ratio_text, target.text(), verdict, missed))
    return rows


def missing_row(measurement: str, contender: str, note: str = "not installed") -> Row:
    """The row of a contender that did not run, because a package it needs is not installed."""
    return Row(measurement, contender, note, "—")


def markdown_table(rows: Sequence[Row]) -> str:
    """A Markdown table with aligned columns."""
    header = ("measurement", "contender", "value", "ratio to raw aiohttp", "target", "pass/fail")
    cells = [header] + [
        (r.measurement, r.contender, r.value, r.ratio, r.target, r.verdict) for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    right = {2, 3}  # numbers read best right-aligned

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])
