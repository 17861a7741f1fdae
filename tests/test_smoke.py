from app.models import Role


def test_staff_member_logs_in_and_sees_their_overview(client, make_user, login):
    """A staff member logs in and lands on the overview of their organisation."""
    user = make_user(Role.STAFF)
    login(user)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert user.organisation.name in response.get_data(as_text=True)
