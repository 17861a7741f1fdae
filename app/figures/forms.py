"""The period picker: a plain GET form (no CSRF token: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form
from wtforms.fields import DateField, SelectField
from wtforms.fields.choices import SelectChoice

from app.services.figures import PERIOD_KINDS

PERIOD_LABELS = {
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
    "range": _l("From – to"),
}


class PeriodForm(Form):
    """Which period: the month, quarter or year holding a day, or the days from – to."""

    period = SelectField(
        _l("Period"), choices=[SelectChoice(k, PERIOD_LABELS[k]) for k in PERIOD_KINDS]
    )
    day = DateField(
        _l("A day in the month, quarter or year"),
        description=_l("The figures are for the whole month, quarter or year around this day."),
    )
    first = DateField(_l("From"), description=_l("Only for “From – to”."))
    last = DateField(_l("To"), description=_l("Only for “From – to”."))
