"""The queue: who is waiting at a location today, taken one by one, and a display page.

Everyone may open a location's queue; it shows each user only the visits they may see (those
of their own organisation's desk, or all of them at their own location) and a count of the
others. Only the organisation whose desk it is takes, finishes and registers its visitors.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import clock
from app.extensions import db
from app.models import ConsultationHours, Location, Topic, Visit, VisitStatus
from app.permissions import Action, authorize, can, visible_visits
from app.services import registrations, visits
from app.visits.forms import WalkInForm
from app.web.changes import commit_or_explain
from app.web.filters import topic_name
from app.web.htmx import redirect_to, render
from app.web.params import whole_number

bp = Blueprint("visits", __name__, url_prefix="/portal")

REMEMBERED_LOCATION = "queue_location"


@bp.before_request
@login_required
def require_login() -> None:
    """The queue is for logged-in staff and volunteers only."""


def _location(location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    authorize(current_user, Action.QUEUE, location)
    return location


def _visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    authorize(current_user, Action.HANDLE_VISIT, visit)
    return visit


def _queue_url(location_id: int) -> str:
    return url_for("visits.queue", location_id=location_id)


@bp.route("/queue")
def choose():
    """Where the user's organisation holds or hosts hours today: straight to the only one."""
    places = visits.locations_today(current_user.organisation_id)
    if len(places) == 1:
        return redirect(_queue_url(places[0].id), code=303)
    remembered = session.get(REMEMBERED_LOCATION)
    places.sort(key=lambda place: place.id != remembered)
    return render("visits/choose.html", places=places)


def _walk_in_form(location: Location, form: WalkInForm | None = None) -> WalkInForm:
    form = form or WalkInForm()
    hours = [
        s
        for s in visits.hours_today(location, walk_in=True)
        if can(current_user, Action.ADD_VISIT, s)
    ]
    # One's own organisation's hours first: that is the usual choice.
    hours.sort(key=lambda s: (s.provider_id != current_user.organisation_id, s.title))
    form.series.choices = [SelectChoice(s.id, f"{s.provider.name} – {s.title}") for s in hours]
    if form.series.data is None and hours:
        form.series.data = hours[0].id
    form.topic.choices = [SelectChoice(0, _("No topic"))] + [
        SelectChoice(t.id, topic_name(t)) for t in registrations.categories()
    ]
    return form


def _queue_page(location: Location, form: WalkInForm | None = None, status: int = 200):
    today = visits.today_at(location, visible_visits(current_user))
    waiting = [v for v in today if v.status is VisitStatus.WAITING]
    now = clock.now()
    return render(
        "visits/queue.html",
        block="queue_lists",
        status=status,
        location=location,
        form=_walk_in_form(location, form),
        waiting=waiting,
        helped=[v for v in today if v.status is VisitStatus.BEING_HELPED],
        done=sum(v.status is VisitStatus.FINISHED for v in today),
        others_waiting=visits.waiting_count(location) - len(waiting),
        own_waiting=any(v.organisation_id == current_user.organisation_id for v in waiting),
        minutes={v.id: visits.minutes_waited(v, now) for v in today},
        may_handle=lambda v: can(current_user, Action.HANDLE_VISIT, v),
    )


@bp.route("/queue/<int:location_id>")
def queue(location_id: int):
    """Who is waiting here today and for how long; someone came in; take the next one."""
    location = _location(location_id)
    session[REMEMBERED_LOCATION] = location.id
    return _queue_page(location)


@bp.route("/queue/<int:location_id>/visits", methods=["POST"])
def add(location_id: int):
    """Someone came in: they wait with the next number (initials and topic optional)."""
    location = _location(location_id)
    series_id = whole_number(request.form.get("series"), minimum=1)
    series = db.session.get(ConsultationHours, series_id) if series_id else None
    if series is None or series.location_id != location.id:
        abort(404)
    authorize(current_user, Action.ADD_VISIT, series)
    form = _walk_in_form(location, WalkInForm())
    if form.validate_on_submit():
        topic = db.session.get(Topic, form.topic.data) if form.topic.data else None
        commit_or_explain(
            lambda: visits.add_walk_in(series, initials=form.initials.data or "", topic=topic),
            lambda visit: _("Number %(n)s is waiting.", n=visit.number),
        )
        return redirect_to(_queue_url(location.id))
    return _queue_page(location, form, status=422)


@bp.route("/queue/<int:location_id>/next", methods=["POST"])
def take_next(location_id: int):
    """Take the longest-waiting visitor of one's own organisation's desk."""
    location = _location(location_id)
    visit = visits.take_next(location, current_user)
    db.session.commit()
    if visit is None:
        flash(_("Nobody is waiting for your organisation."), "info")
    else:
        flash(_("You are helping number %(n)s.", n=visit.number), "success")
    return redirect_to(_queue_url(location.id))


@bp.route("/visits/<int:visit_id>/take", methods=["POST"])
def take(visit_id: int):
    """Take this visitor (for example an appointment that is due)."""
    visit = _visit(visit_id)
    commit_or_explain(
        lambda: visits.take(visit, current_user),
        lambda _result: _("You are helping number %(n)s.", n=visit.number),
    )
    return redirect_to(_queue_url(visit.location_id))


@bp.route("/visits/<int:visit_id>/finish", methods=["POST"])
def finish(visit_id: int):
    """The visitor has been helped: register the contact straight away."""
    visit = _visit(visit_id)
    if not commit_or_explain(lambda: visits.finish(visit, current_user)):
        return redirect_to(_queue_url(visit.location_id))
    return redirect_to(url_for("registrations.new", visit=visit.id))


@bp.route("/visits/<int:visit_id>/left", methods=["POST"])
def left(visit_id: int):
    """The visitor left without help."""
    visit = _visit(visit_id)
    commit_or_explain(
        lambda: visits.mark_left(visit),
        lambda _result: _("Number %(n)s left without help.", n=visit.number),
    )
    return redirect_to(_queue_url(visit.location_id))


@bp.route("/queue/<int:location_id>/display")
def display(location_id: int):
    """For a screen in the branch: the numbers being helped and waiting, never a name."""
    location = _location(location_id)
    today = visits.today_at(location, visits.all_visits())
    return render(
        "visits/display.html",
        block="display_numbers",
        location=location,
        called=[v for v in today if v.status is VisitStatus.BEING_HELPED],
        waiting=[v for v in today if v.status is VisitStatus.WAITING],
    )
