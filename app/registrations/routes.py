"""Registering every contact in seconds, and the list of contacts still to register.

Staff and volunteers register for their own organisation, wherever they helped: at their
own locations and where their organisation holds hours. The form remembers the channel and
location of the day; after a visit the category, channel and duration are filled in already.
"""

from __future__ import annotations

from flask import Blueprint, flash, has_request_context, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import clock
from app.extensions import db
from app.models import Visit
from app.permissions import Action, authorize, require
from app.registrations.forms import MAX_QUESTIONS, RegistrationForm
from app.services import DomainError, registrations
from app.services.registrations import AlreadyRegistered
from app.web.filters import topic_name
from app.web.htmx import redirect_to, render
from app.web.params import whole_number

bp = Blueprint("registrations", __name__, url_prefix="/portal")

REMEMBERED = "registration_defaults"


@bp.before_request
@login_required
def require_login() -> None:
    """Registering is for logged-in staff and volunteers only."""


@bp.app_context_processor
def to_register_badge() -> dict:
    """How many contacts are still to register, for the staff menu (counted when shown)."""

    def count() -> int:
        if not has_request_context() or not current_user.is_authenticated:
            return 0
        return registrations.still_to_register_count(current_user.organisation_id)

    return {"still_to_register_count": count}


def _visit() -> Visit | None:
    if "visit" not in request.values:
        return None
    visit_id = whole_number(request.values.get("visit"), minimum=1)
    visit = db.session.get(Visit, visit_id) if visit_id else None
    authorize(current_user, Action.REGISTER, visit)
    return visit


def _safe_back(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return None


def _initial(visit: Visit | None) -> dict:
    """What the form starts with: the visit's facts, or what the user chose earlier today."""
    if visit is not None:
        return {
            "channel": registrations.proposed_channel(visit).value,
            "duration": registrations.proposed_duration(visit).value,
            "questions": [{"topic": visit.topic_id}],
            "back": _safe_back(request.args.get("back")) or "",
        }
    remembered = session.get(REMEMBERED) or {}
    if remembered.get("day") != clock.today().isoformat():
        remembered = {}
    return {"channel": remembered.get("channel"), "location": remembered.get("location")}


def _configure(form: RegistrationForm, visit: Visit | None) -> None:
    topics = registrations.categories()
    organisations, bodies = registrations.receivers()
    for entry in form.questions:
        question = entry.form
        question.topic.choices = [SelectChoice(t.id, topic_name(t)) for t in topics]
        question.referred_organisation.choices = [SelectChoice(0, _("None"))] + [
            SelectChoice(o.id, o.name) for o in organisations
        ]
        question.outside_body.choices = [SelectChoice(0, _("None"))] + [
            SelectChoice(b.id, b.name) for b in bodies
        ]
    if visit is not None:
        del form.location  # the visit's location
    else:
        places = registrations.registration_locations(current_user.organisation_id)
        form.location.choices = [SelectChoice(p.id, p.name) for p in places]


def _apply_error(form: RegistrationForm, error: DomainError) -> None:
    """Show a service's error at its question's field, or at the top of the form."""
    name = error.field or ""
    if name.startswith("questions-"):
        _prefix, index, field = name.split("-", 2)
        entries = form.questions.entries
        question = entries[int(index)].form if int(index) < len(entries) else None
        target = getattr(question, "referred_organisation" if field == "referred_to" else field)
        target.errors = [*target.errors, error.message]
    elif name and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        form.form_errors.append(error.message)


def _problems(form: RegistrationForm) -> list[tuple[str, str]]:
    """The error summary: (id of the control to correct, message)."""

    def target(field) -> str:
        return f"{field.id}-0" if field.type == "RadioField" else field.id

    fields = [form.channel, *([form.location] if "location" in form else [])]
    for entry in form.questions:
        fields += [entry.form.topic, entry.form.how_helped, entry.form.referred_organisation]
    fields.append(form.duration)
    found = [(target(f), f"{f.label.text}: {m}") for f in fields for m in f.errors]
    return found + [("", message) for message in form.form_errors]


@bp.route("/registrations/new", methods=["GET", "POST"])
def new():
    """One screen, no typing: how the contact took place, each question, how long it took."""
    require(current_user, Action.REGISTER)
    visit = _visit()
    if visit is not None and registrations.is_registered(visit):
        flash(_("This contact has already been registered."), "info")
        return redirect_to(url_for("registrations.still_to_register"))
    form = RegistrationForm(data=_initial(visit)) if request.method == "GET" else RegistrationForm()
    changing_rows = True
    if request.method == "POST" and "add_question" in request.form:
        if len(form.questions) < MAX_QUESTIONS:
            form.questions.append_entry()
    elif request.method == "POST" and "remove_question" in request.form:
        index = whole_number(request.form["remove_question"], minimum=0)
        if index is not None and len(form.questions) > 1 and index < len(form.questions):
            form.questions.entries.pop(index)
    else:
        changing_rows = False
    _configure(form, visit)
    status = 200
    if not changing_rows and form.validate_on_submit():
        response = _save(form, visit)
        if response is not None:
            return response
    if form.is_submitted() and not changing_rows:
        status = 422
    return render(
        "registrations/new.html",
        block="registration_form",
        status=status,
        form=form,
        visit=visit,
        problems=_problems(form) if status == 422 else [],
        max_questions=MAX_QUESTIONS,
    )


def _save(form: RegistrationForm, visit: Visit | None):
    """Register the contact; a redirect, or None when the form must be shown again."""
    try:
        registrations.register(form.contact_data(), current_user, visit=visit)
    except AlreadyRegistered as error:
        db.session.rollback()
        flash(error.message, "info")
        return redirect_to(url_for("registrations.still_to_register"))
    except DomainError as error:
        db.session.rollback()
        _apply_error(form, error)
        return None
    db.session.commit()
    flash(_("The contact is registered."), "success")
    if visit is None:
        session[REMEMBERED] = {
            "day": clock.today().isoformat(),
            "channel": form.channel.data,
            "location": form.location.data,
        }
        return redirect_to(url_for("registrations.new"))
    back = _safe_back(form.back.data)
    return redirect_to(back or url_for("visits.queue", location_id=visit.location_id))


@bp.route("/registrations/to-register")
def still_to_register():
    """Finished walk-ins and appointments that came, of the last two weeks, not registered."""
    require(current_user, Action.REGISTER)
    items = registrations.still_to_register(current_user.organisation_id)
    return render("registrations/to_register.html", items=items)
