"""Server-side SVG charts: escaped, CSP-safe, and readable with one data point."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import translation

from hirondelle.portal.services.charts import line_chart


def _xs(svg: str, series: str) -> list[float]:
    points = re.search(rf'points="([^"]+)" data-series="{series}"', svg).group(1)
    return [float(p.split(",")[0]) for p in points.split()]


def test_a_single_day_still_draws_a_step_across_the_chart() -> None:
    today = date.today()
    svg = line_chart({"mastodon": [(today, 3.0)]}, title="t", width=640)
    xs = _xs(svg, "mastodon")
    assert min(xs) > 52  # the rise is not glued to the axis
    assert max(xs) == 640 - 12  # and the level carries on to today


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


def test_the_axis_fits_the_data_and_dates_stay_inside() -> None:
    """2.4 % is not drawn as a flat line on a 0–100 axis, and no date is cut."""
    start = date.today() - timedelta(days=20)
    svg = str(
        line_chart(
            {"mastodon": [(start, 1.0), (start + timedelta(days=5), 2.4)]}, title="t", percent=True
        )
    )
    labels = re.findall(r'font-size="13" fill="#333">([^<]+)<', svg)
    assert "2,5 %" in labels  # the top of the axis, just above the data, in French
    assert "100 %" not in labels
    with translation.override("en"):
        english = str(line_chart({"mastodon": [(start, 2.4)]}, title="t", percent=True))
    assert "2.5 %" in re.findall(r'font-size="13" fill="#333">([^<]+)<', english)
    ys = [float(p.split(",")[1]) for p in re.search(r'points="([^"]+)"', svg).group(1).split()]
    assert max(ys) - min(ys) > 100  # the rise fills most of the height
    assert 'text-anchor="start"' in svg  # the first date starts at the axis
    assert svg.count('text-anchor="end"') >= 4  # the last date ends inside the picture
