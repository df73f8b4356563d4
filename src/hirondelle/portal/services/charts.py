"""Charts as inline SVG, drawn on the server: no script, no external library.

Only presentation attributes (no `style`), so the page's CSP needs no
'unsafe-inline'. Every text is escaped.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from html import escape

from django.utils import formats
from django.utils.safestring import SafeString, mark_safe

__all__ = ["COLORS", "line_chart"]

COLORS = {"mastodon": "#6364ff", "bluesky": "#1185fe"}
_FALLBACK = ("#444", "#c0392b", "#16a085")


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def line_chart(
    series: dict[str, list[tuple[date, float]]],
    *,
    title: str,
    y_max: float | None = None,
    percent: bool = False,
    width: int = 400,
    height: int = 230,
) -> SafeString:
    """A step line per series (cumulative values over dates), with axes and a legend."""
    left, right, top, bottom = 52, 12, 30, 30
    points = [p for values in series.values() for p in values]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    if not points:
        out.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="#666">—</text>'
        )
        out.append("</svg>")
        return mark_safe("".join(out))
    last = max(max(d for d, _ in points), date.today())
    # At least a week wide, and starting before the first point, so a rise
    # shows as a step rather than a line glued to the axis.
    first = min(min(d for d, _ in points) - timedelta(days=1), last - timedelta(days=7))
    span = (last - first).days
    # The axis fits the data (2.4 % on a 0–100 axis would be a flat line).
    top_value = y_max if y_max is not None else _nice_ceiling(max(v for _, v in points))
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(d: date) -> float:
        return left + plot_w * (d - first).days / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#888"/>'
    )
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>')
    # A count of people has no half: no middle line when it would fall between two.
    fracs = (0, 0.5, 1) if percent or float(top_value / 2).is_integer() else (0, 1)
    for frac in fracs:
        value = top_value * frac
        digits = 1 if top_value < 10 and value != int(value) else 0
        label = formats.number_format(value, decimal_pos=digits, force_grouping=True)
        label = f"{label} %" if percent else label
        out.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="#333">{escape(label)}</text>'
        )
        if frac:
            out.append(
                f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" '
                'stroke="#e2e2e8"/>'
            )
    # Dates inside the picture: the first one starts at the axis, the last ends at the edge.
    for d, anchor in ((first, "start"), (last, "end")):
        out.append(
            f'<text x="{x(d):.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="13" '
            f'fill="#333">{escape(formats.date_format(d, "j N Y"))}</text>'
        )
    for i, (name, values) in enumerate(series.items()):
        color = COLORS.get(name, _FALLBACK[i % len(_FALLBACK)])
        path, previous = [], 0.0
        for d, v in sorted(values):
            path.append(f"{x(d):.1f},{y(previous):.1f} {x(d):.1f},{y(v):.1f}")
            previous = v
        path.append(f"{x(last):.1f},{y(previous):.1f}")
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(path)}" data-series="{escape(name)}"/>'
        )
        out.append(
            f'<rect x="{left + 8 + i * 120}" y="8" width="13" height="13" fill="{color}"/>'
            f'<text x="{left + 26 + i * 120}" y="19" font-size="13" fill="#222">'
            f"{escape(name.title())}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))
