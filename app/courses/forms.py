"""The forms to offer a course and to run it: sessions, places, sign-up, attendance."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.models import Device
from app.web.fields import DateField, IntegerField, choice_number, optional_choice_number


class CourseForm(FlaskForm):
    title = StringField(_l("Name of the course"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        _l("What residents learn, and for whom"), validators=[Optional(), Length(max=2000)]
    )
    what_to_bring = TextAreaField(_l("What to bring"), validators=[Optional(), Length(max=1000)])
    device = SelectField(
        _l("What participants work on"),
        default=Device.EITHER.value,
        choices=[
            SelectChoice(Device.EITHER.value, _l("Their own device, or a library laptop")),
            SelectChoice(Device.OWN.value, _l("Their own laptop, tablet or phone")),
            SelectChoice(Device.LIBRARY.value, _l("A library laptop")),
        ],
    )
    topic = SelectField(_l("Topic"), coerce=optional_choice_number)
    location = SelectField(_l("Location"), coerce=choice_number)
    needs_intake = BooleanField(_l("An intake comes first"))
    intake_series = SelectField(_l("Hours for the intake"), coerce=optional_choice_number)
    capacity = IntegerField(
        _l("Places (maximum number of residents)"),
        default=8,
        validators=[InputRequired()],
        minimum=1,
        maximum=50,
    )
    first_date = DateField(_l("Date of the first session"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    end_time = TimeField(_l("End time"), validators=[InputRequired()])
    sessions = IntegerField(
        _l("Number of sessions"),
        default=4,
        validators=[InputRequired()],
        minimum=1,
        maximum=20,
    )
    interval_weeks = SelectField(
        _l("How often"),
        coerce=choice_number,
        default=1,
        choices=[SelectChoice(1, _l("Every week"))]
        + [SelectChoice(n, _l("Every %(n)s weeks", n=n)) for n in range(2, 5)],
    )


class SessionForm(FlaskForm):
    """A session's date and times (changing one, or adding one)."""

    date = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    end_time = TimeField(_l("End time"), validators=[InputRequired()])


class CancelSessionForm(FlaskForm):
    reason = StringField(
        _l("Reason (participants read it)"), validators=[DataRequired(), Length(max=200)]
    )


class CapacityForm(FlaskForm):
    capacity = IntegerField(
        _l("Places (maximum number of residents)"),
        validators=[InputRequired()],
        minimum=1,
        maximum=50,
    )


class SignUpForm(FlaskForm):
    """Close the course for new residents, or open it again (the state asked for, so that a
    second click does not undo the first)."""

    open = SelectField(
        coerce=choice_number, choices=[SelectChoice(0, "closed"), SelectChoice(1, "open")]
    )


def attendance_form(enrolment_ids: list[int]) -> type[FlaskForm]:
    """A form with one came / did not come choice per participant on a session's list."""

    class AttendanceForm(FlaskForm):
        pass

    for enrolment_id in enrolment_ids:
        setattr(
            AttendanceForm,
            f"e{enrolment_id}",
            RadioField(
                choices=[
                    SelectChoice("present", _l("Came")),
                    SelectChoice("absent", _l("Did not come")),
                ],
                validators=[Optional()],
            ),
        )
    return AttendanceForm
