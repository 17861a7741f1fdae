"""The network's directory: organisations, locations, topics (plain create and update)."""

from typing import TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.services import DomainError, occurrence_index
from app.web.icons import ICON_NAMES

T = TypeVar("T")

TOPIC_ICONS = ICON_NAMES


def save(obj: T, values: dict) -> T:
    """Set ``values`` on a new or existing directory object and commit.

    A clash with a unique constraint (a name used twice) becomes a DomainError and
    nothing is written.
    """
    for name, value in values.items():
        setattr(obj, name, value.strip() if isinstance(value, str) else value)
    db.session.add(obj)
    try:
        occurrence_index.directory_changed(obj)
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise DomainError(_("This name is already in use."), "name") from error
    return obj
