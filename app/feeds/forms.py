"""Forms for making a calendar-feed link, one per kind of feed."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app import labels
from app.extensions import db
from app.models import (
    ConsultationHours,
    FeedBookings,
    FeedKind,
    Location,
    Organisation,
    SeriesStatus,
    User,
)
from app.permissions import Action, can, followable_series
from app.portal.forms import MultiCheckboxField
from app.web.fields import choice_number
from app.web.filters import weekdays_label

KIND = {
    FeedKind.LOCATION: _l("All hours at a location"),
    FeedKind.ORGANISATION: _l("All hours of an organisation"),
    FeedKind.PERSONAL: _l("Hours I follow"),
}
KIND_HINT = {
    FeedKind.LOCATION: _l(
        "Every consultation hour held at one location, by any organisation: the full"
        " schedule of a branch."
    ),
    FeedKind.ORGANISATION: _l("Every consultation hour an organisation holds, at any location."),
    FeedKind.PERSONAL: _l("Only the hours of your organisation that you choose."),
}
BOOKINGS = {
    FeedBookings.NONE: _l("No bookings"),
    FeedBookings.COUNTS: _l("The number of bookings per session (for example: 3 of 8)"),
    FeedBookings.CODES: _l("Each appointment, with its code and the resident's initials"),
}
# In URLs of the portal, the kinds have plain names.
KIND_SLUGS = {
    "location": FeedKind.LOCATION,
    "organisation": FeedKind.ORGANISATION,
    "personal": FeedKind.PERSONAL,
}


class FeedForm(FlaskForm):
    name = StringField(
        _l("Name of the calendar (optional)"), validators=[Optional(), Length(max=80)]
    )
    include_bookings = RadioField(
        _l("Bookings in the calendar"),
        choices=[SelectChoice(b.value, label) for b, label in BOOKINGS.items()],
        default=FeedBookings.NONE.value,
    )


class LocationFeedForm(FeedForm):
    location = SelectField(_l("Location"), coerce=choice_number, validators=[InputRequired()])


class OrganisationFeedForm(FeedForm):
    organisation = SelectField(
        _l("Organisation"), coerce=choice_number, validators=[InputRequired()]
    )


class PersonalFeedForm(FeedForm):
    series = MultiCheckboxField(_l("Hours to follow"), coerce=choice_number)


def _series_label(series: ConsultationHours) -> str:
    label = (
        f"{series.title} · {series.location.name} · {weekdays_label(series)}"
        f" {series.start_time.strftime('%H:%M')}"
    )
    if series.status is not SeriesStatus.PUBLISHED:
        label += f" ({labels.STATUS[series.status]})"
    return label


def feed_form(kind: FeedKind, user: User) -> FeedForm:
    """The form for one kind of feed, with the choices this user has."""
    if kind is FeedKind.LOCATION:
        form = LocationFeedForm()
        locations = db.session.scalars(
            sa.select(Location)
            .join(Location.organisation)
            .where(Location.active)
            .order_by(Location.organisation_id != user.organisation_id, Location.name)
        ).all()
        form.location.choices = [
            SelectChoice(loc.id, f"{loc.name} ({loc.organisation.name})") for loc in locations
        ]
    elif kind is FeedKind.ORGANISATION:
        form = OrganisationFeedForm()
        organisations = db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.active)
            .order_by(Organisation.id != user.organisation_id, Organisation.name)
        ).all()
        form.organisation.choices = [SelectChoice(o.id, o.name) for o in organisations]
    else:
        form = PersonalFeedForm()
        series = db.session.scalars(followable_series(user).order_by(ConsultationHours.title)).all()
        form.series.choices = [SelectChoice(s.id, _series_label(s)) for s in series]
    if not can(user, Action.FEED_BOOKINGS):
        del form.include_bookings  # volunteers: never bookings in a feed
    return form
