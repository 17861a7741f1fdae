"""Forms of the queue: someone came in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from app.web.fields import choice_number


class WalkInForm(FlaskForm):
    """One tap: the hours are chosen for the user when there is one; the rest is optional."""

    series = RadioField(
        _l("For which hours?"),
        coerce=choice_number,
        validators=[InputRequired(message=_l("Choose the hours the resident came for."))],
    )
    initials = StringField(
        _l("Initials (optional)"),
        validators=[Length(max=8, message=_l("Use at most 8 characters."))],
    )
    topic = SelectField(_l("Topic (optional)"), coerce=choice_number, default=0)
