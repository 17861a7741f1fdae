"""Form fields that pass on only what the database and the calendar hold: whole numbers an
integer column takes, and dates from FIRST_DAY to LAST_DAY. Every form uses these instead of
WTForms' own IntegerField, DateField and ``coerce=int``."""

import wtforms
from wtforms.validators import NumberRange, StopValidation

from app.web.params import LARGEST_INT, date_range_hint, in_date_range, whole_number


class IntegerField(wtforms.IntegerField):
    """A whole number from ``minimum`` to ``maximum``; anything else is a form error."""

    def __init__(
        self, label=None, validators=(), *, minimum: int = 0, maximum: int = LARGEST_INT, **kwargs
    ):
        bounds = NumberRange(minimum, min(maximum, LARGEST_INT))
        super().__init__(label, [*validators, bounds], **kwargs)


class DateField(wtforms.DateField):
    """A date from FIRST_DAY to LAST_DAY; a date outside is a form error that says so."""

    def pre_validate(self, form) -> None:
        if self.data is not None and not in_date_range(self.data):
            self.data = None
            raise StopValidation(date_range_hint())


def choice_number(value) -> int:
    """``coerce`` for choices that are numbers (ids, weekdays): a number no integer column
    holds is no choice."""
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


def optional_choice_number(value) -> int | None:
    """``coerce`` for numbered choices that start with an empty 'choose …' choice (None)."""
    return whole_number(value)
