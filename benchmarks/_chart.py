"""The chart of docs/performance.md: each consumer's time relative to the floor, a hand-made SVG.

Measures nothing; draws the medians of one run. One group of bars per scenario and slicing, one
bar per consumer (the floor itself is the 1x line), on a log scale since the peers are one to
three orders of magnitude away. Plain SVG so it needs no plotting library and diffs as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["render_svg"]

COLORS = {
    "chunkagg": "#1f77b4",
    "naive": "#8c8c8c",
    "litellm": "#2ca02c",
    "openai": "#d62728",
}
_LEFT, _RIGHT, _LINE = 170, 70, 16
_BAR, _GAP, _GROUP_GAP = 13, 3, 14
_WIDTH = 900


def render_svg(
    groups: Sequence[dict[str, Any]],
    title: str,
    subtitle: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """Draw ``groups``: ``[{"label": str, "bars": [(consumer, ratio_to_floor), ...]}, ...]``.

    ``subtitle`` lines go under the title, ``notes`` lines under the axis.
    """
    ratios = [r for g in groups for _, r in g["bars"] if r > 0]
    least = min([0.5, *ratios])
    lo = 0.5 if least >= 0.5 else 10 ** math.floor(math.log10(least))
    hi = 10 ** math.ceil(math.log10(max([2.0, *ratios])))
    plot_w = _WIDTH - _LEFT - _RIGHT

    def x(ratio: float) -> float:
        return _LEFT + plot_w * (math.log10(ratio) - math.log10(lo)) / math.log10(hi / lo)

    legend_y = 40 + _LINE * len(subtitle)
    top = legend_y + 34
    bottom = top + sum(len(g["bars"]) * (_BAR + _GAP) + _GROUP_GAP for g in groups)
    height = bottom + 36 + _LINE * len(notes)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f'<rect width="{_WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{_WIDTH / 2}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for i, line in enumerate(subtitle):
        out.append(
            f'<text x="{_WIDTH / 2}" y="{40 + _LINE * i}" text-anchor="middle" fill="#555">'
            f"{escape(line)}</text>"
        )
    # Legend.
    lx = _LEFT
    for name, color in COLORS.items():
        out.append(f'<rect x="{lx}" y="{legend_y}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{lx + 17}" y="{legend_y + 10}">{name}</text>')
        lx += 95
    out.append(
        f'<line x1="{lx}" y1="{legend_y + 6}" x2="{lx + 14}" y2="{legend_y + 6}" stroke="black" '
        'stroke-dasharray="4 2"/>'
    )
    out.append(f'<text x="{lx + 19}" y="{legend_y + 10}">floor (1x)</text>')
    # Grid: one line per power of ten, labelled.
    ticks = [lo]
    while ticks[-1] < hi:
        ticks.append(10 ** (math.floor(math.log10(ticks[-1]) + 1e-9) + 1))
    for decade in ticks:
        gx = x(decade)
        out.append(
            f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{bottom}" stroke="#e3e3e3"/>'
        )
        out.append(
            f'<text x="{gx:.1f}" y="{bottom + 15}" text-anchor="middle" fill="#555">'
            f"{decade:g}x</text>"
        )
    # The floor, under the bars and their labels.
    fx = x(1.0)
    out.append(
        f'<line x1="{fx:.1f}" y1="{top - 8}" x2="{fx:.1f}" y2="{bottom}" stroke="black" '
        'stroke-dasharray="4 2"/>'
    )
    # Bars.
    y = top
    for group in groups:
        bars = group["bars"]
        group_h = len(bars) * (_BAR + _GAP) - _GAP
        out.append(
            f'<text x="{_LEFT - 10}" y="{y + group_h / 2 + 4:.1f}" text-anchor="end" '
            f'font-weight="bold">{escape(group["label"])}</text>'
        )
        for name, ratio in bars:
            color = COLORS.get(name, "#444")
            x0 = x(lo)
            x1 = x(ratio) if ratio > 0 else x0
            label = _ratio(ratio)
            out.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{_BAR}" '
                f'fill="{color}"><title>{escape(name)}: {label} the floor</title></rect>'
            )
            out.append(f'<text x="{x1 + 4:.1f}" y="{y + _BAR - 2}" fill="#333">{label}</text>')
            y += _BAR + _GAP
        y += _GROUP_GAP - _GAP
    out.append(
        f'<text x="{_LEFT + plot_w / 2}" y="{bottom + 31}" text-anchor="middle" fill="#555">'
        "time per stream / floor time (log scale; lower is better)</text>"
    )
    for i, line in enumerate(notes):
        out.append(
            f'<text x="12" y="{bottom + 31 + _LINE * (i + 1)}" fill="#555" font-size="11">'
            f"{escape(line)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _ratio(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}x"
    return f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"
