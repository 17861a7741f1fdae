"""Shared scene for the desk's tests: walk-in hours held today at a library location."""

from __future__ import annotations

from datetime import time, timedelta

from app import clock
from app.models import Mode, OrganisationKind

EVERY_DAY = "0,1,2,3,4,5,6"


def walk_in_hours(make_series, make_org, make_location, provider=None, location=None, **extra):
    """Walk-in hours held every day (today included) by ``provider`` at ``location``."""
    provider = provider or make_org(kind=OrganisationKind.LIBRARY)
    location = location or make_location(organisation=provider)
    values = {
        "mode": Mode.WALK_IN,
        "weekdays": EVERY_DAY,
        "start_date": clock.today() - timedelta(days=30),
        "start_time": time(0, 30),
        "end_time": time(23, 30),
        "title": "Inloopspreekuur digitale overheid",
    }
    values.update(extra)
    return make_series(provider=provider, location=location, **values)
