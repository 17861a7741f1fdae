"""The forms to sign up for a course, to find a sign-up again and to sign off, and what the
resident's sign-up and the desk's share: the intake times offered and the details read."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.booking.forms import LANGUAGE_CHOICES
from app.models import Course
from app.services import course_signups, courses
from app.web.filters import format_day, format_time
from app.web.params import parse_slot, slot_param

LATER = "later"
INTAKE_CHOICES = 12  # the first free intake times offered; the desk finds others


class IntakeField(RadioField):
    """The intake time: one of those offered, or "later"; a clear message otherwise."""

    def pre_validate(self, form) -> None:
        if not any(value == self.data for value, _label in self.choices):
            raise ValidationError(_("Please choose a time for the intake, or plan it later."))


class SignUpForm(FlaskForm):
    """A first name or initials; a phone number, an email address, both or neither."""

    name = StringField(
        _l("Your first name or initials"), validators=[DataRequired(), Length(max=60)]
    )
    phone = TelField(_l("Phone number (not required)"), validators=[Optional(), Length(max=32)])
    email = EmailField(
        _l("Email address (not required)"), validators=[Optional(), Email(), Length(max=255)]
    )
    language = SelectField(
        _l("Which language do you prefer?"), choices=LANGUAGE_CHOICES, default="nl"
    )
    # Only for a course with an intake: a free time of the intake hours, or "later".
    intake = IntakeField(_l("When do you come for the intake?"))


class DeskSignUpForm(SignUpForm):
    """The same form, filled in by staff at the desk or on the phone."""

    name = StringField(
        _l("First name or initials of the resident"), validators=[DataRequired(), Length(max=60)]
    )
    language = SelectField(_l("Language of the resident"), choices=LANGUAGE_CHOICES, default="nl")
    intake = IntakeField(_l("When does the resident come for the intake?"))


class FindForm(FlaskForm):
    code = StringField(_l("Your code"), validators=[DataRequired(), Length(max=12)])
    phone_or_name = StringField(
        _l("Your phone number, or the name you gave"),
        validators=[DataRequired(), Length(max=60)],
    )


class ConfirmForm(FlaskForm):
    """Sign off: only the CSRF token."""


def intake_choices(course: Course, *, staff: bool) -> list[tuple[str, str]]:
    """The intake times offered (as radio choices), then "plan it later"."""
    choices = []
    for item in course_signups.intake_slots(course, staff=staff)[:INTAKE_CHOICES]:
        start = item.slot.start
        text = f"{format_day(start)}, {format_time(start)}–{format_time(item.slot.end)}"
        choices.append((slot_param(item.slot.start_utc), text))
    later = (
        _("Plan the intake later: the library contacts me")
        if not staff
        else _("Plan the intake later with the resident")
    )
    choices.append((LATER, later))
    return choices


def prepare(form: SignUpForm, course: Course, *, staff: bool) -> None:
    """Offer intake times for a course with an intake while it has places; no intake
    question otherwise (who waits gets an intake planned when a place comes free)."""
    if course.needs_intake and courses.places_left(course) > 0:
        form.intake.choices = intake_choices(course, staff=staff)
    else:
        del form.intake


def sign_up_details(form: SignUpForm) -> course_signups.SignUp:
    intake = getattr(form, "intake", None)
    start = None
    if intake is not None and intake.data and intake.data != LATER:
        start = parse_slot(intake.data)
    return course_signups.SignUp(
        name=form.name.data,
        phone=form.phone.data or "",
        email=form.email.data or "",
        language=form.language.data,
        intake_start=start,
    )


class DeskFindForm(FlaskForm):
    """Staff at the desk find a sign-up with the resident's code and name or phone number."""

    code = StringField(_l("Code of the sign-up"), validators=[DataRequired(), Length(max=12)])
    phone_or_name = StringField(
        _l("Phone number of the resident, or the name they gave"),
        validators=[DataRequired(), Length(max=60)],
    )
