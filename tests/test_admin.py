"""Management by the network coordinator and organisation admins."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Location, Organisation, OrganisationKind, Role, Topic, User


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Stichtse Vecht")


@pytest.fixture
def coordinator(client, make_user, library, login):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    user = make_user(Role.COORDINATOR, library)
    login(user)
    return user


def test_coordinator_adds_an_organisation(client, coordinator):
    """The coordinator adds a partner with what it helps with and how to refer to it."""
    response = client.post(
        "/admin/organisations/new",
        data={
            "name": "Kwadraad",
            "kind": "partner",
            "description": "Maatschappelijk werk",
            "referral_info": "Bel het aanmeldnummer",
            "active": "y",
        },
    )
    assert response.status_code == 303
    org = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Kwadraad"))
    assert org.kind is OrganisationKind.PARTNER
    assert org.referral_info == "Bel het aanmeldnummer"
    assert "Kwadraad" in client.get("/admin/organisations").get_data(as_text=True)


def test_duplicate_organisation_name_is_refused(client, coordinator, library):
    """A second organisation with the same name is explained, not saved."""
    response = client.post(
        "/admin/organisations/new", data={"name": library.name, "kind": "partner"}
    )
    assert response.status_code == 422
    assert "This name is already in use." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_coordinator_adds_a_location_with_accessibility_notes(client, coordinator, library):
    """A location belongs to a host organisation and tells residents about access."""
    response = client.post(
        "/admin/locations/new",
        data={
            "organisation": library.id,
            "name": "Bibliotheek Breukelen",
            "street": "Kerkbrink 2",
            "postcode": "3621 BM",
            "city": "Breukelen",
            "accessibility": "Ringleiding bij de balie",
            "active": "y",
        },
    )
    assert response.status_code == 303
    location = db.session.scalar(sa.select(Location))
    assert location.organisation_id == library.id
    assert location.address == "Kerkbrink 2, 3621 BM Breukelen"
    assert location.accessibility == "Ringleiding bij de balie"


def test_coordinator_edits_topics(client, coordinator, make_topic):
    """Topics are added and renamed by the coordinator."""
    response = client.post(
        "/admin/topics/new",
        data={
            "name_nl": "Toeslagen",
            "name_en": "Benefits",
            "slug": "toeslagen",
            "icon": "benefits",
            "sort_order": "10",
            "active": "y",
        },
    )
    assert response.status_code == 303
    topic = db.session.scalar(sa.select(Topic))
    client.post(
        f"/admin/topics/{topic.id}/edit",
        data={
            "name_nl": "Toeslagen en huurtoeslag",
            "name_en": "Benefits",
            "slug": "toeslagen",
            "icon": "benefits",
            "sort_order": "10",
            "active": "y",
        },
    )
    db.session.refresh(topic)
    assert topic.name_nl == "Toeslagen en huurtoeslag"


def test_new_account_gets_a_password_shown_once_that_works(app, client, coordinator, library):
    """Creating an account shows a generated password once; with it the new user can log in."""
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Bram",
            "email": "bram@example.org",
            "organisation": library.id,
            "role": "staff",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r"<code>([a-z0-9-]+)</code>", page).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "bram@example.org"))
    assert user.role is Role.STAFF
    assert password not in user.password_hash

    other = app.test_client()
    response = other.post("/auth/login", data={"email": "bram@example.org", "password": password})
    assert response.status_code == 303


def test_account_with_existing_email_is_refused(client, coordinator, library):
    """An email address can be used by one account only."""
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Dubbel",
            "email": coordinator.email.upper(),
            "organisation": library.id,
            "role": "staff",
        },
    )
    assert response.status_code == 422
    assert "There is already an account with this email address." in response.get_data(as_text=True)


def test_coordinator_deactivates_and_reactivates_an_account(
    client, coordinator, make_user, library
):
    """A deactivated account is marked as such and can be activated again."""
    user = make_user(Role.STAFF, library)
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    db.session.refresh(user)
    assert not user.active
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    db.session.refresh(user)
    assert user.active


def test_reset_password_shows_new_password(client, coordinator, make_user, library):
    """A password reset shows a new password that replaces the old one."""
    user = make_user(Role.STAFF, library)
    response = client.post(f"/admin/users/{user.id}/password")
    password = re.search(r"<code>([a-z0-9-]+)</code>", response.get_data(as_text=True)).group(1)
    db.session.refresh(user)
    assert user.check_password(password)


def test_org_admin_creates_accounts_only_in_own_organisation(client, make_user, make_org, login):
    """An organisation admin can add staff to their own organisation, not to another."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    partner = make_org(name="Geldpunt")
    other = make_org(name="Welzijn")
    login(make_user(Role.ORG_ADMIN, partner))
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert "Geldpunt" in form and "Welzijn" not in form
    assert "Network coordinator" not in form

    response = client.post(
        "/admin/users/new",
        data={"name": "X", "email": "x@example.org", "organisation": other.id, "role": "staff"},
    )
    assert response.status_code == 422  # not one of the offered choices
    response = client.post(
        "/admin/users/new",
        data={
            "name": "X",
            "email": "x@example.org",
            "organisation": partner.id,
            "role": "coordinator",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(User).where(User.email == "x@example.org")) is None


def test_org_admin_edits_own_organisation_profile_but_not_its_kind(
    client, make_user, make_org, login
):
    """An organisation admin updates their description; the kind is the coordinator's."""
    partner = make_org(name="Geldpunt")
    login(make_user(Role.ORG_ADMIN, partner))
    form = client.get(f"/admin/organisations/{partner.id}/edit").get_data(as_text=True)
    assert 'name="kind"' not in form
    response = client.post(
        f"/admin/organisations/{partner.id}/edit",
        data={"name": "Geldpunt", "description": "Hulp bij schulden", "kind": "library"},
    )
    assert response.status_code == 303
    db.session.refresh(partner)
    assert partner.description == "Hulp bij schulden"
    assert partner.kind is OrganisationKind.PARTNER


def test_account_list_links_only_to_accounts_the_reader_may_edit(
    client, make_user, make_org, login
):
    """An organisation admin sees the accounts of their organisation; the coordinator's
    account among them is listed without a link to a form that would answer 403."""
    from app.permissions import Action, can

    library = make_org(name="Bibliotheek")
    admin = make_user(Role.ORG_ADMIN, library, name="Ada Admin")
    staff = make_user(Role.STAFF, library, name="Sam Staff")
    coordinator = make_user(Role.COORDINATOR, library, name="Cora Coordinator")
    login(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert coordinator.name in page and f'href="/admin/users/{coordinator.id}/edit"' not in page
    for user in (admin, staff, coordinator):
        edit = f'href="/admin/users/{user.id}/edit"'
        assert (edit in page) == can(admin, Action.MANAGE, user), user.name
        status = client.get(f"/admin/users/{user.id}/edit").status_code
        assert (edit in page) == (status == 200), (user.name, status)
    assert f'href="/admin/users/{staff.id}/edit"' in page
