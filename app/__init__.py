"""Spreekuur: shared consultation hours, bookings, feeds and referrals for IDO networks."""

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from app.config import Defaults
from app.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

# The autocommit engine: it answers calendar clients' polls and writes rate-limit counts.
POLL_BIND = "feed_polls"


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the Spreekuur application."""
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates")
    _load_config(app, test_config)
    _init_extensions(app)
    _register_url_converters(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_cli(app)
    return app


def _load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("SPREEKUUR")
        if os.environ.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _create_instance_secret(app)
    else:
        app.config.update(test_config)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or (
        f"sqlite:///{Path(app.instance_path) / 'spreekuur.db'}"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = uri = normalise_database_url(uri)
    if POLL_BIND not in app.config.setdefault("SQLALCHEMY_BINDS", {}) and not _in_memory(uri):
        # Calendar clients poll feeds on connections of their own: in autocommit mode (no
        # BEGIN or ROLLBACK round trips, and PostgreSQL keeps the prepared poll statement)
        # and without a ping before each use (the poll itself finds a dead connection and
        # is retried on a fresh one, see app.services.feeds). No model is bound to it.
        app.config["SQLALCHEMY_BINDS"][POLL_BIND] = {
            "url": uri,
            "isolation_level": "AUTOCOMMIT",
            "pool_pre_ping": False,
        }
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        # The counts must be shared by every worker: in the database, on the autocommit
        # engine. An in-memory database has no second connection and no second worker.
        app.config["RATELIMIT_STORAGE_URI"] = "memory://" if _in_memory(uri) else "spreekuur+db://"


def _in_memory(url: str) -> bool:
    """An in-memory SQLite database exists per connection: a second engine would not see it."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def dispose_engines() -> None:
    """Close every pooled connection of the current app (before its database goes away)."""
    for engine in db.engines.values():
        engine.dispose()


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _create_instance_secret(app: Flask) -> str:
    """Generate a secret key once and keep it in instance/config.py (never committed)."""
    path = Path(app.instance_path) / "config.py"
    key = secrets.token_hex(32)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n# Generated on first run; keep this file out of version control.\n")
        fh.write(f"SECRET_KEY = {key!r}\n")
    os.chmod(path, 0o600)
    return key


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite as a server database: foreign keys on, readers never blocked by a writer (WAL),
    and a writer waits for another instead of failing at once."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _init_extensions(app: Flask) -> None:
    from app import i18n, transactions
    from app.auth.session import load_user
    from app.services import rate_limits  # noqa: F401  (registers spreekuur+db://)
    from app.web import filters, security
    from app.web import htmx as htmx_web

    db.init_app(app)
    with app.app_context():
        for bind, engine in db.engines.items():
            if engine.dialect.name == "sqlite" and bind != POLL_BIND:
                transactions.sqlite_real_transactions(engine)
    migrate.init_app(
        app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    transactions.end_before_rate_limit_counts(app)  # after the limiter: runs before its count
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    i18n.init_app(app)
    htmx_web.init_app(app)
    security.init_app(app)
    filters.register(app)


def _register_url_converters(app: Flask) -> None:
    from app.web.converters import register

    register(app)


def _register_blueprints(app: Flask) -> None:
    from app.admin.routes import bp as admin_bp
    from app.auth.routes import bp as auth_bp
    from app.booking.routes import bp as booking_bp
    from app.courses.routes import bp as courses_bp
    from app.desk.routes import bp as desk_bp
    from app.feeds.routes import bp as feeds_bp
    from app.figures.routes import bp as figures_bp
    from app.portal.routes import bp as portal_bp
    from app.public.routes import bp as public_bp
    from app.referrals.routes import bp as referrals_bp
    from app.registrations.routes import bp as registrations_bp
    from app.visits.routes import bp as visits_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(figures_bp)


def _register_error_handlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
