"""Websites that may show Spreekuur's public lists in a frame (the embeddable lists)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class EmbedOrigin(db.Model):
    """An origin (``https://host[:port]``) whose pages may frame the embeddable lists."""

    __tablename__ = "embed_origin"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # Whose website it is, for the coordinator's overview (e.g. "Gemeente Stichtse Vecht").
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<EmbedOrigin {self.origin}>"
