"""The baselines of the page benchmark, served by the same gunicorn setup as Spreekuur.

``/bare`` is a bare Flask route ("ok"); ``/jinja?bytes=N`` a bare Jinja page of about N
bytes: a small layout around a list of links, as a page of hours is, with no database.

    gunicorn --pythonpath bench bare_app:app
"""

from flask import Flask, request

app = Flask(__name__)

PAGE = app.jinja_env.from_string(
    """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><header><a href="/">Spreekuur</a></header><main><h1>{{ title }}</h1><ul>
{% for row in rows %}<li><a href="/spreekuren/{{ row }}">Spreekuur {{ row }}</a>
<span>maandag {{ row % 28 + 1 }} december</span> <span>09:00 tot 11:00</span></li>
{% endfor %}</ul></main></body></html>"""
)
_rows_for: dict[int, int] = {}


def _render(rows: int) -> str:
    return PAGE.render(title="Spreekuren", rows=range(rows))


def rows_for(size: int) -> int:
    """How many rows make a page of about ``size`` bytes."""
    if size not in _rows_for:
        empty = len(_render(0).encode())
        row = len(_render(1).encode()) - empty
        _rows_for[size] = max(round((size - empty) / row), 0)
    return _rows_for[size]


@app.route("/bare")
def bare():
    return "ok"


@app.route("/jinja")
def jinja():
    size = request.args.get("bytes", 0, type=int)
    return _render(rows_for(min(max(size, 0), 50_000_000)))
