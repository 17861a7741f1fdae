"""Ids, numbers and dates out of range, in an address, a query string or a form, are a 404 or
a message in the user's language: never a server error, never a half-made change."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from app import clock
from app.extensions import db
from app.models import OrganisationKind, Role

HUGE = [2**63, 2**31, 99999999999999999999]
LARGEST_ID = 2**31 - 1
INT_ARGUMENT = re.compile(r"<int:(\w+)>")


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Maarssen")


@pytest.fixture
def partner(make_org):
    return make_org(name="Geldpunt")


@pytest.fixture
def branch(make_location, library):
    return make_location(organisation=library, name="Bibliotheek Maarssen")


@pytest.fixture
def coordinator(make_user, library):
    return make_user(Role.COORDINATOR, library)


@pytest.fixture
def library_admin(make_user, library):
    return make_user(Role.ORG_ADMIN, library)


@pytest.fixture
def topic(make_topic):
    return make_topic(slug="geld", name_en="Money")


@pytest.fixture
def series(make_series, library, branch):
    """The library's appointment hours in its branch, every day 9:00-17:00."""
    return make_series(
        provider=library,
        location=branch,
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        min_notice_hours=0,
    )


# Ids in the address --------------------------------------------------------------------------


def int_routes(app) -> list[tuple[str, str]]:
    """Every (method, rule) of a rule with an int argument, for GET and POST as it allows."""
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if INT_ARGUMENT.search(rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"})
    ]


def answers(client, routes, value) -> dict[tuple[str, str], int | str]:
    """The status of each route with ``value`` for every int argument, or the exception."""
    found = {}
    for method, rule in routes:
        try:
            found[(method, rule)] = client.open(
                INT_ARGUMENT.sub(str(value), rule), method=method
            ).status_code
        except Exception as error:  # noqa: BLE001 - the test reports every route at once
            db.session.rollback()
            found[(method, rule)] = type(error).__name__
    return found


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_every_int_route_answers_an_id_out_of_range_with_not_found(
    app, en, login, coordinator, series, who, value
):
    """Every <int:…> address of the site, the public pages, the portal and management, with
    an id too large for the database: 404, for a visitor and for the coordinator alike."""
    if who == "coordinator":
        login(coordinator)
    routes = int_routes(app)
    assert len(routes) > 40  # the portal's, the desk's, management's and the public ones
    found = answers(en, routes, value)
    assert {route: status for route, status in found.items() if status != 404} == {}


@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_the_largest_id_still_reaches_the_page_and_is_not_found(
    app, en, login, coordinator, series, who
):
    """The largest id a database column holds (2^31 - 1) is looked up as usual: not found,
    no access or a login, never a server error."""
    if who == "coordinator":
        login(coordinator)
    found = answers(en, int_routes(app), LARGEST_ID)
    assert {route: status for route, status in found.items() if status not in (302, 403, 404)} == {}
