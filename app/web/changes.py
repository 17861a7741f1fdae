"""A staff action's change: committed and said so, or rolled back and said why not."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from app.extensions import db
from app.services import DomainError


def commit_or_explain(change: Callable, success: Callable | None = None) -> bool:
    """Make ``change``: commit it and flash ``success(result)`` (when given), or, when the
    domain refuses it, roll it back and flash the reason. True when it was made."""
    try:
        result = change()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    if success is not None:
        flash(success(result), "success")
    return True
