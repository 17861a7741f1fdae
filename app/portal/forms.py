"""Forms of the staff portal: series, date exceptions and closures."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import labels
from app.models import ExceptionKind, Mode, Recurrence
from app.web.fields import DateField, IntegerField, choice_number


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SeriesForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        _l("Short description for residents"), validators=[Optional(), Length(max=1000)]
    )
    what_to_bring = TextAreaField(_l("What to bring"), validators=[Optional(), Length(max=500)])
    provider = SelectField(_l("Organisation that holds the hours"), coerce=choice_number)
    location = SelectField(_l("Location"), coerce=choice_number)
    topics = MultiCheckboxField(_l("Topics"), coerce=choice_number)
    mode = RadioField(
        _l("How do residents come?"),
        choices=[SelectChoice(m.value, labels.MODE[m]) for m in Mode],
        default=Mode.APPOINTMENT.value,
    )
    recurrence = RadioField(
        _l("Repeats"),
        choices=[SelectChoice(r.value, labels.RECURRENCE[r]) for r in Recurrence],
        default=Recurrence.WEEKLY.value,
    )
    weekdays = MultiCheckboxField(
        _l("Days"),
        coerce=choice_number,
        choices=[SelectChoice(i, day) for i, day in enumerate(labels.WEEKDAYS)],
    )
    interval_weeks = SelectField(
        _l("How often"),
        coerce=choice_number,
        default=1,
        choices=[SelectChoice(1, _l("Every week"))]
        + [SelectChoice(n, _l("Every %(n)s weeks", n=n)) for n in range(2, 9)],
    )
    month_weeks = MultiCheckboxField(
        _l("Which week of the month"),
        coerce=choice_number,
        choices=[SelectChoice(n, label) for n, label in labels.MONTH_WEEKS.items()],
    )
    start_date = DateField(_l("First date"), validators=[InputRequired()])
    end_date = DateField(_l("Last date (optional)"), validators=[Optional()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    end_time = TimeField(_l("End time"), validators=[InputRequired()])
    walk_in_start = TimeField(_l("Walk-in from"), validators=[Optional()])
    walk_in_end = TimeField(_l("Walk-in until"), validators=[Optional()])
    slot_minutes = IntegerField(
        _l("Length of one appointment (minutes)"),
        default=30,
        validators=[InputRequired()],
        minimum=5,
        maximum=480,
    )
    seats_per_slot = IntegerField(
        _l("Residents per appointment time"),
        default=1,
        validators=[InputRequired()],
        minimum=1,
        maximum=50,
    )
    min_notice_hours = IntegerField(
        _l("Book at least this many hours in advance"),
        default=2,
        validators=[InputRequired()],
        minimum=0,
        maximum=24 * 14,
    )
    book_ahead_days = IntegerField(
        _l("Book at most this many days ahead"),
        default=42,
        validators=[InputRequired()],
        minimum=1,
        maximum=366,
    )


class ExceptionForm(FlaskForm):
    kind = RadioField(
        _l("What changes?"),
        choices=[SelectChoice(k.value, labels.EXCEPTION_KIND[k]) for k in ExceptionKind],
        default=ExceptionKind.CANCELLED.value,
    )
    date = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[Optional()])
    end_time = TimeField(_l("End time"), validators=[Optional()])
    reason = StringField(_l("Reason (shown to residents)"), validators=[Length(max=200)])


class ClosureForm(FlaskForm):
    start_date = DateField(_l("Closed from"), validators=[InputRequired()])
    end_date = DateField(_l("Closed until (this day included)"), validators=[InputRequired()])
    reason = StringField(
        _l("Reason (shown to residents)"), validators=[DataRequired(), Length(max=200)]
    )
