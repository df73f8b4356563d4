"""Server-side SVG charts: escaped, CSP-safe, and readable with one data point."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hirondelle.portal.services.charts import line_chart


def _xs(svg: str, series: str) -> list[float]:
    points = re.search(rf'points="([^"]+)" data-series="{series}"', svg).group(1)
    return [float(p.split(",")[0]) for p in points.split()]


def test_a_single_day_still_draws_a_step_across_the_chart() -> None:
    today = date.today()
    svg = line_chart({"mastodon": [(today, 3.0)]}, title="t", width=640)
    xs = _xs(svg, "mastodon")
    assert min(xs) > 48  # the rise is not glued to the axis
    assert max(xs) == 640 - 16  # and the level carries on to today


def test_values_rise_over_time_and_text_is_escaped() -> None:
    start = date.today() - timedelta(days=30)
    svg = str(
        line_chart(
            {"bluesky": [(start, 1.0), (start + timedelta(days=10), 4.0)]},
            title="<script>alert(1)</script>",
            y_max=10,
        )
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert " style=" not in svg
    xs = _xs(svg, "bluesky")
    assert xs == sorted(xs)


def test_an_empty_chart_says_so() -> None:
    svg = line_chart({"mastodon": [], "bluesky": []}, title="nothing yet")
    assert "polyline" not in svg
    assert "<title>nothing yet</title>" in svg
