"""Staff portal: series, their date exceptions, and closures of one's own locations."""

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.extensions import db
from app.models import (
    ConsultationHours,
    ExceptionKind,
    Location,
    LocationClosure,
    Organisation,
    SeriesException,
    SeriesStatus,
)
from app.permissions import Action, authorize, can, visible_series
from app.portal.forms import ClosureForm, ExceptionForm, SeriesForm
from app.portal.series_form import (
    apply_domain_error,
    fill_series_form,
    prepare_series_form,
    series_data,
)
from app.services import DomainError
from app.services import series as series_service
from app.services.schedule import occurrences
from app.web.htmx import redirect_to, render

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
@login_required
def require_login() -> None:
    """Every portal page is for logged-in staff only."""


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


@bp.route("/")
def dashboard():
    """Show the series the user's organisation holds, hosts, and the coming week."""
    series = db.session.scalars(
        visible_series(current_user).order_by(ConsultationHours.title)
    ).all()
    own = [s for s in series if s.provider_id == current_user.organisation_id]
    guests = [s for s in series if s.provider_id != current_user.organisation_id]
    today = clock.today()
    week = occurrences(series, today, today + timedelta(days=6), include_cancelled=True)
    may_create = can(current_user, Action.CREATE_SERIES, current_user.organisation)
    return render("portal/dashboard.html", own=own, guests=guests, week=week, may_create=may_create)


@bp.route("/series/new", methods=["GET", "POST"])
def series_new():
    """Create a new series (saved as a draft)."""
    authorize(current_user, Action.CREATE_SERIES, current_user.organisation)
    form = prepare_series_form(SeriesForm(), current_user)
    return _series_form_response(form, None)


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
def series_edit(series_id: int):
    """Edit a series of the user's organisation."""
    series = _get_or_404(ConsultationHours, series_id)
    authorize(current_user, Action.EDIT_SERIES, series)
    form = prepare_series_form(SeriesForm(), current_user, series)
    if request.method == "GET":
        fill_series_form(form, series)
    return _series_form_response(form, series)


def _series_form_response(form: SeriesForm, series: ConsultationHours | None):
    """Validate and save the series form, or show the dates it would produce (preview)."""
    wants_preview = bool(request.form.get("preview"))
    preview = None
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            data = series_data(form)
            try:
                authorize(current_user, Action.CREATE_SERIES, data.provider)
                if wants_preview:
                    series_service.validate(data)
                    preview = series_service.preview(data)
                    status = 200
                else:
                    saved = series_service.save_series(series, data, current_user)
                    flash(_("The hours have been saved."), "success")
                    return redirect_to(url_for("portal.series_detail", series_id=saved.id))
            except DomainError as error:
                apply_domain_error(form, error)
    return render(
        "portal/series_form.html",
        block="preview" if wants_preview else "series_form",
        status=status,
        form=form,
        series=series,
        preview=preview,
    )


@bp.route("/series/<int:series_id>")
def series_detail(series_id: int):
    """Show a series: its details, the coming dates, and its date exceptions."""
    series = _get_or_404(ConsultationHours, series_id)
    authorize(current_user, Action.VIEW, series)
    return _render_detail(series, ExceptionForm())


def _render_detail(series: ConsultationHours, exception_form: ExceptionForm, status: int = 200):
    today = clock.today()
    coming = occurrences([series], today, today + timedelta(weeks=8), include_cancelled=True)
    exceptions = db.session.scalars(
        sa.select(SeriesException)
        .where(SeriesException.series_id == series.id, SeriesException.date >= today)
        .order_by(SeriesException.date)
    ).all()
    return render(
        "portal/series_detail.html",
        block="exceptions" if status == 422 else None,
        status=status,
        series=series,
        coming=coming,
        exceptions=exceptions,
        exception_form=exception_form,
        may_edit=can(current_user, Action.EDIT_SERIES, series),
        next_statuses=series_service.ALLOWED_STATUS_CHANGES[series.status],
    )


@bp.route("/series/<int:series_id>/status", methods=["POST"])
def series_status(series_id: int):
    """Publish, pause or resume a series."""
    series = _get_or_404(ConsultationHours, series_id)
    authorize(current_user, Action.EDIT_SERIES, series)
    try:
        status = SeriesStatus(request.form.get("status", ""))
        series_service.set_status(series, status)
    except (ValueError, DomainError):
        flash(_("This change of status is not possible."), "error")
    else:
        messages = {
            SeriesStatus.PUBLISHED: _("The hours are published. Residents can see them now."),
            SeriesStatus.PAUSED: _("The hours are paused. Residents no longer see them."),
        }
        flash(messages.get(status, _("The status has been changed.")), "success")
    return redirect_to(url_for("portal.series_detail", series_id=series.id))


@bp.route("/series/<int:series_id>/exceptions", methods=["POST"])
def exception_add(series_id: int):
    """Cancel a date, change its times, or add an extra date."""
    series = _get_or_404(ConsultationHours, series_id)
    authorize(current_user, Action.EDIT_SERIES, series)
    form = ExceptionForm()
    if form.validate():
        try:
            series_service.add_exception(
                series,
                day=form.date.data,
                kind=ExceptionKind(form.kind.data),
                start_time=form.start_time.data,
                end_time=form.end_time.data,
                reason=form.reason.data or "",
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("The change has been saved."), "success")
            return redirect_to(url_for("portal.series_detail", series_id=series.id))
    return _render_detail(series, form, status=422)


@bp.route("/series/<int:series_id>/exceptions/<int:exception_id>/delete", methods=["POST"])
def exception_delete(series_id: int, exception_id: int):
    """Remove a date exception: the date follows the normal pattern again."""
    series = _get_or_404(ConsultationHours, series_id)
    authorize(current_user, Action.EDIT_SERIES, series)
    exception = _get_or_404(SeriesException, exception_id)
    if exception.series_id != series.id:
        abort(404)
    series_service.remove_exception(exception)
    flash(_("The change has been removed."), "success")
    return redirect_to(url_for("portal.series_detail", series_id=series.id))


@bp.route("/locations")
def locations():
    """List the locations of the user's organisation with the hours held there."""
    org: Organisation = current_user.organisation
    return render("portal/locations.html", organisation=org, locations=org.locations)


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
def location_detail(location_id: int):
    """Show a location's hours (own and guests') and manage its closures."""
    location = _get_or_404(Location, location_id)
    authorize(current_user, Action.VIEW, location)
    may_close = can(current_user, Action.CLOSE_LOCATION, location)
    form = ClosureForm()
    status = 200
    if request.method == "POST":
        authorize(current_user, Action.CLOSE_LOCATION, location)
        if form.validate():
            try:
                series_service.close_location(
                    location,
                    start=form.start_date.data,
                    end=form.end_date.data,
                    reason=form.reason.data,
                    user=current_user,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                flash(_("The location is closed on these dates."), "success")
                return redirect_to(url_for("portal.location_detail", location_id=location.id))
        status = 422
    today = clock.today()
    hosted = db.session.scalars(
        visible_series(current_user)
        .where(ConsultationHours.location_id == location.id)
        .order_by(ConsultationHours.title)
    ).all()
    closures = db.session.scalars(
        sa.select(LocationClosure)
        .where(LocationClosure.location_id == location.id, LocationClosure.end_date >= today)
        .order_by(LocationClosure.start_date)
    ).all()
    return render(
        "portal/location_detail.html",
        block="closures" if status == 422 else None,
        status=status,
        location=location,
        hosted=hosted,
        closures=closures,
        form=form,
        may_close=may_close,
    )


@bp.route("/locations/<int:location_id>/closures/<int:closure_id>/delete", methods=["POST"])
def closure_delete(location_id: int, closure_id: int):
    """Reopen a location: remove a closure."""
    location = _get_or_404(Location, location_id)
    authorize(current_user, Action.CLOSE_LOCATION, location)
    closure = _get_or_404(LocationClosure, closure_id)
    if closure.location_id != location.id:
        abort(404)
    series_service.remove_closure(closure)
    flash(_("The closure has been removed."), "success")
    return redirect_to(url_for("portal.location_detail", location_id=location.id))


from app.portal import waiting_routes  # noqa: E402,F401  (the waiting-list pages)
