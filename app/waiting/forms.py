"""The form to join a waiting list."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.booking.forms import LANGUAGE_CHOICES
from app.services.waiting_list import WaitingDetails


class WaitingForm(FlaskForm):
    name = StringField(
        _l("Your first name or initials"), validators=[DataRequired(), Length(max=60)]
    )
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email address"), validators=[Optional(), Email(), Length(max=255)])
    language = SelectField(
        _l("Which language do you prefer?"), choices=LANGUAGE_CHOICES, default="nl"
    )

    def details(self) -> WaitingDetails:
        """What the waiting-list service needs from a validated form."""
        return WaitingDetails(
            name=self.name.data,
            phone=self.phone.data or "",
            email=self.email.data or "",
            language=self.language.data,
        )


class ConfirmForm(FlaskForm):
    """A button that changes something (leave the list, take the time): only the CSRF token."""
