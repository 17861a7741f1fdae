"""What the staff menu offers beyond each area's own pages: shared by the blueprints whose
pages show the referrals part of the menu (referrals, courses)."""

from flask_login import current_user

from app.permissions import Action, can


def referral_menu() -> dict:
    """Which parts of the referrals area the user's menu offers."""
    if not current_user.is_authenticated:
        return {}
    return {
        "menu_counts": can(current_user, Action.REFERRAL_COUNTS),
        "menu_audit": can(current_user, Action.READ_AUDIT_LOG, current_user.organisation),
        "menu_profile": can(current_user, Action.MANAGE, current_user.organisation),
    }
