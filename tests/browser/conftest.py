"""Browser fixtures: the app on a live server (CSRF on, as in production), one Debian Chromium
per session, fresh browser contexts per test, and an axe-core check for every page shown
(which also fails when the Content-Security-Policy blocked anything so far).

The database fixtures and factories of ``tests/conftest.py`` are reused: ``app`` is overridden
here by its CSRF-enabled sibling ``csrf_app``, so the factories write to the database the live
server reads, and the usual clean-up empties it after each test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.dates import format_date
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Organisation, OrganisationKind, Role, User

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
PASSWORD = "browser-journey-password"
DESKTOP = {"width": 1280, "height": 900}
# Chromium reports what the Content-Security-Policy blocks on the console, in these words.
POLICY_REPORT = "Content Security Policy"
# How long an action or an expectation waits for its condition. A journey waits only as long
# as the condition takes; this is the limit on a machine busy with other work (CI shares it).
PATIENCE_MS = 30_000
expect.set_options(timeout=PATIENCE_MS)

_axe = Axe()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, once per session; never a downloaded browser."""
    if not CHROMIUM.exists():
        reason = f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def app(csrf_app):
    """The browser meets the app as in production: with CSRF protection on."""
    return csrf_app


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve the app on a free local port in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url  # links in mail and feeds lead back to this server
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


class Pages:
    """Opens pages in fresh browser contexts and checks them with axe-core.

    axe cannot run in a page whose JavaScript is switched off (its timers never fire), so a
    JavaScript-free page is checked as a copy of its DOM in a JavaScript-enabled context in
    which the site's own scripts are blocked: what axe sees is exactly what that page shows.
    """

    def __init__(self, browser: Browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self._contexts: list[BrowserContext] = []
        self._script_free: set[BrowserContext] = set()
        self._audit_page: Page | None = None
        self._audit_html = ""
        self.policy_reports: list[str] = []

    def open(self, *, js: bool = True, locale: str = "en-US", viewport: dict | None = None) -> Page:
        """A new page in a new context (own cookies) with or without JavaScript."""
        context = self.browser.new_context(
            base_url=self.base_url,
            java_script_enabled=js,
            locale=locale,
            viewport=viewport or DESKTOP,
        )
        context.set_default_timeout(PATIENCE_MS)
        context.on("console", self._note_policy_report)
        self._contexts.append(context)
        if not js:
            self._script_free.add(context)
        return context.new_page()

    def _note_policy_report(self, message: ConsoleMessage) -> None:
        if POLICY_REPORT in message.text:
            where = message.page.url if message.page else "?"
            self.policy_reports.append(f"{where}: {message.text}")

    def check_policy_kept(self) -> None:
        """Fail when the Content-Security-Policy blocked a script, style or handler so far."""
        if self.policy_reports:
            pytest.fail(
                "The Content-Security-Policy blocked something:\n" + "\n".join(self.policy_reports),
                pytrace=False,
            )

    def check_accessible(self, page: Page) -> None:
        """Fail with a readable list when axe finds WCAG 2.0/2.1 A or AA violations (or the
        Content-Security-Policy blocked anything so far)."""
        page.wait_for_load_state()
        self.check_policy_kept()
        target = self._audit_copy(page) if page.context in self._script_free else page
        violations = _axe.run(target, options=AXE_OPTIONS).response["violations"]
        if violations:
            pytest.fail(
                f"axe found {len(violations)} accessibility violation(s) on {page.url}:\n"
                + format_violations(violations),
                pytrace=False,
            )

    def _audit_copy(self, page: Page) -> Page:
        """Show the DOM of a JavaScript-free page in the (reused) audit page, at its size."""
        self._audit_html = page.content()
        if self._audit_page is None:
            context = self.browser.new_context(base_url=self.base_url)
            context.route("**/*", self._serve_audit_copy)
            self._contexts.append(context)
            self._audit_page = context.new_page()
        self._audit_page.set_viewport_size(page.viewport_size or DESKTOP)
        self._audit_page.goto(page.url.split("#", 1)[0])
        return self._audit_page

    def _serve_audit_copy(self, route: Route) -> None:
        match route.request.resource_type:
            case "document":
                route.fulfill(
                    status=200, content_type="text/html; charset=utf-8", body=self._audit_html
                )
            case "script":
                route.abort()
            case _:
                route.fallback()

    def close(self) -> None:
        for context in self._contexts:
            context.close()


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"\n  {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            for summary_line in (node.get("failureSummary") or "").splitlines():
                lines.append(f"       {summary_line}")
    return "\n".join(lines)


@pytest.fixture
def pages(browser, live_server) -> Iterator[Pages]:
    """Open pages against the live server; every context is closed after the test."""
    opened = Pages(browser, live_server)
    yield opened
    opened.close()
    opened.check_policy_kept()


@pytest.fixture
def check_accessible(pages) -> Callable[[Page], None]:
    """Run axe (WCAG 2.0/2.1 A and AA) on the page as it is now and assert no violations."""
    return pages.check_accessible


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def js(request) -> bool:
    """Walk the journey once with JavaScript (htmx) and once without."""
    return request.param


@pytest.fixture
def page(pages, js) -> Page:
    """A desktop-sized page with English (the source language) as the browser's language."""
    return pages.open(js=js)


# The domain: a library hosting a partner organisation's hours ------------------------------


@pytest.fixture
def library(make_org) -> Organisation:
    return make_org(name="Bibliotheek Stichtse Vecht", kind=OrganisationKind.LIBRARY)


@pytest.fixture
def partner(make_org) -> Organisation:
    return make_org(name="Humanitas Stichtse Vecht", kind=OrganisationKind.PARTNER)


@pytest.fixture
def library_location(make_location, library):
    return make_location(
        organisation=library,
        name="Bibliotheek Maarssen",
        street="Binnenweg 1",
        postcode="3604 AB",
        city="Maarssen",
    )


@pytest.fixture
def partner_staff(make_account, partner, library_location, make_topic) -> User:
    """A staff member of the partner; the network has two topics and the library's location."""
    make_topic(slug="taxes", name_en="Taxes", name_nl="Belastingen")
    make_topic(slug="digid", name_en="DigiD", name_nl="DigiD")
    return make_account(Role.STAFF, partner, "Fatima Partner")


@pytest.fixture
def library_admin(make_account, library) -> User:
    return make_account(Role.ORG_ADMIN, library, "Lieke Library")


@pytest.fixture
def make_account(make_user) -> Callable[..., User]:
    """A user with a password the browser can type."""

    def make(role: Role, organisation: Organisation, name: str) -> User:
        user = make_user(role, organisation=organisation, name=name)
        user.set_password(PASSWORD)
        db.session.commit()
        return user

    return make


@pytest.fixture
def log_in(check_accessible) -> Callable[[Page, User], None]:
    """Log in through the login page, as a person would."""

    def do_log_in(page: Page, user: User) -> None:
        email = user.email
        page.goto("/auth/login")
        check_accessible(page)
        # Password managers and autofill recognise the fields (WCAG 1.3.5).
        expect(page.get_by_label("Email address", exact=True)).to_have_attribute(
            "autocomplete", "username"
        )
        expect(page.get_by_label("Password", exact=True)).to_have_attribute(
            "autocomplete", "current-password"
        )
        page.get_by_label("Email address", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
        check_accessible(page)

    return do_log_in


def tap(page: Page, target) -> None:
    """Tap where the target is shown, whatever element takes the tap there (a card whose
    link covers it takes taps on its visible action)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None, "nothing to tap"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def staff_menu(page: Page):
    """The staff menu, opened where it is folded (on a phone)."""
    menu = page.get_by_role("navigation", name="Staff menu")
    folded = menu.locator("details.staff-menu:not([open]) > summary")
    if folded.is_visible():
        folded.click()
    return menu


def english_day(day: date) -> str:
    """A date as the English pages write it, e.g. 'Thursday 4 December 2025'."""
    return format_date(day, "EEEE d MMMM y", locale="en")


@pytest.fixture
def day_text() -> Callable[[date], str]:
    return english_day


# Screen sizes: journeys run on a desktop and on a 320 px wide phone -----------------------

NARROW = {"width": 320, "height": 640}


@pytest.fixture(params=[DESKTOP, NARROW], ids=["desktop", "320px"])
def viewport(request) -> dict:
    """Walk the journey on a desktop screen and on a 320 CSS pixel wide one (WCAG 1.4.10)."""
    return request.param


def page_width(page: Page) -> int:
    """How wide the page's content is: more than the viewport means sideways scrolling."""
    return page.evaluate("document.scrollingElement.scrollWidth")


@pytest.fixture
def check_page(check_accessible, request) -> Callable[[Page], None]:
    """Check a page as shown now: axe finds no violations and nothing needs sideways scrolling.

    With BROWSER_SCREENSHOTS=<folder> set, every checked page is also saved as a full-page
    screenshot there, named after the test, to look at the pages by eye.
    """
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    counter = iter(range(1, 1000))

    def check(page: Page) -> None:
        check_accessible(page)
        width = (page.viewport_size or DESKTOP)["width"]
        assert page_width(page) <= width, f"{page.url} scrolls sideways at {width} px"
        if shots:
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
            folder = Path(shots)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=folder / f"{name}-{next(counter):02d}.png", full_page=True)

    return check
