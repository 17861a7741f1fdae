"""Figures for an organisation, a location and the network: a page with charts and tables,
a printable report, the charts as SVG images and the counts as CSV and XLSX downloads.

Counts only, never a resident. Who may see which figures is decided in app/permissions.py.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from openpyxl import Workbook
from openpyxl.styles import Font

from app import clock, labels
from app.extensions import db
from app.figures import charts
from app.figures.forms import PeriodForm
from app.i18n import current_language
from app.models import Channel, HowHelped, Location, Organisation
from app.permissions import Action, authorize, figure_scopes, require
from app.referrals.labels import REFERRAL_STATUS
from app.services import figures
from app.services.deliveries import CHANNEL_LABEL
from app.services.figures import Period, Scope
from app.web.htmx import render
from app.web.params import query_date

bp = Blueprint("figures", __name__, url_prefix="/portal/figures")

SCOPE_KINDS = "any(organisation, location)"
CHARTS = "any(time, categories, channels, how_helped)"


@bp.before_request
@login_required
def require_login() -> None:
    """Figures are for logged-in staff only."""


def _scope(kind: str, scope_id: int | None) -> Scope:
    """The scope in the address, once the user may see its figures (else 403 or 404)."""
    if kind == "network":
        require(current_user, Action.FIGURES)
        return Scope.of(None)
    model = Organisation if kind == "organisation" else Location
    obj = db.session.get(model, scope_id)
    authorize(current_user, Action.FIGURES, obj)
    return Scope.of(obj)


def _period() -> Period:
    """The period asked for in the query string; the current month by default."""
    kind = request.args.get("period", "month")
    if kind not in figures.PERIOD_KINDS:
        abort(404)
    today = clock.today()
    if kind == "range":
        first = query_date("first", today.replace(day=1))
        return figures.period_for(kind, first, query_date("last", today))
    return figures.period_for(kind, query_date("day", today))


def period_args(period: Period) -> dict[str, str]:
    """The query string that asks for ``period`` again."""
    if period.kind == "range":
        return {
            "period": "range",
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
        }
    return {"period": period.kind, "day": period.first.isoformat()}


def _neighbours(period: Period) -> tuple[Period, Period] | None:
    """The period before and after, for month, quarter and year."""
    if period.kind == "range":
        return None
    before = figures.period_for(period.kind, period.first - timedelta(days=1))
    after = figures.period_for(period.kind, period.last + timedelta(days=1))
    return before, after


def period_label(period: Period) -> str:
    """The period in words: "March 2026", "Quarter 1 2026", "2026", or the two dates."""
    if period.kind == "month":
        return format_date(period.first, "LLLL y")
    if period.kind == "quarter":
        return _("Quarter %(n)s %(year)s", n=(period.first.month + 2) // 3, year=period.first.year)
    if period.kind == "year":
        return str(period.first.year)
    first, last = format_date(period.first, "d MMMM y"), format_date(period.last, "d MMMM y")
    return _("%(first)s to %(last)s", first=first, last=last)


def _endpoint_args(scope: Scope) -> dict:
    return {"kind": scope.kind} | ({"scope_id": scope.id} if scope.id else {})


def _scope_links(current: Scope, period: Period) -> list[tuple[str, str, bool]]:
    """The figures the user may switch to: (name, address, whether it is this one)."""
    links = []
    for obj in figure_scopes(current_user):
        scope = Scope.of(obj)
        name = _("The whole network") if obj is None else scope.name
        address = url_for("figures.page", **_endpoint_args(scope), **period_args(period))
        links.append((name, address, scope == current))
    return links


def _channels(rows: list[figures.Row]) -> list[figures.Row]:
    """Channel rows carry their enum value: give them their label in the user's language."""
    for row in rows:
        row.label = str(labels.CHANNEL[Channel(row.key)])
    return rows


def _how_helped(rows: list[figures.Row]) -> list[figures.Row]:
    for row in rows:
        row.label = str(labels.HOW_HELPED[HowHelped(row.key)])
    return rows


def _labelled(fig: figures.Figures) -> figures.Figures:
    _channels(fig.channels)
    _how_helped(fig.how_helped)
    return fig


def _context(kind: str, scope_id: int | None) -> dict:
    scope = _scope(kind, scope_id)
    period = _period()
    fig = _labelled(figures.figures(scope, period, current_language()))
    scope_name = _("The whole network") if scope.kind == "network" else scope.name
    form = PeriodForm(
        data={
            "period": period.kind,
            "day": period.first if period.kind != "range" else clock.today(),
            "first": period.first,
            "last": period.last,
        }
    )
    args = _endpoint_args(scope) | period_args(period)
    return {
        "fig": fig,
        "form": form,
        "scope_name": scope_name,
        "period_text": period_label(period),
        "args": args,
        "page_address": url_for("figures.page", **_endpoint_args(scope)),
        "neighbours": [
            (label, url_for("figures.page", **_endpoint_args(scope), **period_args(p)))
            for label, p in zip((_("Previous"), _("Next")), _neighbours(period) or (), strict=False)
        ],
        "scope_links": _scope_links(scope, period),
        "by_month": figures.time_unit(period) == "month",
        "status_labels": REFERRAL_STATUS,
    }


@bp.route("")
def index():
    """Open the first figures the user may see: the network's or their organisation's."""
    scopes = figure_scopes(current_user)
    if not scopes:
        abort(403)
    scope = Scope.of(scopes[0])
    return redirect(url_for("figures.page", **_endpoint_args(scope)))


@bp.route("/network", defaults={"kind": "network", "scope_id": None})
@bp.route(f"/<{SCOPE_KINDS}:kind>/<int:scope_id>")
def page(kind: str, scope_id: int | None):
    """The figures of a period: charts with their numbers as tables beside them."""
    return render("figures/page.html", block="figures", **_context(kind, scope_id))


@bp.route("/network/report", defaults={"kind": "network", "scope_id": None})
@bp.route(f"/<{SCOPE_KINDS}:kind>/<int:scope_id>/report")
def report(kind: str, scope_id: int | None):
    """The same figures as a report to print on A4 for the municipality."""
    return render("figures/report.html", **_context(kind, scope_id))


@bp.route(
    f"/network/chart/<{CHARTS}:chart>.svg",
    defaults={"kind": "network", "scope_id": None},
)
@bp.route(f"/<{SCOPE_KINDS}:kind>/<int:scope_id>/chart/<{CHARTS}:chart>.svg")
def chart(kind: str, scope_id: int | None, chart: str):
    """One chart as an SVG image (shown in an <img>, beside a table of the same numbers)."""
    scope, period = _scope(kind, scope_id), _period()
    if chart == "time":
        days = figures.per_day(scope, period)
        unit = figures.time_unit(period)
        rows = figures.fold(days, period, unit)
        svg = charts.over_time(rows, unit)
    elif chart == "categories":
        svg = charts.bars(
            _("Questions per category"), figures.by_category(scope, period, current_language())
        )
    elif chart == "channels":
        svg = charts.bars(_("Contacts per channel"), _channels(figures.by_channel(scope, period)))
    else:
        rows = _how_helped(figures.by_how_helped(scope, period))
        svg = charts.bars(_("Questions by how the resident was helped"), rows)
    return charts.svg_response(svg)


def _export_rows(scope: Scope, period: Period) -> list[list]:
    """The download's rows: a title, the totals, then one block per breakdown."""
    data = figures.export(scope, period, current_language())
    scope_name = _("The whole network") if scope.kind == "network" else scope.name
    rows: list[list] = [
        [_("Figures"), scope_name],
        [_("From"), period.first.isoformat()],
        [_("To"), period.last.isoformat()],
        [_("Contacts"), data.contacts],
        [_("Questions"), data.questions],
    ]
    blocks = [
        (_("Category"), _("Questions"), data.categories),
        (_("Channel"), _("Contacts"), _channels(data.channels)),
        (_("How helped"), _("Questions"), _how_helped(data.how_helped)),
        (_("Location"), _("Questions"), data.locations),
    ]
    for heading, unit, block in blocks:
        rows += [[], [heading, unit], *[[r.label, r.count] for r in block]]
    by_series, by_provider = figures.appointments(scope, period)
    for heading, block in ((_("Help session"), by_series), (_("Organisation"), by_provider)):
        rows += [
            [],
            [
                heading,
                _("Booked"),
                _("Came"),
                _("Did not come"),
                _("Not attended, percent of marked"),
            ],
            *[[r.label, r.booked, r.attended, r.no_show, r.no_show_rate] for r in block],
        ]
    rows += _course_rows(figures.course_organisations(figures.courses(scope, period)))
    rows += [
        [],
        [_("Messages to residents"), _("Sent"), _("Failed, will be tried again"), _("Given up")],
        *[
            [str(CHANNEL_LABEL[r.channel]), r.sent, r.retrying, r.given_up]
            for r in figures.messages(scope, period)
        ],
    ]
    return rows


def _course_rows(totals: list[figures.CourseOrganisationRow]) -> list[list]:
    """The period's courses per organisation: counts, and attendance as a percentage."""
    rows: list[list] = [
        [],
        [
            _("Courses per organisation"),
            _("Courses given"),
            _("Participants"),
            _("Sessions held"),
            _("Came"),
            _("Did not come"),
            _("Attendance (%)"),
        ],
    ]
    for r in totals:
        rate = round(100 * r.attendance_rate) if r.attendance_rate is not None else ""
        rows.append(
            [r.label, r.courses, r.participants, r.sessions_held, r.present, r.absent, rate]
        )
    return rows


def _download(body: bytes, mimetype: str, scope: Scope, period: Period, ext: str) -> Response:
    whose = f"{scope.kind}-{scope.id}" if scope.id else scope.kind
    name = f"figures-{whose}-{period.first}-{period.last}.{ext}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/network/export.csv", defaults={"kind": "network", "scope_id": None})
@bp.route(f"/<{SCOPE_KINDS}:kind>/<int:scope_id>/export.csv")
def export_csv(kind: str, scope_id: int | None):
    """The period's counts as CSV (semicolons, as spreadsheets in Dutch expect)."""
    scope, period = _scope(kind, scope_id), _period()
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(_export_rows(scope, period))
    # The byte-order mark tells spreadsheet programs the file is UTF-8.
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", scope, period, "csv")


@bp.route("/network/export.xlsx", defaults={"kind": "network", "scope_id": None})
@bp.route(f"/<{SCOPE_KINDS}:kind>/<int:scope_id>/export.xlsx")
def export_xlsx(kind: str, scope_id: int | None):
    """The period's counts as an Excel workbook: the same rows as the CSV."""
    scope, period = _scope(kind, scope_id), _period()
    book = Workbook()
    sheet = book.active
    sheet.title = _("Figures")[:31]
    bold = Font(bold=True)
    previous_blank = True
    for row in _export_rows(scope, period):
        sheet.append(row)
        if row and previous_blank:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        previous_blank = not row
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 14
    out = io.BytesIO()
    book.save(out)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(out.getvalue(), mimetype, scope, period, "xlsx")


@bp.app_context_processor
def figures_menu() -> dict:
    """Whether the staff menu offers figures to this user (asked when the menu is drawn)."""

    def may_see_figures() -> bool:
        return bool(figure_scopes(current_user))

    return {"may_see_figures": may_see_figures}
