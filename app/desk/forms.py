"""Forms of the desk: booking on a resident's behalf and handling bookings."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.booking.forms import LANGUAGE_CHOICES, BookingForm


class DeskBookingForm(BookingForm):
    """The resident's form, filled in by staff; the resident may have no phone or email."""

    name = StringField(
        _l("First name or initials of the resident"), validators=[DataRequired(), Length(max=60)]
    )
    language = SelectField(_l("Language of the resident"), choices=LANGUAGE_CHOICES, default="nl")


class CancelForm(FlaskForm):
    version = HiddenField()
    reason = StringField(
        _l("Reason (the resident sees this)"), validators=[DataRequired(), Length(max=200)]
    )


class VersionForm(FlaskForm):
    version = HiddenField()
    slot = HiddenField()
    status = HiddenField()
