"""The forms to sign up for a course, to find a sign-up again and to sign off."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.booking.forms import LANGUAGE_CHOICES

LATER = "later"


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
    intake = RadioField(_l("When do you come for the intake?"), validate_choice=True)


class DeskSignUpForm(SignUpForm):
    """The same form, filled in by staff at the desk or on the phone."""

    name = StringField(
        _l("First name or initials of the resident"), validators=[DataRequired(), Length(max=60)]
    )
    language = SelectField(_l("Language of the resident"), choices=LANGUAGE_CHOICES, default="nl")
    intake = RadioField(_l("When does the resident come for the intake?"), validate_choice=True)


class FindForm(FlaskForm):
    code = StringField(_l("Your code"), validators=[DataRequired(), Length(max=12)])
    phone_or_name = StringField(
        _l("Your phone number, or the name you gave"),
        validators=[DataRequired(), Length(max=60)],
    )


class ConfirmForm(FlaskForm):
    """Sign off: only the CSRF token."""
