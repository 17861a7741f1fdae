"""Joining a waiting list is limited per client address, as booking is."""

import pytest
import sqlalchemy as sa

from app import create_app, dispose_engines
from app.extensions import db
from app.models import WaitingEntry
from tests.conftest import FreshContextClient, _clear, _test_config
from tests.waiting_helpers import full_series


@pytest.fixture
def app(database_url):
    """The app with its rate limits on, as in production (the other tests turn them off)."""
    app = create_app(
        {
            **_test_config(database_url),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_WAITING_LIST_ADDRESS": "2 per hour",
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        _clear(db.engine)
        dispose_engines()


def test_joining_is_limited_per_address(client, make_series):
    """Places taken from one address are limited (here 2 an hour): the next form comes back
    with 429, the message and what was typed; failed forms do not count; another address
    can still join."""
    series = full_series(make_series)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/spreekuren/{series.id}/wachtlijst"
    here = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(3):
        response = client.post(url, data={"name": "R", "language": "en"}, environ_overrides=here)
        assert response.status_code == 422
    for n in range(2):
        form = {"name": f"R{n}", "phone": f"06123456{n:02d}", "language": "en"}
        assert client.post(url, data=form, environ_overrides=here).status_code == 303

    form = {"name": "Sara", "phone": "0612999999", "language": "en"}
    response = client.post(url, data=form, environ_overrides=here)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Many names were put on waiting lists through this internet connection" in page
    assert 'value="Sara"' in page and 'value="0612999999"' in page
    assert 3540 < int(response.headers["Retry-After"]) <= 3600

    there = {"REMOTE_ADDR": "198.51.100.8"}
    assert client.post(url, data=form, environ_overrides=there).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WaitingEntry)) == 3
