"""Spreekuur: shared consultation hours, bookings, feeds and referrals for IDO networks."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Defaults
from app.extensions import babel, csrf, db, htmx, limiter, migrate

# The autocommit engine: it answers calendar clients' polls and writes rate-limit counts.
POLL_BIND = "feed_polls"
DEVELOPMENT_URL = "http://127.0.0.1:5000"  # the development server of ./dev.sh run
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the Spreekuur application."""
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates")
    _load_config(app, test_config)
    _settle_public_url(app)
    _trust_proxies(app)
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


def _settle_public_url(app: Flask) -> None:
    """Check PUBLIC_URL, which every link in a message is built on, and derive from it what
    was not set: the host names the app answers to and whether cookies need https.

    PUBLIC_URL is required in production (neither testing nor debugging); otherwise it
    defaults to the development server.
    """
    production = not app.config["TESTING"] and not app.config["DEBUG"]
    public_url = (app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not public_url:
        if production:
            raise RuntimeError(
                "PUBLIC_URL is required in production: set it to the address residents use, "
                "e.g. SPREEKUUR_PUBLIC_URL=https://spreekuur.example.org in the environment "
                "or PUBLIC_URL = '...' in instance/config.py. Links in mail are built on it."
            )
        public_url = DEVELOPMENT_URL
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise RuntimeError(
            f"PUBLIC_URL must be an http:// or https:// address with a host name, such as "
            f"https://spreekuur.example.org; it is {public_url!r}."
        )
    app.config["PUBLIC_URL"] = public_url

    trusted = app.config.get("TRUSTED_HOSTS")
    if isinstance(trusted, str):  # e.g. SPREEKUUR_TRUSTED_HOSTS="a.example, b.example"
        trusted = [host.strip() for host in trusted.split(",") if host.strip()]
    elif trusted is None and production:
        trusted = [parts.hostname]
        if parts.hostname in LOOPBACK_HOSTS:
            trusted += [host for host in LOOPBACK_HOSTS if host != parts.hostname]
    app.config["TRUSTED_HOSTS"] = trusted

    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = parts.scheme == "https"


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_FIX_X_FOR proxies, take the client's address and scheme from the
    X-Forwarded-For and X-Forwarded-Proto headers they add (never the forwarded host)."""
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


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
    from app.auth import session as auth_session
    from app.services import rate_limits  # noqa: F401  (registers spreekuur+db://)
    from app.web import filters, page_cache, security
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
    auth_session.init_app(app)
    i18n.init_app(app)
    htmx_web.init_app(app)
    page_cache.init_app(app)
    security.init_app(app)
    filters.register(app)


def _register_url_converters(app: Flask) -> None:
    from app.web.converters import register

    register(app)


def _register_blueprints(app: Flask) -> None:
    from app.admin.routes import bp as admin_bp
    from app.api.routes import bp as api_bp
    from app.auth.routes import bp as auth_bp
    from app.booking.routes import bp as booking_bp
    from app.course_signup.desk import bp as course_desk_bp
    from app.course_signup.routes import bp as course_signup_bp
    from app.courses.routes import bp as courses_bp
    from app.desk.routes import bp as desk_bp
    from app.feeds.routes import bp as feeds_bp
    from app.figures.routes import bp as figures_bp
    from app.portal.routes import bp as portal_bp
    from app.public.routes import bp as public_bp
    from app.referrals.routes import bp as referrals_bp
    from app.registrations.routes import bp as registrations_bp
    from app.visits.routes import bp as visits_bp
    from app.waiting.routes import bp as waiting_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(course_signup_bp)
    app.register_blueprint(course_desk_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(figures_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(waiting_bp)


def _register_error_handlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
