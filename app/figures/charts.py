"""Charts drawn on the server with pygal, served as SVG images.

A chart is an image (``<img>`` with an alt text) beside a table with the same numbers, so
nothing depends on it: screen readers, printers and browsers without JavaScript read the
table. pygal's scripts (tooltips) are left out: the answer's own policy allows no script at
all, only the chart's own inline style.
"""

from __future__ import annotations

import math
from xml.etree import ElementTree

import pygal
from flask import Response
from flask_babel import format_date
from flask_babel import gettext as _
from pygal.style import Style

from app.services.figures import Row, TimeRow

# The site's colours (app.css), large text for reading from a distance and in print.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#555555",
    colors=("#1d5f8a", "#c0541a", "#2e7d32", "#6a1b9a"),
    font_family="system-ui, sans-serif",
    label_font_size=20,
    major_label_font_size=20,
    title_font_size=24,
    legend_font_size=20,
    value_font_size=20,
)

# The SVG answer: its inline style only; no script, no other resource, never framed.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _config(chart_class, title: str, **options):
    return chart_class(
        title=title,
        style=STYLE,
        js=[],
        show_legend=options.pop("show_legend", False),
        print_values=options.pop("print_values", True),
        width=800,
        height=options.pop("height", 400),
        margin=12,
        explicit_size=True,
        truncate_label=-1,
        **options,
    )


def _whole_numbers(largest: int) -> list[int]:
    """Axis marks at whole numbers only: counts have no fractions."""
    step = max(1, math.ceil(largest / 5))
    return list(range(0, largest + step, step))


def bars(title: str, rows: list[Row]) -> bytes:
    """Horizontal bars, one per row, largest first as in the table."""
    chart = _config(pygal.HorizontalBar, title, height=max(260, 90 + 44 * len(rows)))
    chart.y_labels = _whole_numbers(max((r.count for r in rows), default=0))
    chart.x_labels = [r.label for r in reversed(rows)] or [""]
    chart.add(title, [r.count for r in reversed(rows)] or [0])
    return _render(chart)


def over_time(rows: list[TimeRow], unit: str) -> bytes:
    """Contacts and questions per week or per month."""
    if unit == "month":
        title = _("Contacts and questions per month")
        names = [format_date(r.start, "MMM y") for r in rows]
    else:
        title = _("Contacts and questions per week")
        names = [format_date(r.start, "d MMM") for r in rows]
    chart = _config(pygal.Bar, title, show_legend=True, legend_at_bottom=True, x_label_rotation=-45)
    chart.x_labels = names
    chart.y_labels = _whole_numbers(max((r.questions for r in rows), default=0))
    chart.add(_("Contacts"), [r.contacts for r in rows])
    chart.add(_("Questions"), [r.questions for r in rows])
    return _render(chart)


def _render(chart) -> bytes:
    tree = chart.render_tree()
    # pygal writes its configuration as an inline script even without tooltips: drop it.
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)


def svg_response(svg: bytes) -> Response:
    """The chart as its own answer, with a policy that fits an image and nothing else."""
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response
