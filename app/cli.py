"""Command-line tasks: demo data, default topics, the first coordinator account."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app

from app import demo
from app.extensions import db
from app.models import Organisation, OrganisationKind, Role
from app.services import DomainError, accounts, mail, occurrence_index, retention
from app.transactions import writing


def register(app: Flask) -> None:
    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database has data.")
    def demo_data(if_empty: bool) -> None:
        """Load the demo region (Stichtse Vecht) into an empty database."""
        if not demo.database_is_empty():
            if if_empty:
                click.echo("The database already has data; demo data not loaded.")
                _echo_saved_logins()
                return
            raise click.ClickException("The database is not empty; demo data not loaded.")
        logins = demo.load()
        lines = [
            f"{role:<12} {name:<16} {email:<52} {password}"
            for role, name, email, password in logins
        ]
        path = Path(current_app.instance_path) / "demo-logins.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
        click.echo("Demo data loaded. Demo logins (also in instance/demo-logins.txt):")
        click.echo("\n".join(lines))

    @app.cli.command("retention")
    def retention_command() -> None:
        """Erase personal data that is past its retention period (run daily)."""
        report = retention.run()
        click.echo(
            f"Bookings erased: {report.bookings_erased}; "
            f"mail messages deleted: {report.messages_deleted}."
        )
        click.echo(
            f"Referrals erased: {report.referrals_erased} closed, "
            f"{report.open_referrals_erased} open without change for too long."
        )
        click.echo(f"Course sign-ups erased: {report.course_sign_ups_erased}.")
        click.echo(f"Audit entries deleted: {report.audit_entries_deleted}.")
        click.echo(f"Expired rate-limit counters deleted: {report.rate_limit_counters_deleted}.")
        click.echo(f"Initials of earlier visits erased: {report.visit_initials_erased}.")
        click.echo(f"Expired login sessions deleted: {report.login_sessions_deleted}.")

    @app.cli.command("send-mail")
    def send_mail_command() -> None:
        """Send the waiting messages in the outbox (run every few minutes)."""
        sent, failed = mail.send_all_due()
        click.echo(f"Sent: {sent}; failed, will retry: {failed}.")

    @app.cli.command("index-occurrences")
    @click.option("--rebuild", is_flag=True, help="Build the whole index again from scratch.")
    def index_occurrences(rebuild: bool) -> None:
        """Move the index of coming occurrences forward to today (run daily)."""
        with writing():
            report = occurrence_index.rebuild() if rebuild else occurrence_index.roll()
            db.session.commit()
        if report.rebuilt:
            click.echo(f"Index rebuilt: {report.occurrences_added} occurrences.")
        else:
            click.echo(
                f"Occurrences added: {report.occurrences_added}; "
                f"removed: {report.occurrences_removed}."
            )
        click.echo(f"The index covers {report.first_date} to {report.last_date}.")

    @app.cli.command("default-topics")
    def default_topics() -> None:
        """Create the standard topics (DigiD, Belastingdienst, ...) that are missing."""
        topics = demo.ensure_default_topics()
        click.echo(f"{len(topics)} topics present.")

    @app.cli.command("create-coordinator")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--organisation", required=True, help="Name of the library organisation.")
    def create_coordinator(email: str, name: str, organisation: str) -> None:
        """Create a network coordinator account and print its password once."""
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == organisation))
        if org is None:
            org = Organisation(name=organisation, kind=OrganisationKind.LIBRARY)
            db.session.add(org)
            db.session.flush()
        password = accounts.generate_password()
        try:
            accounts.create_user(
                organisation=org, name=name, email=email, role=Role.COORDINATOR, password=password
            )
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Coordinator {email} created. Password: {password}")


def _echo_saved_logins() -> None:
    path = Path(current_app.instance_path) / "demo-logins.txt"
    if path.exists():
        click.echo("Demo logins (instance/demo-logins.txt):")
        click.echo(path.read_text(encoding="utf-8").rstrip())
