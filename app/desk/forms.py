"""Forms of the desk: booking on a resident's behalf and handling bookings."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app.booking.forms import BookingForm


class DeskBookingForm(BookingForm):
    """The resident's form, filled in by staff; the resident may have no phone or email."""


class CancelForm(FlaskForm):
    version = HiddenField()
    reason = StringField(
        _l("Reason (the resident sees this)"), validators=[DataRequired(), Length(max=200)]
    )


class VersionForm(FlaskForm):
    version = HiddenField()
    slot = HiddenField()
    status = HiddenField()
