"""Between the series form and the series service: choices, filling, converting."""

import sqlalchemy as sa
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.models import (
    ConsultationHours,
    Location,
    Mode,
    Organisation,
    Recurrence,
    Role,
    Topic,
    User,
)
from app.portal.forms import SeriesForm
from app.services import DomainError
from app.services.series import SeriesData
from app.web.filters import topic_name


def prepare_series_form(
    form: SeriesForm, user: User, series: ConsultationHours | None = None
) -> SeriesForm:
    """Fill the choices the user may pick from."""
    if user.role is Role.COORDINATOR:
        orgs = db.session.scalars(
            sa.select(Organisation).where(Organisation.active).order_by(Organisation.name)
        ).all()
    else:
        orgs = [user.organisation]
    form.provider.choices = [SelectChoice(o.id, o.name) for o in orgs]
    if not form.provider.data:
        form.provider.data = series.provider_id if series else user.organisation_id
    locations = db.session.scalars(
        sa.select(Location)
        .join(Location.organisation)
        .where(Location.active)
        .order_by(Organisation.name, Location.name)
    ).all()
    form.location.choices = [
        SelectChoice(loc.id, f"{loc.name} ({loc.organisation.name})") for loc in locations
    ]
    topics = db.session.scalars(
        sa.select(Topic).where(Topic.active, Topic.public).order_by(Topic.sort_order, Topic.name_nl)
    ).all()
    form.topics.choices = [SelectChoice(t.id, topic_name(t)) for t in topics]
    return form


def fill_series_form(form: SeriesForm, series: ConsultationHours) -> None:
    """Put a stored series into the form for editing."""
    form.title.data = series.title
    form.description.data = series.description
    form.what_to_bring.data = series.what_to_bring
    form.provider.data = series.provider_id
    form.location.data = series.location_id
    form.topics.data = [t.id for t in series.topics]
    form.mode.data = series.mode.value
    form.recurrence.data = series.recurrence.value
    form.weekdays.data = series.weekday_list
    form.interval_weeks.data = series.interval_weeks
    form.month_weeks.data = series.month_week_list
    form.start_date.data = series.start_date
    form.end_date.data = series.end_date
    form.start_time.data = series.start_time
    form.end_time.data = series.end_time
    form.walk_in_start.data = series.walk_in_start
    form.walk_in_end.data = series.walk_in_end
    form.slot_minutes.data = series.slot_minutes
    form.seats_per_slot.data = series.seats_per_slot
    form.min_notice_hours.data = series.min_notice_hours
    form.book_ahead_days.data = series.book_ahead_days


def series_data(form: SeriesForm) -> SeriesData:
    """Convert a validated form into the service's input."""
    topic_ids = form.topics.data or []
    topics = (
        db.session.scalars(sa.select(Topic).where(Topic.id.in_(topic_ids))).all()
        if topic_ids
        else []
    )
    return SeriesData(
        provider=db.session.get(Organisation, form.provider.data),
        location=db.session.get(Location, form.location.data),
        title=form.title.data,
        description=form.description.data or "",
        what_to_bring=form.what_to_bring.data or "",
        topics=list(topics),
        mode=Mode(form.mode.data),
        recurrence=Recurrence(form.recurrence.data),
        weekdays=form.weekdays.data or [],
        interval_weeks=form.interval_weeks.data or 1,
        month_weeks=form.month_weeks.data or [],
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        walk_in_start=form.walk_in_start.data,
        walk_in_end=form.walk_in_end.data,
        slot_minutes=form.slot_minutes.data,
        seats_per_slot=form.seats_per_slot.data,
        min_notice_hours=form.min_notice_hours.data,
        book_ahead_days=form.book_ahead_days.data,
    )


def apply_domain_error(form, error: DomainError) -> None:
    """Show a service's error at the field it concerns, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(error.message)
        return
    field.errors = [*field.errors, error.message]
