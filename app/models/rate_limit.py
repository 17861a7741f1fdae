"""Counters of attempts for the rate limits (see app.services.rate_limits).

A counter holds no personal data: its key names the limit and a keyed hash of the address,
e-mail address or code that was tried. It is worthless once it has expired.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class RateLimitCounter(db.Model):
    """The number of attempts counted against one limit in its current window."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)
    # The end of the window: from then on the counter counts as zero and may be deleted.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
