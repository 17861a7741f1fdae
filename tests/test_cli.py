"""Command-line tasks: the demo region and the first coordinator."""

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ConsultationHours,
    LocationClosure,
    Organisation,
    OrganisationKind,
    Role,
    SeriesException,
    SeriesStatus,
    Topic,
    User,
)


def test_demo_data_loads_a_realistic_region_and_prints_logins(app, runner):
    """The demo region: a library with three branches, the municipality, five partners,
    hours in both directions, exceptions, a closure, and working demo logins."""
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output

    orgs = db.session.scalars(sa.select(Organisation)).all()
    kinds = [o.kind for o in orgs]
    assert kinds.count(OrganisationKind.LIBRARY) == 1
    assert kinds.count(OrganisationKind.MUNICIPALITY) == 1
    assert kinds.count(OrganisationKind.PARTNER) >= 5
    library = next(o for o in orgs if o.kind is OrganisationKind.LIBRARY)
    assert len(library.locations) == 3

    series = db.session.scalars(sa.select(ConsultationHours)).all()
    partner_at_library = [
        s
        for s in series
        if s.provider.kind is OrganisationKind.PARTNER and s.location.organisation_id == library.id
    ]
    library_at_partner = [
        s
        for s in series
        if s.provider_id == library.id and s.location.organisation.kind is OrganisationKind.PARTNER
    ]
    assert partner_at_library and library_at_partner
    assert any(s.status is SeriesStatus.DRAFT for s in series)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeriesException)) >= 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LocationClosure)) >= 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Topic)) >= 10

    rows = re.findall(r"^(\w+)\s+.+?\s(\S+@\S+)\s+(\S+)$", result.output, re.M)
    assert {role for role, _, _ in rows} == {r.value for r in Role}
    role, email, password = rows[0]
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 303


def test_demo_data_refuses_a_database_with_data(app, runner, make_org):
    """Demo data never mixes into real data; --if-empty quietly does nothing."""
    make_org()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "not empty" in result.output
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_create_coordinator_prints_a_password_that_works(app, runner):
    """The first coordinator account can be made from the command line."""
    result = runner.invoke(
        args=[
            "create-coordinator",
            "--email",
            "coord@example.org",
            "--name",
            "Coördinator",
            "--organisation",
            "Bibliotheek Test",
        ]
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[1]
    user = db.session.scalar(sa.select(User))
    assert user.role is Role.COORDINATOR
    assert user.check_password(password)
