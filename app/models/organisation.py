"""Organisations in the network and the locations they host."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, enum_column

if TYPE_CHECKING:
    from app.models.user import User


class OrganisationKind(enum.Enum):
    LIBRARY = "library"
    MUNICIPALITY = "municipality"
    PARTNER = "partner"


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, name="organisation_kind")
    )
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # What they help with, in plain language, for residents and referring staff.
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # How other organisations refer residents to them (phone line, form, warm handover contact).
    referral_info: Mapped[str] = mapped_column(sa.Text, default="")
    website: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)

    locations: Mapped[list[Location]] = relationship(
        back_populates="organisation", order_by="Location.name"
    )
    users: Mapped[list[User]] = relationship(back_populates="organisation")

    # A calendar poll reads the newest change of any organisation (app/services/feeds.py).
    __table_args__ = (sa.Index("ix_organisation_updated_at", "updated_at"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class Location(TimestampMixin, db.Model):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    street: Mapped[str] = mapped_column(sa.String(160))
    postcode: Mapped[str] = mapped_column(sa.String(16))
    city: Mapped[str] = mapped_column(sa.String(80))
    # Wheelchair access, hearing loop, quiet room: shown to residents before they come.
    accessibility: Mapped[str] = mapped_column(sa.Text, default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Amsterdam")
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="locations")

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "name"),
        sa.Index("ix_location_city", "city"),
        # A calendar poll reads the newest change of any location (app/services/feeds.py).
        sa.Index("ix_location_updated_at", "updated_at"),
    )

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    def __repr__(self) -> str:
        return f"<Location {self.name!r}>"
